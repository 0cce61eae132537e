/**
 * Prompts of a GRPO step: `batch_size` prompts, each repeated `group_size` times (groups
 * contiguous), from one of three sources:
 *
 * - `dataset` (default): the loader's next batch (caption, crop length), one segment per prompt.
 * - `dense` (`--use_dense_reward` without a composite dataset): K = `--k_segments` random
 *   training items composed on the fly. Each item gives a random caption and its length; when the
 *   lengths sum to more than `--max_motion_length` they are scaled down to fit (each segment
 *   `max(1, floor(len * max / total))` frames). The policy's text is the sub-texts joined with
 *   `", then "` ("a man walks, then he sits down"), the sub-texts and durations (frames) are kept
 *   for the segment-dense reward.
 * - `composite` (`--use_composite_dataset`): samples of a composite file (`readComposite`) in a
 *   seeded shuffled order, texts joined the same way, durations the segment lengths, the total
 *   length cut to `--max_motion_length`.
 *
 * `distractors` > 0 also draws that many captions from other items per prompt (the 31 candidate
 * texts of the MDM evaluator's `r_precision` reward).
 *
 * Every draw comes from `Rng(seed, PROMPT_STREAM)` (plus the loader's own streams), and `state()`
 * / `restore()` save and resume the position, so a resumed run sees the same prompts.
 * @module
 */
import { Rng } from "../../kernels/rng/philox.ts";
import type { CompositeSample } from "../../datasets/composite/layout.ts";

/** Joins the sub-texts of a composed prompt into the policy's text. */
export const SEGMENT_JOINER = ", then ";

const PROMPT_STREAM = 0x50520000; // "PR"

/** What the sampler needs of a dataset split (`HumanMLDataset` fits). */
export interface PromptDataset {
  readonly items: readonly { length: number; captions: readonly { caption: string }[] }[];
  nextBatch(batchSize: number): { captions: string[]; lengths: Int32Array };
  state(): unknown;
  restore(state: never): void;
}

/** One prompt: the policy's text, the motion length, and its segments. */
export interface Prompt {
  text: string;
  /** Frames to generate. */
  length: number;
  /** Sub-texts, one per segment (one segment for a plain dataset prompt). */
  segmentTexts: string[];
  /** Segment durations in frames (they sum to `length`). */
  durations: number[];
  /** Captions of other items (only with `distractors` > 0). */
  distractors: string[];
}

/** The prompts of one step, expanded to groups. */
export interface PromptBatch {
  /** (B) */
  prompts: Prompt[];
  groupSize: number;
  /** Policy text of every sample (N = B * G), groups contiguous. */
  texts: string[];
  /** (N) frames of every sample. */
  lengths: Int32Array;
}

/** Saved position of a {@linkcode PromptSampler} (JSON-serialisable). */
export interface PromptSamplerState {
  rngPosition: number;
  loader: unknown;
  compositeCursor: number;
  compositeEpoch: number;
}

/** Options of {@linkcode PromptSampler}. */
export interface PromptSamplerOptions {
  source: "dataset" | "dense" | "composite";
  seed: number;
  /** `--k_segments` (dense source). */
  kSegments: number;
  /** `--max_motion_length`. */
  maxMotionLength: number;
  /** The loaded training split (all sources draw distractors from it). */
  dataset: PromptDataset;
  /** Composite samples (composite source). */
  composite?: readonly CompositeSample[];
  /** Distractor captions per prompt; default 0. */
  distractors?: number;
}

/** Draws the prompts of each step; see the module doc. */
export class PromptSampler {
  readonly options: PromptSamplerOptions;
  #rng: Rng;
  #compositeOrder: number[] = [];
  #compositeCursor = 0;
  #compositeEpoch = 0;

  constructor(options: PromptSamplerOptions) {
    this.options = options;
    this.#rng = new Rng(options.seed, PROMPT_STREAM);
    if (options.dataset.items.length === 0) {
      throw new RangeError("Cannot draw GRPO prompts: the training split has no items");
    }
    if (options.source === "composite") {
      if (!options.composite || options.composite.length === 0) {
        throw new RangeError("Cannot draw GRPO prompts: the composite dataset has no samples");
      }
      this.#compositeOrder = this.#shuffleComposite(0);
    }
    if (!Number.isInteger(options.kSegments) || options.kSegments < 1) {
      throw new RangeError(`Cannot draw GRPO prompts: --k_segments ${options.kSegments} < 1`);
    }
  }

