/**
 * Multimodality of the T2M protocol: for each of T texts the model generates R motions; the
 * metric is the mean distance between `times` random pairs of them, averaged over texts. As in the
 * public `calculate_multimodality`, ONE pair of index sets (each `times` distinct repeats) is
 * drawn and used for every text.
 */
import type { Rng } from "../kernels/rng/philox.ts";
import { sampleWithoutReplacement } from "./_sample.ts";

/** (texts, repeats, dim) row-major motion embeddings: `repeats` generations per text. */
export interface RepeatedEmbeddings {
  /** (texts, repeats, dim) values. */
  data: Float32Array | Float64Array;
  texts: number;
  repeats: number;
  dim: number;
}

/**
 * Multimodality of `emb` over `times` random repeat pairs drawn from `rng`.
 *
 * @param emb (T, R, D) embeddings, R > times (the public code asserts it).
 * @param times pairs per text (10 in the protocol).
 * @param rng the random source; two index sets of `times` repeats are drawn from it.
 * @returns the mean over texts and pairs of the pair distance.
 */
export function multimodality(emb: RepeatedEmbeddings, times: number, rng: Rng): number {
  if (!Number.isInteger(times) || times < 1 || emb.repeats <= times) {
    throw new RangeError(
      `Cannot compute multimodality: need more than ${times} repeats per text (times >= 1), ` +
        `got ${emb.repeats}`,
    );
  }
  const first = sampleWithoutReplacement(emb.repeats, times, rng);
  const second = sampleWithoutReplacement(emb.repeats, times, rng);
  return multimodalityOfPairs(emb, first, second);
}

/**
 * Mean over texts t and pairs i of `|emb[t, first[i]] - emb[t, second[i]]|`: multimodality for
 * given index sets (used to check against numpy with its own draws).
 *
 * @param emb (T, R, D) embeddings.
 * @param first (P) repeat indices.
 * @param second (P) repeat indices.
 * @returns the mean of the T * P distances.
 */
export function multimodalityOfPairs(
  emb: RepeatedEmbeddings,
  first: ArrayLike<number>,
  second: ArrayLike<number>,
): number {
  const { texts, repeats, dim, data } = emb;
  if (data.length !== texts * repeats * dim || texts < 1) {
    throw new RangeError(
      `Cannot compute multimodality: ${data.length} values do not make shape ` +
        `(${texts}, ${repeats}, ${dim}) with texts >= 1`,
    );
  }
  if (first.length !== second.length || first.length === 0) {
    throw new RangeError(
      `Cannot compute multimodality: index sets of lengths ${first.length} and ${second.length}`,
    );
  }
  for (const i of [...Array.from(first), ...Array.from(second)]) {
    if (!Number.isInteger(i) || i < 0 || i >= repeats) {
      throw new RangeError(`Cannot compute multimodality: repeat ${i} is outside [0, ${repeats})`);
    }
  }
  let sum = 0;
  for (let t = 0; t < texts; t++) {
    const base = t * repeats * dim;
    for (let p = 0; p < first.length; p++) {
      const a = base + first[p] * dim, b = base + second[p] * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const x = data[a + k] - data[b + k];
        s += x * x;
      }
      sum += Math.sqrt(s);
    }
  }
  return sum / (texts * first.length);
}
