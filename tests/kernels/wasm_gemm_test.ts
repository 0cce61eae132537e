import assert from "node:assert/strict";
import type { GemmOptions } from "../../kernels/backend.ts";
import { gemmRef } from "../../kernels/gemm/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { gemmF32, releaseGemmF32 } from "../../kernels/wasm/gemm_f32.ts";
import { assertClose } from "../_util.ts";

/**
 * Tolerance: |ours - ref| <= ATOL + RTOL * mag, where mag = |alpha| sum_k |a_ik| |b_kj| +
 * |beta| |c_ij| is the magnitude of the terms (float32 rounding error scales with it, not with the
 * possibly cancelling result). The reference accumulates in float64.
 */
const ATOL = 1e-5, RTOL = 1e-5;

function randn(n: number, rng: Rng): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  return x;
}

const abs = (x: Float32Array) => x.map(Math.abs);

/** Runs gemmF32 and gemmRef on copies of `c` and checks them within the stated tolerance. */
function checkAgainstRef(
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
  opts: GemmOptions,
  label: string,
): Float32Array {
  const ours = c.slice(), ref = c.slice();
  gemmF32(ours, a, b, M, N, K, opts);
  gemmRef(ref, a, b, M, N, K, opts);
  const mag = abs(c);
  const absOpts = { ...opts, alpha: Math.abs(opts.alpha ?? 1), beta: Math.abs(opts.beta ?? 0) };
  gemmRef(mag, abs(a), abs(b), M, N, K, absOpts);
  // compare (ours - ref) / (ATOL + RTOL * mag) against 0 with unit tolerance
  const scaled = ours.map((v, i) => (v - ref[i]) / (ATOL + RTOL * mag[i]));
  assertClose(scaled, new Float32Array(c.length), 1, 0, label);
  return ours;
}

Deno.test("gemmF32() matches gemmRef on odd shapes for every transpose", () => {
  const rng = new Rng(1234, 1);
  // (M, N, K): 300 rows span several 128-row chunks, K = 600 several 256-long K blocks
  const shapes = [[1, 1, 1], [5, 3, 7], [37, 19, 23], [197, 197, 128], [300, 41, 600], [3, 9, 0]];
  for (const [M, N, K] of shapes) {
    const a = randn(M * K, rng), b = randn(K * N, rng), c = randn(M * N, rng);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const label = `${M}x${N}x${K} transA=${transA} transB=${transB}`;
        checkAgainstRef(c, a, b, M, N, K, { transA, transB }, label);
      }
    }
  }
});

Deno.test("gemmF32() applies alpha and beta", () => {
  const rng = new Rng(1234, 2);
  const M = 13, N = 17, K = 29;
  const a = randn(M * K, rng), b = randn(K * N, rng), c = randn(M * N, rng);
  for (const [alpha, beta] of [[0.5, -1.5], [-2, 0], [1, 1], [0, 0.25]]) {
    const ours = checkAgainstRef(c, a, b, M, N, K, { alpha, beta }, `alpha=${alpha} beta=${beta}`);
    if (alpha === 0) assertClose(ours, c.map((v) => v * beta), 1e-7, 1e-7, "alpha=0");
  }
});

Deno.test("gemmF32() with beta = 0 never reads C", () => {
  const rng = new Rng(1234, 3);
  const M = 9, N = 11, K = 6;
  const a = randn(M * K, rng), b = randn(K * N, rng);
  for (const alpha of [1, 2]) {
    const c = new Float32Array(M * N).fill(NaN);
    c[5] = Infinity;
    gemmF32(c, a, b, M, N, K, { alpha });
    const ref = new Float32Array(M * N);
    gemmRef(ref, a, b, M, N, K, { alpha });
    assert.ok(c.every(Number.isFinite), "stale NaN/Infinity leaked into C");
    assertClose(c, ref, 1e-4, 1e-4, `alpha=${alpha}`);
  }
});

Deno.test("gemmF32() with beta = 1 rounds as product + C on every store path", () => {
  const rng = new Rng(1234, 9);
  // N = 16 with ldc = N adds C inside the kernel (K <= 256: one block); N = 13, a strided C and
  // K = 300 (two blocks) add it on the host. Each must equal fround(product + C) bit for bit.
  for (
    const [M, N, K, ldc] of [[7, 16, 40, 16], [7, 16, 300, 16], [7, 13, 40, 13], [7, 16, 40, 20]]
  ) {
    const a = randn(M * K, rng), b = randn(K * N, rng), c = randn(M * ldc, rng);
    const product = new Float32Array(M * ldc);
    gemmF32(product, a, b, M, N, K, { ldc });
    const ours = c.slice();
    gemmF32(ours, a, b, M, N, K, { beta: 1, ldc });
    const expected = c.slice();
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) expected[i * ldc + j] = product[i * ldc + j] + c[i * ldc + j];
    }
    assert.deepEqual(ours, expected, `M ${M} N ${N} K ${K} ldc ${ldc}`);
  }
});

