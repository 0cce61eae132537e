/**
 * The shape-carrying view of a batch of embeddings that every metric in eval/ takes: a row-major
 * float array of `rows` vectors of `dim` numbers. Metrics read float32 or float64 alike and
 * compute in float64.
 */

/** Row-major (rows, dim) embeddings. */
export interface Embeddings {
  /** (rows, dim) row-major values. */
  data: Float32Array | Float64Array;
  rows: number;
  dim: number;
}

/**
 * Wraps `data` as (rows, dim) embeddings after checking that the sizes agree and that every value
 * is finite (a NaN would silently poison FID and ranks).
 *
 * @param data (rows, dim) row-major values.
 * @param rows number of vectors.
 * @param dim length of each vector.
 * @param label names the array in error messages.
 * @returns the checked view (no copy).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddings } from "./embeddings.ts";
 * const e = embeddings(new Float32Array(6), 2, 3);
 * assert.ok(e.rows === 2 && e.dim === 3);
 * ```
 */
export function embeddings(
  data: Float32Array | Float64Array,
  rows: number,
  dim: number,
  label = "embeddings",
): Embeddings {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`Cannot use ${label}: shape (${rows}, ${dim}) is not valid`);
  }
  if (data.length !== rows * dim) {
    throw new RangeError(
      `Cannot use ${label}: ${data.length} values do not make shape (${rows}, ${dim})`,
    );
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(
        `Cannot use ${label}: row ${Math.floor(i / dim)} holds the non-finite value ${data[i]}`,
      );
    }
  }
  return { data, rows, dim };
}
