/**
 * Argument checks shared by the encoders' `encodeMotions(features, lengths, N, T)`: a batch of N
 * raw motions (N, T, F) whose motion n has `lengths[n]` valid frames.
 * @module
 */

/**
 * Throws a RangeError unless `features` is (N, T, F), `lengths` has N entries and each length is
 * an integer in [minLength, T]; `why` explains a minimum above 0 in the message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMotionBatch } from "./motion_batch.ts";
 * checkMotionBatch(new Float32Array(2 * 3 * 4), [3, 0], 2, 3, 4);
 * assert.throws(() => checkMotionBatch(new Float32Array(24), [4, 0], 2, 3, 4), RangeError);
 * ```
 */
export function checkMotionBatch(
  features: Float32Array,
  lengths: ArrayLike<number>,
  N: number,
  T: number,
  F: number,
  minLength = 0,
  why?: string,
): void {
  if (!Number.isInteger(N) || N < 0 || !Number.isInteger(T) || T < 1) {
    throw new RangeError(`Cannot encode motions: N ${N} and T ${T} must be integers >= 0, 1`);
  }
  if (features.length !== N * T * F || lengths.length < N) {
    throw new RangeError(
      `Cannot encode motions: ${features.length} values and ${lengths.length} lengths do not ` +
        `make (${N}, ${T}, ${F})`,
    );
  }
  for (let n = 0; n < N; n++) {
    const len = lengths[n];
    if (!Number.isInteger(len) || len < minLength || len > T) {
      throw new RangeError(
        `Cannot encode motions: length ${len} of motion ${n} is not in [${minLength}, ${T}]` +
          (why === undefined ? "" : ` (${why})`),
      );
    }
  }
}
