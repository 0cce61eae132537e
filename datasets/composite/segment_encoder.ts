/**
 * The encoder interface behind `--compute_b_matrix`: the K×K matrix of similarities between each
 * ground-truth segment motion (rows) and each sub-text (columns), the oracle of the
 * segment-dense reward. No encoder is wired to the construction command in this version.
 * @module
 */
import type { CompositeSample } from "./layout.ts";

/** A text–motion encoder that scores segment motions against texts. */
export interface SegmentEncoder {
  /** Shown in messages and logs. */
  name: string;
  /**
   * `result[i][j]` = similarity of `motions[i]` (raw features, `(T_i, F)`) and `texts[j]`.
   */
  similarity(motions: Float32Array[], texts: string[]): Promise<number[][]>;
}

/** The message of `--compute_b_matrix` while no encoder is available. */
export const NO_ENCODER_MESSAGE =
  "--compute_b_matrix needs a reward encoder: not available yet in this version";

/** Runs `encoder` on the sample's segments and texts; checks the matrix is K×K and finite. */
export async function computeBMatrix(
  encoder: SegmentEncoder,
  sample: CompositeSample,
): Promise<Float32Array> {
  const K = sample.sourceIds.length;
  const F = sample.dimPose;
  const motions: Float32Array[] = [];
  for (let k = 0, t = 0; k < K; k++) {
    const len = sample.lengths[k];
    motions.push(sample.motion.subarray(t * F, (t + len) * F)); // (len, F)
    t += len;
  }
  const sim = await encoder.similarity(motions, sample.texts);
  const out = new Float32Array(K * K); // (K, K)
  if (sim.length !== K || sim.some((row) => row.length !== K)) {
    throw new RangeError(
      `Cannot build B_matrix: encoder "${encoder.name}" did not return ${K}×${K}`,
    );
  }
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const v = sim[i][j];
      if (!Number.isFinite(v)) {
        throw new RangeError(
          `Cannot build B_matrix: encoder "${encoder.name}" gave ${v} at (${i}, ${j})`,
        );
      }
      out[i * K + j] = v;
    }
  }
  return out;
}
