/** Private float64 matrix helpers for the metrics: products, statistics, row distances. */
import type { Embeddings } from "./embeddings.ts";

/** `C = A B` for row-major A (n, k), B (k, m); i-k-j order keeps the inner loop contiguous. */
export function matmul(
  a: Float64Array,
  b: Float64Array,
  n: number,
  k: number,
  m: number,
): Float64Array {
  const c = new Float64Array(n * m); // (n, m)
  for (let i = 0; i < n; i++) {
    const ci = i * m;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue;
      const bp = p * m;
      for (let j = 0; j < m; j++) c[ci + j] += av * b[bp + j];
    }
  }
  return c;
}

/**
 * Mean (dim) and sample covariance (dim, dim) with the N-1 divisor of `np.cov(rowvar=False)`.
 * Centred first, then `Xc^T Xc / (N-1)` (the two-pass form, accurate when the mean is large).
 * The centred data is stored transposed so that each covariance entry is one contiguous dot
 * product, and only the lower triangle is computed: at D = 512, N = 1000 this is the costliest
 * step of the FID after the eigendecomposition.
 */
export function meanAndCovariance(e: Embeddings): { mean: Float64Array; cov: Float64Array } {
  const { rows: n, dim: d, data } = e;
  const mean = new Float64Array(d); // (D)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const xt = new Float64Array(d * n); // (D, N) centred, transposed
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xt[j * n + i] = data[i * d + j] - mean[j];
  const cov = rowGram(xt, xt, d, n, true); // (D, D)
  const inv = 1 / (n - 1);
  for (let i = 0; i < d * d; i++) cov[i] *= inv;
  return { mean, cov };
}

/**
 * `C = A B^T` for row-major A (n, k), B (m, k): every entry a contiguous dot product, four
 * columns at a time so that four independent sums hide the latency of the additions. With
 * `symmetric` (A B^T known symmetric, n = m) only the lower triangle is computed and mirrored.
 */
export function rowGram(
  a: Float64Array,
  b: Float64Array,
  n: number,
  k: number,
  symmetric = false,
  m = n,
): Float64Array {
  const c = new Float64Array(n * m); // (n, m)
  for (let i = 0; i < n; i++) {
    const ri = i * k;
    const end = symmetric ? i + 1 : m;
    let j = 0;
    for (; j + 4 <= end; j += 4) {
      const r0 = j * k, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const x = a[ri + p];
        s0 += x * b[r0 + p];
        s1 += x * b[r1 + p];
        s2 += x * b[r2 + p];
        s3 += x * b[r3 + p];
      }
      c[i * m + j] = s0;
      c[i * m + j + 1] = s1;
      c[i * m + j + 2] = s2;
      c[i * m + j + 3] = s3;
    }
    for (; j < end; j++) {
      const rj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ri + p] * b[rj + p];
      c[i * m + j] = s;
    }
  }
  if (symmetric) {
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) c[j * m + i] = c[i * m + j];
  }
  return c;
}

/** Euclidean distance between row i of `a` and row j of `b` (same dim), by direct difference. */
export function rowDistance(a: Embeddings, i: number, b: Embeddings, j: number): number {
  const d = a.dim;
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = a.data[i * d + k] - b.data[j * d + k];
    s += t * t;
  }
  return Math.sqrt(s);
}
