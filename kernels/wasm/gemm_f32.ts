/**
 * WASM-SIMD GEMM over host Float32Arrays, the fast path of the CPU backend's products, with the
 * semantics of `Backend.gemm` (`GemmOptions` in kernels/backend.ts; reference: `gemmRef` in
 * kernels/gemm/cpu.ts).
 *
 * Per batch item: op(B) is packed once into 8-column panels, then op(A) is packed 128 rows at a
 * time into 4-row panels and the kernel (kernels/wasm/gemm.wat) multiplies them with a 4x8
 * register tile, K blocked by 256; the host finally applies alpha and beta while copying the
 * chunk into C, or, when C's rows are contiguous and a multiple of 8 wide with alpha = 1, copies
 * C in (beta = 1) and out with one memcpy each, the kernel adding C itself. Accumulation is
 * float32 (the reference accumulates in float64).
 *
 * Deterministic: each element of C is a fixed sequence of float32 multiplies and adds that
 * depends only on K (not on M, N, batch or the machine: no fused multiply-add).
 */
import {
  type GemmFn,
  gemmRef,
  type PlainGemmFn,
  resolveGemm,
  type RowBiasGemm,
} from "../gemm/cpu.ts";
import { type GemmInstance, gemmInstance, releaseGemmInstance } from "./_gemm_instance.ts";
import { MR, NR, packA, packB } from "./_gemm_pack.ts";
import { GEMM_JOB, gemmCols, gemmRows } from "./_gemm_share.ts";
import { closeKernelPool, JobKind, type KernelPool, kernelPool } from "./pool.ts";

/** K unroll of the kernel: K is zero-padded to a multiple of it. */
const KU = 4;
/** K block: a (256, 8) B panel (8 KiB) stays in L1 while it meets every A panel of the chunk. */
const KC = 256;
/** Rows of A per chunk: bounds the scratch memory to (B panels) + 128 * (K + N) floats. */
const MC = 128;
/**
 * Multiply-adds from which a product is split between threads (when more than one is set,
 * kernels/wasm/pool.ts): about 25 microseconds of kernel time, well above the cost of waking
 * a worker.
 */
const THREADED_MIN_MACS = 1 << 20;

/**
 * `C[p] = alpha op(A[p]) op(B[p]) + beta C[p]` for every batch item `p`, on Float32Arrays;
 * `beta = 0` never reads C. Other array types (Float64Array, for finite differences) are passed
 * to `gemmRef`. Its `rowBias` form (`gemmRowBiasF32`) serves biased linear layers.
 *
 * @example
 * ```ts
 * import { gemmF32 } from "./gemm_f32.ts";
 * import assert from "node:assert/strict";
 * const c = new Float32Array(4); // (2, 2)
 * // (2, 2) @ (2, 2) swapping the columns
 * gemmF32(c, new Float32Array([1, 2, 3, 4]), new Float32Array([0, 1, 1, 0]), 2, 2, 2);
 * assert.deepEqual(c, new Float32Array([2, 1, 4, 3]));
 * ```
 */
