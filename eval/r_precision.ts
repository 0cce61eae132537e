/**
 * R-precision of the T2M protocol (Guo et al. 2022, as run by MDM's `eval/eval_humanml.py`):
 * the N aligned (text, motion) pairs are cut into consecutive batches of 32; within a batch each
 * text ranks the 32 motions by euclidean distance and scores a top-k hit when its own motion
 * (the diagonal) is among the k nearest. Hits are counted per batch, summed over batches and
 * divided by the number of samples seen.
 *
 * The last incomplete batch is dropped: the public loaders are built with `drop_last=True`, so a
 * trailing partial batch never reaches the evaluator, and `all_size` counts complete batches only
 * (and a rank among fewer than 32 candidates would be an easier task anyway). The matching score,
 * FID and diversity of the public protocol are computed on those same rows; `completeBatchRows()`
 * gives their number.
 */
import { euclideanDistanceMatrix } from "./distance.ts";
import type { Embeddings } from "./embeddings.ts";

/** Top-k hit rates and how many samples they were measured on. */
export interface RPrecision {
  /** (topK) rates in [0, 1]: entry k-1 is the top-k rate, non-decreasing in k. */
  rates: number[];
  /** Samples ranked: `batches * batch`. */
  samples: number;
  /** Complete batches ranked. */
  batches: number;
}

/** Rows the protocol evaluates out of `n`: whole batches only (`drop_last=True`). */
export function completeBatchRows(n: number, batch = 32): number {
  return Math.floor(n / batch) * batch;
}

/**
 * R-precision of aligned `text` and `motion` embeddings (row i of each belong together).
 *
 * Ranks follow `np.argsort` on distances; the rank of the true motion is the number of motions
 * strictly closer than it, so an exact tie (measure zero for real embeddings) counts in its
 * favour, where numpy's unstable sort would order ties arbitrarily.
 *
 * @param text (N, D) text embeddings.
 * @param motion (N, D) motion embeddings, aligned with `text`.
 * @param topK highest k reported (3 in the protocol).
 * @param batch candidates per ranking (32 in the protocol; MDM forces it).
 * @returns top-1..top-K hit rates over the complete batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rPrecision } from "./r_precision.ts";
 * const data = new Float64Array(64 * 4).map((_, i) => (i % 4 === Math.floor(i / 4) % 4 ? i : 0));
 * const e = { data, rows: 64, dim: 4 };
 * assert.ok(rPrecision(e, e).rates[0] === 1);
 * ```
 */
export function rPrecision(
  text: Embeddings,
  motion: Embeddings,
  topK = 3,
  batch = 32,
): RPrecision {
  if (text.rows !== motion.rows || text.dim !== motion.dim) {
    throw new RangeError(
      `Cannot compute R-precision: text (${text.rows}, ${text.dim}) and motion ` +
        `(${motion.rows}, ${motion.dim}) are not aligned`,
    );
  }
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(topK) || topK < 1) {
    throw new RangeError(
      `Cannot compute R-precision: topK ${topK} and batch ${batch} must be >= 1`,
    );
  }
  if (topK > batch) {
    throw new RangeError(`Cannot compute R-precision: topK ${topK} exceeds the batch ${batch}`);
  }
  const batches = Math.floor(text.rows / batch);
  if (batches === 0) {
    throw new RangeError(
      `Cannot compute R-precision: ${text.rows} samples do not fill one batch of ${batch}`,
    );
  }
  const d = text.dim;
  const hits = new Array<number>(topK).fill(0); // (topK) summed top-k counts
  for (let b = 0; b < batches; b++) {
    const lo = b * batch * d, hi = (b + 1) * batch * d;
    const t = { data: text.data.subarray(lo, hi), rows: batch, dim: d };
    const m = { data: motion.data.subarray(lo, hi), rows: batch, dim: d };
    const dist = euclideanDistanceMatrix(t, m); // (batch, batch)
    for (let i = 0; i < batch; i++) {
      const own = dist[i * batch + i];
      let rank = 0;
      for (let j = 0; j < batch; j++) if (dist[i * batch + j] < own) rank++;
      // A hit at rank r counts for every k > r, as the running OR of the public top-k table.
      for (let k = rank; k < topK; k++) hits[k]++;
    }
  }
  const samples = batches * batch;
  return { rates: hits.map((h) => h / samples), samples, batches };
}
