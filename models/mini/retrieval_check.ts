/**
 * Retrieval sanity check of a text–motion encoder on a split of the mini dataset: every item
 * (whole clip, raw features) with one random caption, in a random order, scored with the T2M
 * protocol's R-precision (batches of 32, top-1..3). Matched pairs should sit far above chance
 * (k/32 for top-k); the same texts against a random permutation of the motions measure chance.
 * @module
 */
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { embeddings } from "../../eval/embeddings.ts";
import { rPrecision } from "../../eval/r_precision.ts";
import type { TextMotionEncoder } from "../../rewards/encoder.ts";

const CHECK_STREAM = 0x5243; // "RC"

/** R-precision of matched and of shuffled pairs. */
export interface RetrievalCheck {
  /** Top-1..3 rates of the true pairs. */
  matched: number[];
  /** Top-1..3 rates of texts against permuted motions (chance: k/32). */
  shuffled: number[];
  /** Samples ranked (complete batches of 32). */
  samples: number;
}

/** Runs the check on `split` of the mini dataset at `dataDir`; see the module doc. */
export async function retrievalCheck(
  encoder: TextMotionEncoder,
  dataDir: string,
  split = "test",
  seed = 0,
): Promise<RetrievalCheck> {
  const ds = await HumanMLDataset.load({ dataset: "humanml", dataRoot: dataDir, split, seed });
  const rng = new Rng(seed, CHECK_STREAM);
  const items = rng.shuffle([...ds.items]);
  const N = items.length, F = ds.mean.length;
  const T = Math.max(...items.map((it) => it.length));
  const motions = new Float32Array(N * T * F); // (N, T, F) raw, zero-padded
  const lengths = new Int32Array(N); // (N)
  const texts = items.map((it, n) => {
    motions.set(it.motion.subarray(0, it.length * F), n * T * F);
    lengths[n] = it.length;
    return rng.pick(it.captions).caption;
  });
  const D = encoder.dim;
  const t = embeddings(await encoder.encodeTexts(texts), N, D, "text embeddings");
  const m = embeddings(await encoder.encodeMotions(motions, lengths, N, T), N, D, "motions");
  const perm = rng.shuffle(Array.from({ length: N }, (_, i) => i));
  const shuffledData = new Float32Array(N * D); // (N, D) motion rows in permuted order
  perm.forEach((j, i) => shuffledData.set(m.data.subarray(j * D, (j + 1) * D), i * D));
  const matched = rPrecision(t, m);
  const shuffled = rPrecision(t, embeddings(shuffledData, N, D, "shuffled motions"));
  return { matched: matched.rates, shuffled: shuffled.rates, samples: matched.samples };
}
