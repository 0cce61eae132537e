/**
 * GEMM, CPU reference twin: plain loops, the readable truth that the WASM-SIMD GEMM
 * (kernels/wasm) and the WGSL GEMM are checked against. Semantics: `GemmOptions` in
 * kernels/backend.ts.
 */
import type { GemmOptions } from "../backend.ts";

/** Any float array the reference loops accept (float64 for finite-difference checks). */
export type FloatArray = Float32Array | Float64Array;

/** A GEMM over host arrays with the semantics of `Backend.gemm`. */
export type PlainGemmFn = (
  c: FloatArray,
  a: FloatArray,
  b: FloatArray,
  M: number,
  N: number,
  K: number,
  opts?: GemmOptions,
) => void;

/**
 * `C = op(A) op(B) + bias` (bias (N) added to every row) with the bits of filling C's rows with
 * `bias` and running the GEMM with beta = 1, faster; false where it cannot, and the caller then
 * does exactly that.
 */
export type RowBiasGemm = (
  c: FloatArray,
  a: FloatArray,
  b: FloatArray,
  bias: FloatArray,
  M: number,
  N: number,
  K: number,
  opts: GemmOptions,
) => boolean;

/** A GEMM, optionally with its `rowBias` form. */
export type GemmFn = PlainGemmFn & { rowBias?: RowBiasGemm };

/** Fills in the defaults of `GemmOptions` for an (M, N, K) product. */
export function resolveGemm(M: number, N: number, K: number, o: GemmOptions = {}) {
  const transA = o.transA ?? false, transB = o.transB ?? false;
  return {
    transA,
    transB,
    alpha: o.alpha ?? 1,
    beta: o.beta ?? 0,
    batch: o.batch ?? 1,
    lda: o.lda ?? (transA ? M : K),
    ldb: o.ldb ?? (transB ? K : N),
    ldc: o.ldc ?? N,
    strideA: o.strideA ?? M * K,
    strideB: o.strideB ?? K * N,
    strideC: o.strideC ?? M * N,
    offsetA: o.offsetA ?? 0,
    offsetB: o.offsetB ?? 0,
    offsetC: o.offsetC ?? 0,
  };
}

/** Reference GEMM: `C = alpha op(A) op(B) + beta C`, accumulated in float64 per element. */
export const gemmRef: GemmFn = (c, a, b, M, N, K, opts) => {
  const g = resolveGemm(M, N, K, opts);
  for (let p = 0; p < g.batch; p++) {
    const oa = g.offsetA + p * g.strideA;
    const ob = g.offsetB + p * g.strideB;
    const oc = g.offsetC + p * g.strideC;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const av = g.transA ? a[oa + k * g.lda + i] : a[oa + i * g.lda + k];
          const bv = g.transB ? b[ob + j * g.ldb + k] : b[ob + k * g.ldb + j];
          sum += av * bv;
        }
        const ci = oc + i * g.ldc + j;
        // beta = 0 overwrites without reading C, so stale NaNs never leak in.
        c[ci] = g.beta === 0 ? g.alpha * sum : g.alpha * sum + g.beta * c[ci];
      }
    }
  }
};
