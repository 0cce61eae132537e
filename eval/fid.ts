/**
 * Fréchet inception distance between two sets of embeddings (Heusel et al. 2017), as the T2M
 * protocol computes it: means, `np.cov` covariances (N-1 divisor), then
 * `||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr(sqrtm(S1 S2))`.
 *
 * Why the trace needs no general matrix square root: with S1 = V L V^T (symmetric PSD),
 * sqrt(S1) = V L^{1/2} V^T, and S1 S2 = sqrt(S1) (sqrt(S1) S2). AB and BA have the same
 * eigenvalues, so S1 S2 has the eigenvalues of M = sqrt(S1) S2 sqrt(S1), which is symmetric PSD:
 * all real and >= 0. The principal square root that `scipy.linalg.sqrtm` returns has the square
 * roots of those eigenvalues as its own, so `Tr(sqrtm(S1 S2)) = sum_i sqrt(lambda_i(M))`.
 * M is orthogonally similar to `L^{1/2} (V^T S2 V) L^{1/2}`, whose eigenvalues alone (no vectors)
 * are enough. Rounding can leave eigenvalues of order -1e-16 |M|; they are clamped to 0, which is
 * what the public code gets too: sqrtm turns them into tiny imaginary parts that `.real` drops.
 */
import { matmul, meanAndCovariance, rowGram } from "./_matrix.ts";
import type { Embeddings } from "./embeddings.ts";
import { symmetricEigen } from "./linalg.ts";

/** Mean (D) and covariance (D, D) of one embedding set. */
export interface GaussianStats {
  /** (D) mean. */
  mean: Float64Array;
  /** (D, D) covariance, N-1 divisor. */
  cov: Float64Array;
  dim: number;
}

/**
 * Mean and covariance of `e` as `calculate_activation_statistics` (np.mean, np.cov rowvar=False).
 * Computing the real-motion statistics once lets every replication reuse them.
 *
 * @param e (N, D) embeddings, N >= 2.
 * @returns the float64 statistics.
 */
export function activationStatistics(e: Embeddings): GaussianStats {
  if (e.rows < 2) {
    throw new RangeError(`Cannot compute a covariance: ${e.rows} samples, need at least 2`);
  }
  const { mean, cov } = meanAndCovariance(e);
  return { mean, cov, dim: e.dim };
}

/**
 * Fréchet distance between N(mu1, S1) and N(mu2, S2), computed stably (see the module comment).
 *
 * @param a statistics of the reference set (ground truth in the protocol).
 * @param b statistics of the compared set.
 * @returns the squared Fréchet distance (>= 0 up to rounding).
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dim !== b.dim) {
    throw new RangeError(`Cannot compute FID: dimensions differ (${a.dim} vs ${b.dim})`);
  }
  const d = a.dim;
  let meanTerm = 0, traceA = 0, traceB = 0;
  for (let i = 0; i < d; i++) {
    const t = a.mean[i] - b.mean[i];
    meanTerm += t * t;
    traceA += a.cov[i * d + i];
    traceB += b.cov[i * d + i];
  }
  return meanTerm + traceA + traceB - 2 * traceSqrtProduct(a.cov, b.cov, d);
}

/**
 * `Tr(sqrtm(S1 S2))` for symmetric PSD S1, S2 (D, D): the sum of the square roots of the
 * eigenvalues of `L^{1/2} V^T S2 V L^{1/2}`, where S1 = V L V^T.
 */
export function traceSqrtProduct(s1: Float64Array, s2: Float64Array, d: number): number {
  const e1 = symmetricEigen(s1, d, { vectors: true });
  const vt = e1.vectors!; // (D, D) row i = eigenvector i, i.e. V^T
  const root = new Float64Array(d); // (D) sqrt of the eigenvalues of S1, negatives clamped
  for (let i = 0; i < d; i++) root[i] = Math.sqrt(Math.max(e1.values[i], 0));
  // V^T S2 V = (V^T S2) V, with V = vt^T: the second product is vt S2 vt^T.
  const vts2 = matmul(vt, s2, d, d, d); // (D, D) V^T S2
  // (D, D) V^T S2 V, symmetric, then scaled to L^{1/2} V^T S2 V L^{1/2}.
  const m = rowGram(vts2, vt, d, d, true);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m[i * d + j] *= root[i] * root[j];
  const { values } = symmetricEigen(m, d);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += Math.sqrt(Math.max(values[i], 0));
  return trace;
}

/**
 * FID between `real` (N, D) and `generated` (M, D) embeddings.
 *
 * @param real (N, D) reference embeddings (ground-truth motions), N >= 2.
 * @param generated (M, D) embeddings to compare, M >= 2.
 * @returns the FID.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fid } from "./fid.ts";
 * const e = { data: new Float64Array([0, 1, 2, 0, 1, 3, 5, 2]), rows: 4, dim: 2 };
 * assert.ok(Math.abs(fid(e, e)) < 1e-9);
 * ```
 */
export function fid(real: Embeddings, generated: Embeddings): number {
  return frechetDistance(activationStatistics(real), activationStatistics(generated));
}