Deno.test("gemmF32() packs in the kernel's memory exactly as on the host", () => {
  // Dense operands are copied into the kernel's memory and packed with SIMD; the same values in a
  // view 3x wider than needed are packed by the host loops. Partial panels (M % 4, N % 8) and a
  // K % 4 tail on both paths; every transpose. The two must agree bit for bit.
  const rng = new Rng(1234, 10);
  const M = 19, N = 27, K = 23, W = 3;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const [ra, ca] = transA ? [K, M] : [M, K], [rb, cb] = transB ? [N, K] : [K, N];
      const a = randn(ra * ca, rng), b = randn(rb * cb, rng);
      const wideA = new Float32Array(ra * ca * W), wideB = new Float32Array(rb * cb * W);
      for (let r = 0; r < ra; r++) wideA.set(a.subarray(r * ca, (r + 1) * ca), r * ca * W);
      for (let r = 0; r < rb; r++) wideB.set(b.subarray(r * cb, (r + 1) * cb), r * cb * W);
      const dense = new Float32Array(M * N), sparse = new Float32Array(M * N);
      gemmF32(dense, a, b, M, N, K, { transA, transB });
      gemmF32(sparse, wideA, wideB, M, N, K, { transA, transB, lda: ca * W, ldb: cb * W });
      assert.deepEqual(dense, sparse, `transA ${transA} transB ${transB}`);
      checkAgainstRef(dense.fill(0), a, b, M, N, K, { transA, transB }, "dense vs ref");
    }
  }
});

Deno.test("gemmF32() handles batch strides, offsets and leading dimensions", () => {
  const rng = new Rng(1234, 4);
  const M = 21, N = 13, K = 10, batch = 3;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      // leading dimensions wider than the stored rows, gaps between batch items, offsets
      const lda = (transA ? M : K) + 5, ldb = (transB ? K : N) + 3, ldc = N + 7;
      const strideA = lda * (transA ? K : M) + 11;
      const strideC = ldc * M + 2;
      for (const strideB of [ldb * (transB ? N : K) + 4, 0]) {
        const opts: GemmOptions = {
          transA,
          transB,
          batch,
          lda,
          ldb,
          ldc,
          strideA,
          strideB,
          strideC,
          offsetA: 7,
          offsetB: 3,
          offsetC: 5,
          alpha: 1.25,
          beta: 0.5,
        };
        const a = randn(7 + batch * strideA, rng);
        const b = randn(3 + (batch - 1) * strideB + ldb * (transB ? N : K), rng);
        const c = randn(5 + batch * strideC, rng);
        const label = `transA=${transA} transB=${transB} strideB=${strideB}`;
        const ours = checkAgainstRef(c, a, b, M, N, K, opts, label);
        // elements of C outside the batch's (M, N) blocks are left alone
        const ref = c.slice();
        gemmRef(ref, a, b, M, N, K, opts);
        for (let i = 0; i < c.length; i++) {
          if (ref[i] === c[i]) assert.equal(ours[i], c[i], `${label}: C[${i}] was touched`);
        }
      }
    }
  }
});

Deno.test("gemmF32() is deterministic and each element ignores M and batch", () => {
  const rng = new Rng(1234, 5);
  const M = 150, N = 70, K = 531;
  const a = randn(M * K, rng), b = randn(K * N, rng);
  const c1 = new Float32Array(M * N), c2 = new Float32Array(M * N);
  gemmF32(c1, a, b, M, N, K);
  gemmF32(c2, a, b, M, N, K);
  assert.deepEqual(c2, c1);
  // rows 37..41 alone (another chunking, another padding) give the same bits
  const rows = new Float32Array(5 * N);
  gemmF32(rows, a.subarray(37 * K), b, 5, N, K);
  assert.deepEqual(rows, c1.subarray(37 * N, 42 * N));
  // the same product as item 1 of a batch gives the same bits
  const twice = new Float32Array(2 * M * N);
  gemmF32(twice, a, b, M, N, K, { batch: 2, strideA: 0, strideB: 0 });
  assert.deepEqual(twice.subarray(M * N), c1);
});

Deno.test("releaseGemmF32() leaves gemmF32() working with a fresh instance", () => {
  const a = new Float32Array([1, 2, 3, 4, 5, 6]), b = new Float32Array([1, 0, 2, 1, 0, 3]);
  const before = new Float32Array(4), after = new Float32Array(4);
  gemmF32(before, a, b, 2, 2, 3);
  releaseGemmF32();
  gemmF32(after, a, b, 2, 2, 3);
  assert.deepEqual(after, new Float32Array([5, 11, 14, 23]));
  assert.deepEqual(before, after);
});

Deno.test("gemmF32() passes Float64Array products to gemmRef", () => {
  const a = new Float64Array([1, 2, 3, 4]), b = new Float64Array([1e-9, 1, 1, 0]);
  const c = new Float64Array(4);
  gemmF32(c, a, b, 2, 2, 2);
  const ref = new Float64Array(4);
  gemmRef(ref, a, b, 2, 2, 2);
  assert.deepEqual(c, ref);
  assert.notEqual(c[0], Math.fround(c[0]), "float64 precision was lost");
});

Deno.test("gemmF32() rejects arrays too short for the product", () => {
  const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(4);
  assert.throws(() => gemmF32(c, a, b, 2, 2, 3, { offsetA: 1 }), RangeError);
  assert.throws(() => gemmF32(c, a, b, 2, 2, 3, { batch: 2 }), RangeError);
  assert.throws(() => gemmF32(c, a, b, 2, 2, 3, { ldc: 3 }), RangeError);
  assert.throws(() => gemmF32(c, a, b, -1, 2, 3), RangeError);
});
