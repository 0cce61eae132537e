/**
 * The `cpu` backend: the compute engine on the host, in TypeScript.
 *
 * A tensor is a plain `Float32Array` inside a `CpuTensor`. Every kernel runs synchronously when
 * called, so `read()` and `sync()` resolve at once; `read()` returns a copy. Each kernel family
 * lives in `kernels/<family>/cpu.ts` as a plain-loop `xForward`/`xBackward` pair over host arrays
 * (float32 here, float64 in the finite-difference tests); this file only checks arguments and
 * dispatches to them.
 *
 * Every matrix product (linear forward and backward, the four attention products) goes through
 * one injectable `GemmFn` with the `GemmOptions` semantics of kernels/backend.ts: the WASM-SIMD
 * `gemmF32` (kernels/wasm) by default, or any GEMM with the same signature passed as
 * `options.gemm` (tests pass the plain-loop `gemmRef` to check the fast path against it).
 * Everything else is plain loops with float64 accumulators in a fixed order (GELU from an
 * interpolation table of the reference erf, see kernels/activation/cpu.ts), so results are
 * deterministic; `axpby` and GELU run the same per-element operations in WASM SIMD
 * (kernels/wasm/elementwise_f32.ts), which gives the same bits. `gemmF32` and the whole-call
 * attention split large calls between worker threads when `MOTION_GRPO_CPU_THREADS` (or
 * `setCpuThreads`, kernels/wasm/pool.ts) asks for more than one; the bits do not depend on it.
 *
 * Conventions are those of kernels/backend.ts: forward kernels and activation gradients
 * overwrite, parameter gradients accumulate, masks are 1 = valid / 0 = padded. Arguments are
 * checked on every call: a tensor of another backend is a TypeError, a tensor too small for the
 * given dimensions or a bad dimension is a RangeError naming the argument. Element-wise kernels
 * and activations may write in place (`out` aliasing an input); the products (`gemm`, linear,
 * attention) and layernorm forward need outputs distinct from their inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createCpuBackend } from "./cpu_backend.ts";
 * const be = createCpuBackend();
 * const x = be.tensor([2, 2], [1, 2, 3, 4]);
 * const y = be.tensor([2, 2]);
 * be.axpby(y, x, 2, x, 1, 4); // y = 3x
 * assert.deepEqual([...await be.read(y)], [3, 6, 9, 12]);
 * ```
 */
import {
  type AdamWOptions,
  applyBackwardExtras,
  applyForwardExtras,
  type Backend,
  type BackendKind,
  checkExtras,
  type GemmOptions,
  type LinearBackwardExtras,
  type LinearForwardExtras,
  type MemoryStats,
  type RandomAddress,
  type Tensor,
} from "./backend.ts";
import { type GemmFn, gemmRef, resolveGemm } from "./gemm/cpu.ts";
import { axpbyF32, geluBackwardF32, geluForwardF32 } from "./wasm/elementwise_f32.ts";
import { gemmF32 } from "./wasm/gemm_f32.ts";
import { cpuThreads } from "./wasm/pool.ts";
import { adamw, clipFactor } from "./adamw/cpu.ts";
import { siluBackward, siluForward } from "./activation/cpu.ts";
import { attentionBackward, attentionForward } from "./attention/cpu.ts";
import { addPeriodic, copy2d, gatherRows, rowSumSqDiff, scaleRows } from "./elementwise/cpu.ts";
import { layernormBackward, layernormForward } from "./layernorm/cpu.ts";
import { linearBackward, linearForward } from "./linear/cpu.ts";
import { positionalTable } from "./positional/cpu.ts";
import { randn } from "./rng/cpu.ts";

/** Options of `createCpuBackend`. */
export interface CpuBackendOptions {
  /**
   * The GEMM every matrix product goes through; default the WASM-SIMD `gemmF32` (checked against
   * the plain-loop `gemmRef`, which tests inject to compare).
   */
  gemm?: GemmFn;
  /** Name shown by `describe()`; default "wasm-simd", "reference loops" for `gemmRef`, else "custom". */
  gemmName?: string;
}

