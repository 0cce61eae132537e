/**
 * Composite construction: samples of K dataset items played one after another, whose total
 * length fits `target_length ± tolerance` frames; the prompts of the segment-dense reward.
 *
 * Drawing one sample (all from `Rng(seed, COMPOSITE_STREAM)`, so a seed fixes the output):
 * 1. slot by slot, draw an item uniformly among those whose length still lets the remaining
 *    slots fit (every later slot needs at least the shortest and at most the longest item);
 *    the last slot therefore lands inside the window by construction;
 * 2. items of one sample come from distinct clips (a clip, its caption sub-spans and its mirror
 *    `M{id}` count as one clip);
 * 3. the K segments are shuffled (the last slot's length is the least free; shuffling removes
 *    that position bias); a sample whose set of items was already drawn is drawn again;
 * 4. each segment takes one random caption of its item.
 *
 * Impossible requests (the K shortest items are already too long, the K longest too short,
 * fewer distinct clips than K) throw a RangeError naming the flags; if only some samples can be
 * found within the draw budget, the result carries a warning.
 * @module
 */
import { Rng } from "../../kernels/rng/philox.ts";
import type { Caption } from "../humanml/text.ts";
import type { CompositeSample } from "./layout.ts";
import { computeBMatrix, type SegmentEncoder } from "./segment_encoder.ts";

const COMPOSITE_STREAM = 0x434f; // "CO"

/** What construction needs of a dataset item (the loader's `Item` fits). */
export interface CompositeSource {
  name: string;
  clipId: string;
  motion: Float32Array; // (length, F)
  length: number;
  captions: readonly Caption[];
}

/** Options of {@linkcode constructComposites}, named after the CLI flags. */
export interface CompositeOptions {
  /** `--k_segments`: 3, 4 or 5. */
  k: number;
  /** `--target_length` in frames. */
  targetLength: number;
  /** `--tolerance` in frames. */
  tolerance: number;
  /** `--fps`: frames per second of the features, for `durations`. */
  fps: number;
  /** `--max_samples`. */
  maxSamples: number;
  seed: number;
  /** Feature size per frame (263 or 251). */
  dimPose: number;
  /** Split name, for messages. */
  split?: string;
  /** With `--compute_b_matrix`: the encoder whose similarities fill `B_matrix`. */
  encoder?: SegmentEncoder;
  /** Draws allowed per requested sample before giving up (default 50). */
  drawsPerSample?: number;
}

/** Samples and what happened while drawing them. */
export interface CompositeResult {
  samples: CompositeSample[];
  draws: number;
  warnings: string[];
}

/** The same clip for the purpose of "distinct clips": a mirrored `M{id}` is its source `id`. */
function clipKey(clipId: string): string {
  return clipId.replace(/^M/, "");
}

