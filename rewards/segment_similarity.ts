/**
 * A {@linkcode SegmentEncoder} (composite construction's `--compute_b_matrix`) on top of any
 * frozen text–motion encoder: `B[i][j]` is the TMR score `cos(m_i, t_j) / 2 + 0.5` between the
 * embedding of ground-truth segment motion i and sub-text j — the oracle of the segment-dense
 * reward.
 */
import type { SegmentEncoder } from "../datasets/composite/segment_encoder.ts";
import type { TextMotionEncoder } from "./encoder.ts";
import { tmrCosineScore } from "./semantic.ts";

export function segmentEncoderFrom(enc: TextMotionEncoder, F: number): SegmentEncoder {
  return {
    name: enc.name,
    async similarity(motions: Float32Array[], texts: string[]): Promise<number[][]> {
      const N = motions.length;
      const lengths = motions.map((m) => m.length / F);
      const T = Math.max(...lengths);
      const padded = new Float32Array(N * T * F); // (N, T, F); frames past each length ignored
      motions.forEach((m, i) => padded.set(m, i * T * F));
      const mu = await enc.encodeMotions(padded, lengths, N, T); // (N, D)
      const tu = await enc.encodeTexts(texts); // (K, D)
      const D = enc.dim;
      return motions.map((_, i) =>
        texts.map((_, j) =>
          tmrCosineScore(tu.subarray(j * D, (j + 1) * D), mu.subarray(i * D, (i + 1) * D))
        )
      );
    },
  };
}