/** A cpu tensor: a float32 host array with a shape. */
export class CpuTensor implements Tensor {
  readonly owner: BackendKind = "cpu";
  readonly shape: readonly number[];
  readonly size: number;
  #data: Float32Array | null;

  constructor(shape: readonly number[], data: Float32Array) {
    this.shape = [...shape];
    this.size = data.length;
    this.#data = data;
  }

  /** The backing array (no copy); throws once the tensor has been freed. */
  get data(): Float32Array {
    if (this.#data === null) {
      throw new Error(`Cannot use tensor of shape [${this.shape}]: it was freed`);
    }
    return this.#data;
  }

  /** Whether `free()` has released the array. */
  get freed(): boolean {
    return this.#data === null;
  }

  /** Drops the backing array. */
  release(): void {
    this.#data = null;
  }
}

/** Argument checks for one kernel call; every message names the kernel and the argument. */
class Check {
  constructor(readonly op: string) {}

  /** The array of `t`, after checking it is a live cpu tensor of at least `need` elements. */
  t(name: string, t: Tensor, need: number, what: string): Float32Array {
    if (!(t instanceof CpuTensor)) {
      const owner = (t as Partial<Tensor> | null)?.owner ?? typeof t;
      throw new TypeError(`Cannot run ${this.op}: "${name}" is not a cpu tensor (owner ${owner})`);
    }
    if (t.freed) throw new Error(`Cannot run ${this.op}: "${name}" was freed`);
    if (t.size < need) {
      throw new RangeError(
        `Cannot run ${this.op}: "${name}" has ${t.size} elements, needs ${need} (${what})`,
      );
    }
    return t.data;
  }

  /** As `t`, passing `null` through. */
  opt(name: string, t: Tensor | null, need: number, what: string): Float32Array | null {
    return t === null ? null : this.t(name, t, need, what);
  }

  /** Each value must be a non-negative integer. */
  dims(d: Record<string, number>): void {
    for (const k in d) {
      const v = d[k];
      if (!Number.isInteger(v) || v < 0) {
        throw new RangeError(
          `Cannot run ${this.op}: ${k} must be a non-negative integer, got ${v}`,
        );
      }
    }
  }

  /** Each value must be a finite number. */
  finite(d: Record<string, number>): void {
    for (const k in d) {
      const v = d[k];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new RangeError(`Cannot run ${this.op}: ${k} must be a finite number, got ${v}`);
      }
    }
  }
}

/** Elements a strided, batched (rows, cols) matrix operand spans, 0 when empty. */
function extent(
  batch: number,
  stride: number,
  offset: number,
  rows: number,
  cols: number,
  ld: number,
): number {
  if (batch === 0 || rows === 0 || cols === 0) return 0;
  return offset + (batch - 1) * stride + (rows - 1) * ld + cols;
}

/**
 * Bytes of freed tensor arrays a backend keeps for reuse at least; up to the peak of its live
 * tensors so far when that is more.
 */
const POOL_BYTES = 64 * 1024 ** 2;

class CpuBackend implements Backend {
  readonly kind: BackendKind = "cpu";
  readonly #gemm: GemmFn;
  readonly #gemmName: string;
  #destroyed = false;
  /** Tensors of this backend (a tensor of another backend never changes its accounting). */
  #mine = new WeakSet<CpuTensor>();
  #liveBytes = 0;
  #peakBytes = 0;
  /**
   * Arrays of freed tensors by length, handed to the next tensor of that size (zeroed): a step
   * allocates and frees the same shapes over and over, and fresh arrays cost page faults and
   * garbage collections. Up to POOL_BYTES are kept, or up to the live peak, so that what a step
   * frees at its end (a rollout's kept forwards: up to 256 MiB) serves the next one (a bound of
   * 64 MiB made a G 8, T 195 step 15-25% slower and its process peak larger: the dropped arrays
   * waited for the garbage collector while fresh ones were faulted in). A fresh array first drops
   * kept ones (`#evictFor`), so live and kept arrays together stay within the peak. They do not
   * count as live.
   */
  #pool = new Map<number, Float32Array[]>();
  #pooledBytes = 0;