export const gemmF32: GemmFn = Object.assign(
  ((c, a, b, M, N, K, opts) => {
    if (!(c instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) {
      gemmRef(c, a, b, M, N, K, opts);
      return;
    }
    gemmCore(c, a, b, M, N, K, resolveGemm(M, N, K, opts), null);
  }) satisfies PlainGemmFn,
  { rowBias: gemmRowBiasF32 },
);

/**
 * The `rowBias` form of `gemmF32`: the kernel adds the row itself, without the fill of C and its
 * copy into the kernel's memory. Only where `gemmF32` with beta = 1 adds C inside the kernel (one
 * K block, rows of C contiguous and a multiple of 8 wide, one batch item, alpha 1).
 */
function gemmRowBiasF32(...[c, a, b, bias, M, N, K, opts]: Parameters<RowBiasGemm>): boolean {
  if (!(c instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array)) {
    return false;
  }
  if (!(bias instanceof Float32Array) || bias.length < N) return false;
  const g = resolveGemm(M, N, K, { ...opts, beta: 1 });
  if (g.batch !== 1 || !kernelAddsC(g, N, paddedK(K))) return false;
  gemmCore(c, a, b, M, N, K, g, bias);
  return true;
}

/** `gemmF32` on float32 arrays, with the options resolved; `bias`: see `gemmRowBiasF32`. */
function gemmCore(
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  g: ReturnType<typeof resolveGemm>,
  bias: Float32Array | null,
): void {
  checkDim("M", M);
  checkDim("N", N);
  checkDim("K", K);
  checkDim("batch", g.batch);
  if (M === 0 || N === 0 || g.batch === 0) return;
  // stored shapes: (M, K) or (K, M) for A, (K, N) or (N, K) for B
  checkSpan(
    "A",
    a.length,
    g.offsetA,
    g.strideA,
    g.batch,
    g.transA ? K : M,
    g.transA ? M : K,
    g.lda,
  );
  checkSpan(
    "B",
    b.length,
    g.offsetB,
    g.strideB,
    g.batch,
    g.transB ? N : K,
    g.transB ? K : N,
    g.ldb,
  );
  checkSpan("C", c.length, g.offsetC, g.strideC, g.batch, M, N, g.ldc);

  const kpad = paddedK(K);
  const np = Math.ceil(N / NR), npad = np * NR;
  const direct = kernelAddsC(g, N, kpad), acc = kernelAcc(direct, g.beta, bias);
  const inst = gemmInstance();
  const pool = M * N * K >= THREADED_MIN_MACS ? kernelPool() : null;
  if (pool !== null && pool.readySlots().length > 0) {
    const spanA = denseSpan(g.transA ? K : M, g.transA ? M : K, g.lda);
    if (spanA > 0) {
      gemmThreaded(inst, pool, c, a, b, bias, g, M, N, K, kpad, np, spanA, direct);
      return;
    }
  }
  const mc = Math.min(MC, Math.ceil(M / MR) * MR);
  // Operands whose stored span is dense enough are first copied into the kernel's memory (one
  // memcpy) and packed there with SIMD; sparse views (one head inside qkv) are packed from the
  // caller's array by the host loops. Spans in floats, 0 = not staged.
  const spanB = denseSpan(g.transB ? N : K, g.transB ? K : N, g.ldb);
  const spanA = denseSpan(g.transA ? K : mc, g.transA ? mc : K, g.lda);
  // scratch floats: B panels (npad, kpad) | A panels (mc, kpad) | C work (mc, npad) | B copy |
  // A copy | bias row (npad, when given)
  const bOff = 0, aOff = npad * kpad, cOff = aOff + mc * kpad;
  const sbOff = cOff + mc * npad, saOff = sbOff + spanB, biasOff = saOff + spanA;
  const f = inst.reserve((biasOff + (bias === null ? 0 : npad)) * 4);
  if (bias !== null) f.set(bias.subarray(0, N), biasOff);
  const kernel = inst.exports.gemm;
  const wB = spanB > 0 ? inst.exports : null, wA = spanA > 0 ? inst.exports : null;

  // a batch stride of 0 (shared weight) packs once
  let packedB = -1, packedA = -1;
  for (let p = 0; p < g.batch; p++) {
    const oa = g.offsetA + p * g.strideA;
    const ob = g.offsetB + p * g.strideB;
    const oc = g.offsetC + p * g.strideC;
    if (ob !== packedB) {
      if (wB !== null) {
        // the whole stored B: rows N (trans) or K, each ldb apart
        f.set(b.subarray(ob, ob + spanB), sbOff);
        packB(f, bOff, f, sbOff, g.ldb, g.transB, N, K, kpad, wB);
      } else {
        packB(f, bOff, b, ob, g.ldb, g.transB, N, K, kpad);
      }
      packedB = ob;
    }
    for (let m0 = 0; m0 < M; m0 += mc) {
      const m1 = Math.min(M, m0 + mc);
      if (oa !== packedA || mc < M) {
        if (wA !== null) {
          // rows m0..m1 of op(A): stored rows m0..m1 (untransposed) or columns m0..m1 of K rows
          const from = oa + (g.transA ? m0 : m0 * g.lda);
          const to = from + (g.transA ? (K - 1) * g.lda + m1 - m0 : (m1 - m0 - 1) * g.lda + K);
          f.set(a.subarray(from, to), saOff);
          packA(f, aOff, f, saOff, g.lda, g.transA, 0, m1 - m0, K, kpad, wA);
        } else {
          packA(f, aOff, a, oa, g.lda, g.transA, m0, m1, K, kpad);
        }
        packedA = oa;
      }
      const mp = Math.ceil((m1 - m0) / MR);
      if (direct) {
        // C rows are the C work rows: memcpy in (beta = 1; the kernel adds a bias row itself),
        // accumulate, memcpy out
        const c0 = oc + m0 * N, c1 = oc + m1 * N;
        if (acc === 1) f.set(c.subarray(c0, c1), cOff);
        kernel(mp, np, kpad, KC, aOff * 4, bOff * 4, cOff * 4, npad * 4, acc, biasOff * 4);
        c.set(f.subarray(cOff, cOff + (c1 - c0)), c0);
      } else {
        kernel(mp, np, kpad, KC, aOff * 4, bOff * 4, cOff * 4, npad * 4, 0, 0);
        storeC(c, oc + m0 * g.ldc, g.ldc, f, cOff, npad, m1 - m0, N, g.alpha, g.beta);
      }
    }
  }
}

/**
 * Drops the kernel instance and its scratch memory (which only grows, to the largest product so
 * far); the next `gemmF32` call compiles a fresh one. For `Backend.destroy()`.
 */
export function releaseGemmF32(): void {
  closeKernelPool();
  releaseGemmInstance();
}

/**
 * `gemmF32` with each batch item split between the pool's threads, the whole stored op(A) (a
 * dense span of `spanA` floats) copied into the memory and C accumulated in a C work of all M
 * rows, which is then stored here. Split by rows of op(A) with op(B) packed once here, or, when B
 * is staged too and has more columns than A has rows (weight gradients), by B panels, each thread
 * packing its own. Each element is computed as on one thread (kernels/wasm/_gemm_share.ts), so
 * the bits are the same.
 */
function gemmThreaded(
  inst: GemmInstance,
  pool: KernelPool,
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array | null,
  g: ReturnType<typeof resolveGemm>,
  M: number,
  N: number,
  K: number,
  kpad: number,
  np: number,
  spanA: number,
  direct: boolean,
): void {
  const npad = np * NR, mpad = Math.ceil(M / MR) * MR, mc = Math.min(MC, mpad);
  const spanB = denseSpan(g.transB ? N : K, g.transB ? K : N, g.ldb);
  // floats: B panels (npad, kpad) | C work (mpad, npad) | B copy | A copy | bias row (npad) |
  // per thread A panels
  const bOff = 0, cOff = npad * kpad, sbOff = cOff + mpad * npad, saOff = sbOff + spanB;
  const biasOff = saOff + spanA;
  const scratch0 = biasOff + (bias === null ? 0 : npad), scratchFloats = mc * kpad;
  const bytes = (scratch0 + pool.threads * scratchFloats) * 4;
  const byCols = spanB > 0 && N > M;
  const f = inst.reserve(bytes);
  if (bias !== null) f.set(bias.subarray(0, N), biasOff);
  const w = inst.exports;
  const job = {
    K,
    kpad,
    kc: KC,
    lda: g.lda,
    transA: g.transA,
    np,
    npad,
    saOff,
    bOff,
    cOff,
    acc: kernelAcc(direct, g.beta, bias),
    biasOff,
    mc,
    scratch0,
    scratchFloats,
    N,
    ldb: g.ldb,
    transB: g.transB,
    sbOff,
    M,
  };
  GEMM_JOB.write(pool.control, pool.control64, job);
  let stagedB = -1; // a batch stride of 0 (shared weight) stages and packs once
  for (let p = 0; p < g.batch; p++) {
    const oa = g.offsetA + p * g.strideA;
    const ob = g.offsetB + p * g.strideB;
    const oc = g.offsetC + p * g.strideC;
    if (ob !== stagedB) {
      if (spanB > 0) f.set(b.subarray(ob, ob + spanB), sbOff);
      // by columns, each thread packs its own panels from the staged copy
      if (!byCols) {
        if (spanB > 0) packB(f, bOff, f, sbOff, g.ldb, g.transB, N, K, kpad, w);
        else packB(f, bOff, b, ob, g.ldb, g.transB, N, K, kpad);
      }
      stagedB = ob;
    }
    f.set(a.subarray(oa, oa + spanA), saOff);
    if (job.acc === 1) f.set(c.subarray(oc, oc + M * N), cOff);
    if (byCols) pool.run(JobKind.gemmCols, np, 1, (j0, j1) => gemmCols(f, w, job, j0, j1, 0));
    else pool.run(JobKind.gemmRows, M, MR, (m0, m1) => gemmRows(f, w, job, m0, m1, 0));
    if (direct) c.set(f.subarray(cOff, cOff + M * N), oc);
    else storeC(c, oc, g.ldc, f, cOff, npad, M, N, g.alpha, g.beta);
  }
}

/** K zero-padded to the kernel's unroll (at least one unroll). */
function paddedK(K: number): number {
  return Math.max(KU, Math.ceil(K / KU) * KU);
}

/**
 * Whether C's rows are the C work's rows (contiguous, no padding columns, alpha = 1), so that C
 * is copied in and out whole and the kernel itself adds C for beta = 1: `c + sum` instead of
 * `sum + c`, the same bits as long as the sum is one K block (later blocks would add to c +
 * partial sum instead).
 */
function kernelAddsC(g: ReturnType<typeof resolveGemm>, N: number, kpad: number): boolean {
  return g.alpha === 1 && g.ldc === N && N % NR === 0 &&
    (g.beta === 0 || (g.beta === 1 && kpad <= KC));
}

/**
 * The kernel's `acc` mode: 2 adds the bias row, 1 adds C (which the caller then copies into the
 * C work first), 0 overwrites; only a `direct` product (C rows = C work rows) adds anything.
 */
function kernelAcc(direct: boolean, beta: number, bias: Float32Array | null): number {
  return bias !== null ? 2 : direct ? beta : 0;
}

/** `C rows = alpha W + beta C` from the C work (rows, npad) at `w`; beta = 0 never reads C. */
function storeC(
  c: Float32Array,
  oc: number,
  ldc: number,
  f: Float32Array,
  w: number,
  npad: number,
  rows: number,
  N: number,
  alpha: number,
  beta: number,
): void {
  for (let i = 0; i < rows; i++, oc += ldc, w += npad) {
    if (beta === 1 && alpha === 1) {
      // bias or gradient accumulation: the common beta case; same rounding as the general line
      for (let j = 0; j < N; j++) c[oc + j] = f[w + j] + c[oc + j];
    } else if (beta !== 0) {
      for (let j = 0; j < N; j++) c[oc + j] = alpha * f[w + j] + beta * c[oc + j];
    } else if (alpha !== 1) {
      for (let j = 0; j < N; j++) c[oc + j] = alpha * f[w + j];
    } else if (N >= 64) {
      c.set(f.subarray(w, w + N), oc); // memcpy; a view per row costs more below 64
    } else {
      for (let j = 0; j < N; j++) c[oc + j] = f[w + j];
    }
  }
}

/**
 * Floats spanned by a stored (rows, cols) matrix with row stride ld, when copying that span costs
 * at most twice its elements; 0 otherwise (or when empty).
 */
function denseSpan(rows: number, cols: number, ld: number): number {
  if (rows === 0 || cols === 0) return 0;
  const span = (rows - 1) * ld + cols;
  return span <= 2 * rows * cols ? span : 0;
}

/** Throws a RangeError unless `v` is a non-negative integer. */
function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) {
    throw new RangeError(`Cannot run gemm: ${name} must be a non-negative integer, got ${v}`);
  }
}

/** Throws a RangeError unless every element of a (rows, cols) batch with row stride ld exists. */
function checkSpan(
  name: string,
  length: number,
  offset: number,
  stride: number,
  batch: number,
  rows: number,
  cols: number,
  ld: number,
): void {
  if (rows === 0 || cols === 0) return;
  const last = offset + (batch - 1) * stride;
  const lo = Math.min(offset, last), hi = Math.max(offset, last) + (rows - 1) * ld + cols - 1;
  if (!(lo >= 0 && hi < length)) {
    throw new RangeError(
      `Cannot run gemm: ${name} needs elements ${lo}..${hi} but has length ${length}`,
    );
  }
}