  /** The prompts of the next step: `batchSize` prompts, each repeated `groupSize` times. */
  next(batchSize: number, groupSize: number): PromptBatch {
    const prompts: Prompt[] = [];
    if (this.options.source === "dataset") {
      const b = this.options.dataset.nextBatch(batchSize);
      for (let i = 0; i < batchSize; i++) {
        const length = Math.min(b.lengths[i], this.options.maxMotionLength);
        prompts.push({
          text: b.captions[i],
          length,
          segmentTexts: [b.captions[i]],
          durations: [length],
          distractors: [],
        });
      }
    } else {
      for (let i = 0; i < batchSize; i++) {
        prompts.push(
          this.options.source === "dense" ? this.#composeDense() : this.#nextComposite(),
        );
      }
    }
    for (const p of prompts) p.distractors = this.#drawDistractors(p.text);
    const N = batchSize * groupSize;
    const texts: string[] = [];
    const lengths = new Int32Array(N);
    prompts.forEach((p, i) => {
      for (let g = 0; g < groupSize; g++) {
        texts.push(p.text);
        lengths[i * groupSize + g] = p.length;
      }
    });
    return { prompts, groupSize, texts, lengths };
  }

  /** Position to resume from. */
  state(): PromptSamplerState {
    return {
      rngPosition: this.#rng.position,
      loader: this.options.dataset.state(),
      compositeCursor: this.#compositeCursor,
      compositeEpoch: this.#compositeEpoch,
    };
  }

  /** Resumes from a saved {@linkcode PromptSamplerState}. */
  restore(s: PromptSamplerState): void {
    this.#rng = new Rng(this.options.seed, PROMPT_STREAM);
    this.#rng.position = s.rngPosition;
    this.options.dataset.restore(s.loader as never);
    this.#compositeEpoch = s.compositeEpoch;
    this.#compositeCursor = s.compositeCursor;
    if (this.options.source === "composite") {
      this.#compositeOrder = this.#shuffleComposite(s.compositeEpoch);
    }
  }

  #composeDense(): Prompt {
    const items = this.options.dataset.items;
    const K = this.options.kSegments, max = this.options.maxMotionLength;
    const texts: string[] = [], lens: number[] = [];
    for (let k = 0; k < K; k++) {
      const item = items[this.#rng.int(items.length)];
      texts.push(item.captions[this.#rng.int(item.captions.length)].caption);
      lens.push(item.length);
    }
    const durations = fitDurations(lens, max);
    return {
      text: texts.join(SEGMENT_JOINER),
      length: durations.reduce((a, b) => a + b, 0),
      segmentTexts: texts,
      durations,
      distractors: [],
    };
  }

  #nextComposite(): Prompt {
    const samples = this.options.composite!;
    if (this.#compositeCursor >= this.#compositeOrder.length) {
      this.#compositeEpoch++;
      this.#compositeCursor = 0;
      this.#compositeOrder = this.#shuffleComposite(this.#compositeEpoch);
    }
    const s = samples[this.#compositeOrder[this.#compositeCursor++]];
    const durations = fitDurations([...s.lengths], this.options.maxMotionLength);
    return {
      text: s.texts.join(SEGMENT_JOINER),
      length: durations.reduce((a, b) => a + b, 0),
      segmentTexts: [...s.texts],
      durations,
      distractors: [],
    };
  }

  #drawDistractors(text: string): string[] {
    const n = this.options.distractors ?? 0;
    const items = this.options.dataset.items;
    const out: string[] = [];
    // Bounded tries: a split whose every caption equals the prompt cannot fill the list.
    for (let tries = 0; out.length < n && tries < 50 * n; tries++) {
      const item = items[this.#rng.int(items.length)];
      const c = item.captions[this.#rng.int(item.captions.length)].caption;
      if (c !== text) out.push(c);
    }
    return out;
  }

  #shuffleComposite(epoch: number): number[] {
    const order = Array.from({ length: this.options.composite!.length }, (_, i) => i);
    return new Rng(this.options.seed, (PROMPT_STREAM + 0x8000 + epoch) >>> 0).shuffle(order);
  }
}

/**
 * Segment lengths that fit `max` frames: unchanged when their sum fits, else each scaled by
 * `max / total` and floored (at least 1 frame each).
 */
export function fitDurations(lengths: readonly number[], max: number): number[] {
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total <= max) return [...lengths];
  return lengths.map((l) => Math.max(1, Math.floor(l * max / total)));
}