/** First index in the ascending `lengths` whose value is >= x. */
function lowerBound(lengths: readonly number[], x: number): number {
  let lo = 0, hi = lengths.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lengths[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Checks a request, then draws up to `maxSamples` composites (see the module doc). */
export async function constructComposites(
  sources: readonly CompositeSource[],
  opts: CompositeOptions,
): Promise<CompositeResult> {
  const { k: K, targetLength, tolerance, fps, maxSamples } = opts;
  const split = opts.split ?? "the";
  if (![3, 4, 5].includes(K)) throw new RangeError(`Invalid --k_segments ${K}: use 3, 4 or 5`);
  if (!Number.isInteger(targetLength) || targetLength < 1) {
    throw new RangeError(`Invalid --target_length ${targetLength}: use a positive frame count`);
  }
  if (!Number.isInteger(tolerance) || tolerance < 0) {
    throw new RangeError(`Invalid --tolerance ${tolerance}: use a frame count >= 0`);
  }
  if (!(fps > 0)) throw new RangeError(`Invalid --fps ${fps}: use a positive frame rate`);
  if (!Number.isInteger(maxSamples) || maxSamples < 1) {
    throw new RangeError(`Invalid --max_samples ${maxSamples}: use a positive count`);
  }
  const pool = sources.filter((s) => s.captions.length > 0).sort((a, b) => a.length - b.length);
  const lengths = pool.map((s) => s.length);
  const clips = new Set(pool.map((s) => clipKey(s.clipId)));
  const lo = targetLength - tolerance, hi = targetLength + tolerance;
  const window = `--target_length ${targetLength} ± --tolerance ${tolerance} (${lo}..${hi} frames)`;
  if (clips.size < K) {
    throw new RangeError(
      `Cannot construct composites: the ${split} split has ${clips.size} distinct clip(s), ` +
        `fewer than --k_segments ${K}`,
    );
  }
  const minSum = lengths.slice(0, K).reduce((a, b) => a + b, 0);
  const maxSum = lengths.slice(-K).reduce((a, b) => a + b, 0);
  if (minSum > hi) {
    throw new RangeError(
      `Cannot construct composites: the ${K} shortest items of the ${split} split already ` +
        `have ${minSum} frames, more than ${window}; lower --k_segments or raise --target_length`,
    );
  }
  if (maxSum < lo) {
    throw new RangeError(
      `Cannot construct composites: the ${K} longest items of the ${split} split have only ` +
        `${maxSum} frames, fewer than ${window}; raise --k_segments or lower --target_length`,
    );
  }
  const minLen = lengths[0], maxLen = lengths[lengths.length - 1];
  const rng = new Rng(opts.seed, COMPOSITE_STREAM);
  const seen = new Set<string>();
  const picked: CompositeSource[][] = [];
  const budget = maxSamples * (opts.drawsPerSample ?? 50);
  let draws = 0;
  while (picked.length < maxSamples && draws < budget) {
    draws++;
    const chosen: CompositeSource[] = [];
    const keys = new Set<string>();
    let sum = 0;
    for (let slot = 0; slot < K; slot++) {
      const rest = K - slot - 1; // slots after this one
      const a = lowerBound(lengths, lo - sum - rest * maxLen);
      const b = lowerBound(lengths, hi - sum - rest * minLen + 1);
      if (a >= b) break;
      const item = pool[a + rng.int(b - a)];
      if (keys.has(clipKey(item.clipId))) break;
      keys.add(clipKey(item.clipId));
      chosen.push(item);
      sum += item.length;
    }
    if (chosen.length < K) continue;
    const key = chosen.map((s) => s.name).sort().join("\n");
    if (seen.has(key)) continue;
    seen.add(key);
    picked.push(rng.shuffle(chosen));
  }
  if (picked.length === 0) {
    throw new RangeError(
      `Cannot construct composites: no ${K} distinct clips of the ${split} split fit ${window} ` +
        `in ${draws} draws; change --k_segments, --target_length or --tolerance`,
    );
  }
  const warnings: string[] = [];
  if (picked.length < maxSamples) {
    warnings.push(
      `Found ${picked.length} distinct composites of ${K} clips fitting ${window} in ${draws} ` +
        `draws, fewer than --max_samples ${maxSamples}`,
    );
  }
  const samples: CompositeSample[] = [];
  for (const chosen of picked) {
    const captions = chosen.map((s) => s.captions[rng.int(s.captions.length)]);
    const sample = concatenate(chosen, captions, opts.dimPose, fps);
    if (opts.encoder) sample.bMatrix = await computeBMatrix(opts.encoder, sample);
    samples.push(sample);
  }
  return { samples, draws, warnings };
}

/** Concatenates the segments' raw features and fills the per-sample fields. */
function concatenate(
  chosen: readonly CompositeSource[],
  captions: readonly Caption[],
  F: number,
  fps: number,
): CompositeSample {
  const K = chosen.length;
  const T = chosen.reduce((a, s) => a + s.length, 0);
  const motion = new Float32Array(T * F); // (T, F)
  const segmentIds = new Int32Array(T); // (T)
  const lengths = new Int32Array(K); // (K)
  const durations = new Float64Array(K); // (K)
  let t = 0;
  for (let k = 0; k < K; k++) {
    const s = chosen[k];
    if (s.motion.length !== s.length * F) {
      throw new RangeError(
        `Cannot construct composites: item "${s.name}" has ${s.motion.length} values, not ` +
          `${s.length} frames of ${F}`,
      );
    }
    motion.set(s.motion, t * F);
    segmentIds.fill(k, t, t + s.length);
    lengths[k] = s.length;
    durations[k] = s.length / fps;
    t += s.length;
  }
  return {
    sourceIds: chosen.map((s) => s.name),
    texts: captions.map((c) => c.caption),
    tokens: captions.map((c) => [...c.tokens]),
    lengths,
    durations,
    motion,
    segmentIds,
    totalLength: T,
    dimPose: F,
    fps,
    bMatrix: null,
  };
}
