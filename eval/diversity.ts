/**
 * Diversity of the T2M protocol: the mean euclidean distance between `times` random pairs of
 * motion embeddings. As in the public `calculate_diversity`, the pairs come from two independent
 * draws of `times` distinct indices each, so a pair may join a row with itself (distance 0).
 */
import type { Rng } from "../kernels/rng/philox.ts";
import { rowDistance } from "./_matrix.ts";
import { sampleWithoutReplacement } from "./_sample.ts";
import type { Embeddings } from "./embeddings.ts";

/**
 * Diversity of `emb` over `times` random pairs drawn from `rng`.
 *
 * @param emb (N, D) motion embeddings, N > times (the public code asserts it).
 * @param times number of pairs (300 in the protocol).
 * @param rng the random source; two index sets of `times` are drawn from it.
 * @returns the mean pair distance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "../kernels/rng/philox.ts";
 * import { diversity } from "./diversity.ts";
 * const e = { data: new Float64Array(8).fill(1), rows: 4, dim: 2 };
 * assert.ok(diversity(e, 3, new Rng(0)) === 0);
 * ```
 */
export function diversity(emb: Embeddings, times: number, rng: Rng): number {
  if (!Number.isInteger(times) || times < 1 || emb.rows <= times) {
    throw new RangeError(
      `Cannot compute diversity: need more than ${times} samples (times >= 1), got ${emb.rows}`,
    );
  }
  const first = sampleWithoutReplacement(emb.rows, times, rng);
  const second = sampleWithoutReplacement(emb.rows, times, rng);
  return diversityOfPairs(emb, first, second);
}

/**
 * Mean distance between rows `first[i]` and `second[i]` of `emb`: the diversity for given
 * index sets (used to check against numpy with its own draws).
 *
 * @param emb (N, D) embeddings.
 * @param first (P) row indices.
 * @param second (P) row indices.
 * @returns the mean of the P distances.
 */
export function diversityOfPairs(
  emb: Embeddings,
  first: ArrayLike<number>,
  second: ArrayLike<number>,
): number {
  if (first.length !== second.length || first.length === 0) {
    throw new RangeError(
      `Cannot compute diversity: index sets of lengths ${first.length} and ${second.length}`,
    );
  }
  let sum = 0;
  for (let i = 0; i < first.length; i++) {
    checkIndex(first[i], emb.rows);
    checkIndex(second[i], emb.rows);
    sum += rowDistance(emb, first[i], emb, second[i]);
  }
  return sum / first.length;
}

function checkIndex(i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new RangeError(`Cannot compute diversity: index ${i} is outside [0, ${n})`);
  }
}
