/**
 * Pairwise euclidean distances in the expanded form of the public T2M evaluator:
 * `|a - b|^2 = |a|^2 + |b|^2 - 2 a.b`, computed in float64 and clamped at 0 before the square
 * root (the public code takes the root unclamped, so rounding can give it a NaN on near-equal
 * rows; the clamp returns 0 there instead).
 */
import type { Embeddings } from "./embeddings.ts";

/**
 * Distance matrix between the rows of `a` (N, D) and `b` (M, D):
 * `dist[i, j] = sqrt(max(-2 a_i.b_j + |a_i|^2 + |b_j|^2, 0))`.
 *
 * @param a (N, D) embeddings, e.g. text.
 * @param b (M, D) embeddings, e.g. motion.
 * @returns (N, M) row-major float64 distances.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { euclideanDistanceMatrix } from "./distance.ts";
 * const a = { data: new Float64Array([0, 0, 3, 4]), rows: 2, dim: 2 };
 * const d = euclideanDistanceMatrix(a, a);
 * assert.ok(d[1] === 5 && d[0] === 0);
 * ```
 */
export function euclideanDistanceMatrix(a: Embeddings, b: Embeddings): Float64Array {
  if (a.dim !== b.dim) {
    throw new RangeError(
      `Cannot compute distances: dimensions differ (${a.rows}, ${a.dim}) vs (${b.rows}, ${b.dim})`,
    );
  }
  const n = a.rows, m = b.rows, d = a.dim;
  const bNorm = new Float64Array(m); // (M) |b_j|^2
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += b.data[j * d + k] * b.data[j * d + k];
    bNorm[j] = s;
  }
  const out = new Float64Array(n * m); // (N, M)
  const ai = new Float64Array(d); // (D) row i of a in float64
  for (let i = 0; i < n; i++) {
    let aNorm = 0;
    for (let k = 0; k < d; k++) {
      ai[k] = a.data[i * d + k];
      aNorm += ai[k] * ai[k];
    }
    for (let j = 0; j < m; j++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += ai[k] * b.data[j * d + k];
      out[i * m + j] = Math.sqrt(Math.max(-2 * dot + aNorm + bNorm[j], 0));
    }
  }
  return out;
}
