/**
 * Matching score (MM-Dist) of the T2M protocol: the mean euclidean distance between each text
 * embedding and its own motion embedding.
 */
import type { Embeddings } from "./embeddings.ts";

/**
 * Mean distance between aligned rows of `text` and `motion`, each distance taken in the same
 * expanded form as the distance matrix (the public protocol sums the matrix trace), clamped at 0.
 * The protocol passes the complete-batch rows (`completeBatchRows()`), as the public loaders drop
 * the last partial batch.
 *
 * @param text (N, D) text embeddings.
 * @param motion (N, D) motion embeddings, aligned with `text`.
 * @returns the mean diagonal distance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchingScore } from "./matching_score.ts";
 * const t = { data: new Float64Array([0, 0]), rows: 1, dim: 2 };
 * const m = { data: new Float64Array([3, 4]), rows: 1, dim: 2 };
 * assert.ok(matchingScore(t, m) === 5);
 * ```
 */
export function matchingScore(text: Embeddings, motion: Embeddings): number {
  if (text.rows !== motion.rows || text.dim !== motion.dim || text.rows === 0) {
    throw new RangeError(
      `Cannot compute matching score: text (${text.rows}, ${text.dim}) and motion ` +
        `(${motion.rows}, ${motion.dim}) are not aligned non-empty sets`,
    );
  }
  const d = text.dim;
  let sum = 0;
  for (let i = 0; i < text.rows; i++) {
    let tt = 0, mm = 0, tm = 0;
    for (let k = 0; k < d; k++) {
      const a = text.data[i * d + k], b = motion.data[i * d + k];
      tt += a * a;
      mm += b * b;
      tm += a * b;
    }
    sum += Math.sqrt(Math.max(-2 * tm + tt + mm, 0));
  }
  return sum / text.rows;
}