  constructor(options: CpuBackendOptions) {
    this.#gemm = options.gemm ?? gemmF32;
    this.#gemmName = options.gemmName ??
      (this.#gemm === gemmF32
        ? "wasm-simd"
        : this.#gemm === gemmRef
        ? "reference loops"
        : "custom");
  }

  #check(op: string): Check {
    if (this.#destroyed) throw new Error(`Cannot run ${op}: the cpu backend was destroyed`);
    return new Check(op);
  }

  describe(): string {
    const threads = this.#gemm === gemmF32 ? cpuThreads() : 1;
    return `cpu (gemm: ${this.#gemmName}${threads > 1 ? `, ${threads} threads` : ""})`;
  }

  // ---- memory ------------------------------------------------------------------------------

  tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
    const k = this.#check("tensor");
    let size = 1;
    shape.forEach((d, i) => {
      k.dims({ [`shape[${i}]`]: d });
      size *= d;
    });
    if (data !== undefined && data.length !== size) {
      throw new RangeError(
        `Cannot run tensor: "data" has ${data.length} elements, shape [${shape}] needs ${size}`,
      );
    }
    const pooled = this.#takePooled(size);
    if (pooled === null) this.#evictFor(size * 4);
    const arr = pooled ?? new Float32Array(size);
    if (data !== undefined) arr.set(data);
    else if (pooled !== null) arr.fill(0); // a fresh array is zero already
    const t = new CpuTensor(shape, arr);
    this.#mine.add(t);
    this.#liveBytes += arr.byteLength;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes);
    return t;
  }

  write(t: Tensor, data: Float32Array, offset = 0): void {
    const k = this.#check("write");
    k.dims({ offset });
    k.t("t", t, offset + data.length, "offset + data.length").set(data, offset);
  }

  read(t: Tensor): Promise<Float32Array> {
    const k = this.#check("read");
    return Promise.resolve(k.t("t", t, 0, "any").slice());
  }

  readMany(ts: readonly Tensor[]): Promise<Float32Array[]> {
    return Promise.all(ts.map((t) => this.read(t)));
  }

  fill(t: Tensor, value: number): void {
    this.#check("fill").t("t", t, 0, "any").fill(value);
  }

  copy(dst: Tensor, src: Tensor, n?: number, dstOffset = 0, srcOffset = 0): void {
    const k = this.#check("copy");
    const count = n ?? src.size - srcOffset;
    k.dims({ n: count, dstOffset, srcOffset });
    const s = k.t("src", src, srcOffset + count, "srcOffset + n");
    const d = k.t("dst", dst, dstOffset + count, "dstOffset + n");
    // TypedArray.set copies through a temporary when both views share a buffer, so overlap is safe.
    d.set(s.subarray(srcOffset, srcOffset + count), dstOffset);
  }

  copy2d(
    dst: Tensor,
    src: Tensor,
    rows: number,
    cols: number,
    dstStride: number,
    dstOffset: number,
    srcStride: number,
    srcOffset: number,
  ): void {
    const k = this.#check("copy2d");
    k.dims({ rows, cols, dstStride, dstOffset, srcStride, srcOffset });
    const d = k.t("dst", dst, extent(1, 0, dstOffset, rows, cols, dstStride), "strided block");
    const s = k.t("src", src, extent(1, 0, srcOffset, rows, cols, srcStride), "strided block");
    copy2d(d, s, rows, cols, dstStride, dstOffset, srcStride, srcOffset);
  }

  free(t: Tensor): void {
    if (!(t instanceof CpuTensor)) {
      throw new TypeError(`Cannot run free: "t" is not a cpu tensor (owner ${t.owner})`);
    }
    // A second free of the same tensor releases nothing more.
    if (this.#mine.has(t) && !t.freed) {
      this.#liveBytes -= t.size * 4;
      this.#keepPooled(t.data);
    }
    t.release();
  }

  /** A pooled array of exactly `size` floats (contents stale), or null. */
  #takePooled(size: number): Float32Array | null {
    const list = this.#pool.get(size), arr = list?.pop();
    if (list === undefined || arr === undefined) return null;
    this.#pooledBytes -= arr.byteLength;
    // the size moves to the end of the map: eviction goes from the least recently used sizes
    this.#pool.delete(size);
    if (list.length > 0) this.#pool.set(size, list);
    return arr;
  }

  /**
   * Before a fresh array of `bytes`: drops kept arrays, the least recently used sizes first, until the live
   * tensors with it and the kept arrays fit within the peak so far, or within POOL_BYTES of kept
   * arrays beside the live ones (kept arrays of sizes no longer asked for would otherwise sit
   * beside fresh ones).
   */
  #evictFor(bytes: number): void {
    const live = this.#liveBytes + bytes;
    const bound = Math.max(this.#peakBytes, live + POOL_BYTES);
    for (const [size, list] of this.#pool) {
      if (live + this.#pooledBytes <= bound) return;
      while (list.length > 0 && live + this.#pooledBytes > bound) {
        this.#pooledBytes -= list.pop()!.byteLength;
      }
      if (list.length === 0) this.#pool.delete(size);
    }
  }

  /** Keeps the array of a freed tensor for reuse, unless the pool is full (see `#pool`). */
  #keepPooled(arr: Float32Array): void {
    const room = Math.max(POOL_BYTES, this.#peakBytes);
    if (arr.length === 0 || this.#pooledBytes + arr.byteLength > room) return;
    const list = this.#pool.get(arr.length) ?? [];
    list.push(arr);
    this.#pool.delete(arr.length); // to the end: the most recently used size
    this.#pool.set(arr.length, list);
    this.#pooledBytes += arr.byteLength;
  }

  memory(): MemoryStats {
    return { liveBytes: this.#liveBytes, peakBytes: this.#peakBytes };
  }

  resetPeak(): void {
    this.#peakBytes = this.#liveBytes;
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  submit(): void {} // every kernel has run already

  // ---- element-wise ------------------------------------------------------------------------

  axpby(out: Tensor, a: Tensor, alpha: number, b: Tensor, beta: number, n: number): void {
    const k = this.#check("axpby");
    k.dims({ n });
    axpbyF32(k.t("out", out, n, "n"), k.t("a", a, n, "n"), alpha, k.t("b", b, n, "n"), beta, n);
  }

  addPeriodic(out: Tensor, inp: Tensor, row: Tensor, n: number, period: number): void {
    const k = this.#check("addPeriodic");
    k.dims({ n, period });
    if (period === 0 && n > 0) throw new RangeError("Cannot run addPeriodic: period must be >= 1");
    const o = k.t("out", out, n, "n"), i = k.t("inp", inp, n, "n");
    addPeriodic(o, i, k.t("row", row, Math.min(period, n), "period"), n, period);
  }

  scaleRows(out: Tensor, inp: Tensor, s: Tensor, R: number, C: number): void {
    const k = this.#check("scaleRows");
    k.dims({ R, C });
    const o = k.t("out", out, R * C, "R*C"), i = k.t("inp", inp, R * C, "R*C");
    scaleRows(o, i, k.t("s", s, R, "R"), R, C);
  }

  rowSumSqDiff(out: Tensor, a: Tensor, b: Tensor, w: Tensor | null, R: number, C: number): void {
    const k = this.#check("rowSumSqDiff");
    k.dims({ R, C });
    rowSumSqDiff(
      k.t("out", out, R, "R"),
      k.t("a", a, R * C, "R*C"),
      k.t("b", b, R * C, "R*C"),
      k.opt("w", w, R * C, "R*C"),
      R,
      C,
    );
  }

  gatherRows(out: Tensor, table: Tensor, index: Int32Array, C: number): void {
    const k = this.#check("gatherRows");
    k.dims({ C });
    const o = k.t("out", out, index.length * C, "index.length*C");
    const tab = k.t("table", table, 0, "any");
    const rows = C === 0 ? Infinity : Math.floor(table.size / C);
    for (let r = 0; r < index.length; r++) {
      if (index[r] < 0 || index[r] >= rows) {
        throw new RangeError(
          `Cannot run gatherRows: "index[${r}]" is ${index[r]}, table has ${rows} rows`,
        );
      }
    }
    gatherRows(o, tab, index, C);
  }

  // ---- matmul ------------------------------------------------------------------------------

  gemm(c: Tensor, a: Tensor, b: Tensor, M: number, N: number, K: number, opts?: GemmOptions): void {
    const k = this.#check("gemm");
    k.dims({ M, N, K });
    const g = resolveGemm(M, N, K, opts);
    const { batch, lda, ldb, ldc, strideA, strideB, strideC, offsetA, offsetB, offsetC } = g;
    k.dims({ batch, lda, ldb, ldc, strideA, strideB, strideC, offsetA, offsetB, offsetC });
    k.finite({ alpha: g.alpha, beta: g.beta });
    const [rowsA, colsA] = g.transA ? [K, M] : [M, K];
    const [rowsB, colsB] = g.transB ? [N, K] : [K, N];
    const lds = { lda: [lda, colsA], ldb: [ldb, colsB], ldc: [ldc, N] };
    for (const [name, [ld, cols]] of Object.entries(lds)) {
      if (ld < cols) {
        throw new RangeError(`Cannot run gemm: ${name} is ${ld}, must be >= ${cols}`);
      }
    }
    const spanA = extent(batch, strideA, offsetA, rowsA, colsA, lda);
    const spanB = extent(batch, strideB, offsetB, rowsB, colsB, ldb);
    const spanC = extent(batch, strideC, offsetC, M, N, ldc);
    const ca = k.t("c", c, spanC, "batch, strideC, offsetC, M, N, ldc");
    const aa = k.t("a", a, spanA, "batch, strideA, offsetA, M, K, lda");
    const ba = k.t("b", b, spanB, "batch, strideB, offsetB, K, N, ldb");
    this.#gemm(ca, aa, ba, M, N, K, opts);
  }

  // ---- linear ------------------------------------------------------------------------------

  linearForward(
    out: Tensor,
    inp: Tensor,
    weight: Tensor,
    bias: Tensor | null,
    N: number,
    C: number,
    OC: number,
    extras: LinearForwardExtras = {},
  ): void {
    const k = this.#check("linearForward");
    k.dims({ N, C, OC });
    const residual = extras.residual ?? null, gelu = extras.gelu ?? null;
    checkExtras("linearForward", out, { residual, gelu });
    // checked before anything is written
    k.opt("residual", residual, N * OC, "N*OC");
    k.opt("gelu", gelu, N * OC, "N*OC");
    linearForward(
      k.t("out", out, N * OC, "N*OC"),
      k.t("inp", inp, N * C, "N*C"),
      k.t("weight", weight, OC * C, "OC*C"),
      k.opt("bias", bias, OC, "OC"),
      N,
      C,
      OC,
      this.#gemm,
    );
    applyForwardExtras(this, out, extras, N * OC);
  }

  linearBackward(
    dinp: Tensor | null,
    dweight: Tensor | null,
    dbias: Tensor | null,
    dout: Tensor,
    inp: Tensor,
    weight: Tensor,
    N: number,
    C: number,
    OC: number,
    extras: LinearBackwardExtras = {},
  ): void {
    const k = this.#check("linearBackward");
    k.dims({ N, C, OC });
    const residual = extras.residual ?? null, geluInput = extras.geluInput ?? null;
    checkExtras("linearBackward", dinp, { residual, geluInput });
    k.opt("residual", residual, N * C, "N*C");
    k.opt("geluInput", geluInput, N * C, "N*C");
    linearBackward(
      k.opt("dinp", dinp, N * C, "N*C"),
      k.opt("dweight", dweight, OC * C, "OC*C"),
      k.opt("dbias", dbias, OC, "OC"),
      k.t("dout", dout, N * OC, "N*OC"),
      k.t("inp", inp, N * C, "N*C"),
      k.t("weight", weight, OC * C, "OC*C"),
      N,
      C,
      OC,
      this.#gemm,
    );
    if (dinp !== null) applyBackwardExtras(this, dinp, extras, N * C);
  }

  // ---- layernorm ---------------------------------------------------------------------------

  layernormForward(
    out: Tensor,
    mean: Tensor,
    rstd: Tensor,
    inp: Tensor,
    weight: Tensor,
    bias: Tensor,
    N: number,
    C: number,
    eps: number,
  ): void {
    const k = this.#check("layernormForward");
    k.dims({ N, C });
    k.finite({ eps });
    layernormForward(
      k.t("out", out, N * C, "N*C"),
      k.t("mean", mean, N, "N"),
      k.t("rstd", rstd, N, "N"),
      k.t("inp", inp, N * C, "N*C"),
      k.t("weight", weight, C, "C"),
      k.t("bias", bias, C, "C"),
      N,
      C,
      eps,
    );
  }

  layernormBackward(
    dinp: Tensor,
    dweight: Tensor | null,
    dbias: Tensor | null,
    dout: Tensor,
    inp: Tensor,
    weight: Tensor,
    mean: Tensor,
    rstd: Tensor,
    N: number,
    C: number,
  ): void {
    const k = this.#check("layernormBackward");
    k.dims({ N, C });
    layernormBackward(
      k.t("dinp", dinp, N * C, "N*C"),
      k.opt("dweight", dweight, C, "C"),
      k.opt("dbias", dbias, C, "C"),
      k.t("dout", dout, N * C, "N*C"),
      k.t("inp", inp, N * C, "N*C"),
      k.t("weight", weight, C, "C"),
      k.t("mean", mean, N, "N"),
      k.t("rstd", rstd, N, "N"),
      N,
      C,
    );
  }

  // ---- attention ---------------------------------------------------------------------------

  #attentionDims(k: Check, B: number, T: number, C: number, NH: number): void {
    k.dims({ B, T, C, NH });
    if (NH === 0 || C % NH !== 0) {
      throw new RangeError(`Cannot run ${k.op}: C (${C}) must be a multiple of NH (${NH})`);
    }
  }

  attentionForward(
    out: Tensor,
    att: Tensor,
    qkv: Tensor,
    keyMask: Tensor | null,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void {
    const k = this.#check("attentionForward");
    this.#attentionDims(k, B, T, C, NH);
    attentionForward(
      k.t("out", out, B * T * C, "B*T*C"),
      k.t("att", att, B * NH * T * T, "B*NH*T*T"),
      k.t("qkv", qkv, B * T * 3 * C, "B*T*3C"),
      k.opt("keyMask", keyMask, B * T, "B*T"),
      B,
      T,
      C,
      NH,
      this.#gemm,
    );
  }

  attentionBackward(
    dqkv: Tensor,
    datt: Tensor,
    dout: Tensor,
    qkv: Tensor,
    att: Tensor,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void {
    const k = this.#check("attentionBackward");
    this.#attentionDims(k, B, T, C, NH);
    attentionBackward(
      k.t("dqkv", dqkv, B * T * 3 * C, "B*T*3C"),
      k.t("datt", datt, B * NH * T * T, "B*NH*T*T"),
      k.t("dout", dout, B * T * C, "B*T*C"),
      k.t("qkv", qkv, B * T * 3 * C, "B*T*3C"),
      k.t("att", att, B * NH * T * T, "B*NH*T*T"),
      B,
      T,
      C,
      NH,
      this.#gemm,
    );
  }

  // ---- activations -------------------------------------------------------------------------

  geluForward(out: Tensor, inp: Tensor, n: number): void {
    const k = this.#check("geluForward");
    k.dims({ n });
    geluForwardF32(k.t("out", out, n, "n"), k.t("inp", inp, n, "n"), n);
  }

  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, n: number): void {
    const k = this.#check("geluBackward");
    k.dims({ n });
    const d = k.t("dinp", dinp, n, "n");
    geluBackwardF32(d, k.t("inp", inp, n, "n"), k.t("dout", dout, n, "n"), n);
  }

  siluForward(out: Tensor, inp: Tensor, n: number): void {
    const k = this.#check("siluForward");
    k.dims({ n });
    siluForward(k.t("out", out, n, "n"), k.t("inp", inp, n, "n"), n);
  }

  siluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, n: number): void {
    const k = this.#check("siluBackward");
    k.dims({ n });
    siluBackward(k.t("dinp", dinp, n, "n"), k.t("inp", inp, n, "n"), k.t("dout", dout, n, "n"), n);
  }

  // ---- tables, optimiser, randomness -------------------------------------------------------

  positionalTable(out: Tensor, maxLen: number, C: number): void {
    const k = this.#check("positionalTable");
    k.dims({ maxLen, C });
    if (C % 2 !== 0) throw new RangeError(`Cannot run positionalTable: C must be even, got ${C}`);
    positionalTable(k.t("out", out, maxLen * C, "maxLen*C"), maxLen, C);
  }

  adamw(
    param: Tensor,
    grad: Tensor,
    m: Tensor,
    v: Tensor,
    n: number,
    opts: AdamWOptions,
    gradScale: Tensor | null = null,
  ): void {
    const k = this.#check("adamw");
    k.dims({ n });
    const { lr, beta1, beta2, eps, weightDecay, step } = opts;
    k.finite({ lr, beta1, beta2, eps, weightDecay });
    if (!Number.isInteger(step) || step < 1) {
      throw new RangeError(`Cannot run adamw: step must be an integer >= 1, got ${step}`);
    }
    for (const [name, b] of [["beta1", beta1], ["beta2", beta2]] as const) {
      if (b < 0 || b >= 1) {
        throw new RangeError(`Cannot run adamw: ${name} must be in [0, 1), got ${b}`);
      }
    }
    adamw(
      k.t("param", param, n, "n"),
      k.t("grad", grad, n, "n"),
      k.t("m", m, n, "n"),
      k.t("v", v, n, "n"),
      n,
      opts,
      gradScale === null ? 1 : k.t("gradScale", gradScale, 1, "1")[0],
    );
  }

  gradClipScale(scale: Tensor, sums: Tensor, count: number, maxNorm: number): void {
    const k = this.#check("gradClipScale");
    k.dims({ count });
    if (Number.isNaN(maxNorm)) throw new RangeError("Cannot run gradClipScale: maxNorm is NaN");
    const out = k.t("scale", scale, 1, "1");
    out[0] = clipFactor(k.t("sums", sums, count, "count"), count, maxNorm).scale;
  }

  randn(out: Tensor, n: number, addr: RandomAddress): void {
    const k = this.#check("randn");
    k.dims({ n });
    randn(k.t("out", out, n, "n"), n, addr);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#pool.clear();
    this.#pooledBytes = 0;
  }
}

/**
 * The cpu backend. Every matrix product goes through `options.gemm` (default `gemmF32`).
 *
 * @param options the GEMM to use and its name for `describe()`
 * @returns a `Backend` whose tensors are host `Float32Array`s
 */
export function createCpuBackend(options: CpuBackendOptions = {}): Backend {
  return new CpuBackend(options);
}
