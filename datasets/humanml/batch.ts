/**
 * Batches of loader samples: motions zero-padded to a fixed length (MDM pads every item to
 * `max_motion_length` = 196 after normalisation), with lengths, masks, captions and tokens.
 * @module
 */

/** One item as `HumanMLDataset.sample()` returns it. */
export interface Sample {
  /** Item name: the clip id, or `X_id` for a caption sub-span. */
  name: string;
  caption: string;
  /** `maxTextLen + 2` padded tokens (`sos/OTHER ... eos/OTHER unk/OTHER...`). */
  tokens: string[];
  /** `sos` + kept tokens + `eos`. */
  sentLen: number;
  /** Normalised features of the crop. */
  motion: Float32Array; // (length, F)
  /** Crop length in frames (a multiple of the unit length). */
  length: number;
}

/** A batch of B samples. */
export interface Batch {
  /** Normalised features, zero after each item's length. */
  motions: Float32Array; // (B, Tmax, F)
  lengths: Int32Array; // (B)
  /** 1 for frames before the item's length, 0 for padding (float32, as the engine takes masks). */
  masks: Float32Array; // (B, Tmax)
  sentLens: Int32Array; // (B)
  captions: string[];
  tokens: string[][];
  names: string[];
  /** B, Tmax, F. */
  shape: [number, number, number];
}

/**
 * Stacks samples into a batch padded to `maxMotionLength` frames. `sortBySentLen` orders the
 * items by sentence length, longest first, as the T2M evaluator's `collate_fn` does (its text
 * GRU packs sequences); the sort is stable.
 */
export function collate(
  samples: readonly Sample[],
  dimPose: number,
  maxMotionLength = 196,
  sortBySentLen = false,
): Batch {
  const items = sortBySentLen ? [...samples].sort((a, b) => b.sentLen - a.sentLen) : samples;
  const B = items.length, T = maxMotionLength, F = dimPose;
  const motions = new Float32Array(B * T * F); // (B, T, F)
  const masks = new Float32Array(B * T); // (B, T)
  const lengths = new Int32Array(B);
  const sentLens = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const s = items[b];
    if (s.length > T || s.motion.length !== s.length * F) {
      throw new RangeError(
        `Cannot batch "${s.name}": ${s.length} frames of ${s.motion.length / s.length} features ` +
          `do not fit (${T}, ${F})`,
      );
    }
    motions.set(s.motion, b * T * F);
    masks.fill(1, b * T, b * T + s.length);
    lengths[b] = s.length;
    sentLens[b] = s.sentLen;
  }
  return {
    motions,
    lengths,
    masks,
    sentLens,
    captions: items.map((s) => s.caption),
    tokens: items.map((s) => s.tokens),
    names: items.map((s) => s.name),
    shape: [B, T, F],
  };
}
