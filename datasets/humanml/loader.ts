/**
 * The HumanML3D / KIT-ML text-motion loader with the public semantics (MDM
 * `Text2MotionDatasetV2`):
 *
 * - ids from `{split}.txt`; features `new_joint_vecs/{id}.npy (T, F)`, captions `texts/{id}.txt`;
 * - clips with `minMotionLength <= T < 200` are kept (40 frames for HumanML3D, 24 for KIT);
 * - a caption with a sub-span (`from`/`to` not both 0) becomes its own item with the motion
 *   `[int(from*20) : int(to*20)]` if that span passes the same length filter, named
 *   `L_id` with a random letter `L` from `A..W` (unique per clip); the clip's whole-clip
 *   captions form the item `id` (a clip with only sub-span captions gives no `id` item);
 * - items are ordered by length (stable);
 * - each draw picks a random caption of the item, pads its tokens to 22, crops the motion
 *   (`crop.ts`), normalises it with `Mean.npy`/`Std.npy`; batches pad to 196 frames.
 *
 * Robustness (the public loader skips every failing clip silently): a missing or corrupt `.npy`,
 * a missing caption file, or a malformed caption line skips that clip and appends a warning that
 * names the file (and `path:line` for captions) to `warnings`; with `strict: true` the first such
 * problem throws instead. Missing `Mean.npy`, `Std.npy` or split file always throws.
 *
 * Randomness: sub-span names draw from `Rng(seed, NAME_STREAM)` at load; caption and crop draws
 * from `Rng(seed, ITEM_STREAM)`; epoch `e`'s shuffle from `Rng(seed, SHUFFLE_STREAM + e)`.
 * `state()` / `restore()` save and resume the batch position.
 * @module
 */
import { Rng } from "../../kernels/rng/philox.ts";
import { loadNpy, npyToFloat32 } from "../npy.ts";
import { type DatasetName, type DatasetOptions, datasetOptions } from "./options.ts";
import { type Caption, padTokens, parseCaptionFile } from "./text.ts";
import { cropWindow } from "./crop.ts";
import { normalise } from "./normalise.ts";
import { type Batch, collate, type Sample } from "./batch.ts";

const NAME_STREAM = 0x4e41; // "NA"
const ITEM_STREAM = 0x4954; // "IT"
const SHUFFLE_STREAM = 0x53480000; // "SH" << 16, plus the epoch
const SPAN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVW";
const READ_AHEAD = 32; // clips read concurrently (file reads overlap; results are used in order)

/** Options of {@linkcode HumanMLDataset.load}. */
export interface LoaderOptions {
  dataset: DatasetName;
  /** Dataset root (default `./dataset/HumanML3D` or `./dataset/KIT-ML`). */
  dataRoot?: string;
  /** Split file name without `.txt`: `train`, `val`, `test`, ... */
  split: string;
  /** Seed of every random draw (u32). */
  seed: number;
  /** Throw on the first missing/corrupt clip or malformed caption line instead of skipping it. */
  strict?: boolean;
  /** `--disable_random_crop`: whole clip cut to a multiple of 4 frames, start 0 (see `crop.ts`). */
  disableRandomCrop?: boolean;
  /** Overrides of the public settings (tests, custom data). */
  overrides?: Partial<Omit<DatasetOptions, "dataset" | "dataRoot">>;
}

/** One dataset item: a clip or a caption sub-span, with its raw (un-normalised) features. */
export interface Item {
  /** `id`, or `L_id` for a sub-span. */
  name: string;
  /** The source clip id. */
  clipId: string;
  /** Raw features (a view into the clip's array for sub-spans). */
  motion: Float32Array; // (length, F)
  length: number;
  captions: Caption[];
}

/** Saved position of a loader (JSON-serialisable). */
export interface LoaderState {
  epoch: number;
  cursor: number;
  rngPosition: number;
}

/** The loaded split of HumanML3D or KIT-ML. */
export class HumanMLDataset {
  /** Items ordered by length (stable). */
  readonly items: Item[];
  readonly mean: Float32Array; // (F)
  readonly std: Float32Array; // (F)
  /** One line per skipped clip: what failed and where (`path:line` for caption lines). */
  readonly warnings: string[];
  /** Clips dropped by the length filter (not a problem, not warned). */
  readonly filtered: number;
  readonly disableRandomCrop: boolean;
  #rng: Rng;
  #epoch = 0;
  #cursor = 0;
  #order: number[] = [];

  private constructor(
    readonly opt: DatasetOptions,
    readonly seed: number,
    parts: {
      items: Item[];
      mean: Float32Array;
      std: Float32Array;
      warnings: string[];
      filtered: number;
      disableRandomCrop: boolean;
    },
  ) {
    this.items = parts.items;
    this.mean = parts.mean;
    this.std = parts.std;
    this.warnings = parts.warnings;
    this.filtered = parts.filtered;
    this.disableRandomCrop = parts.disableRandomCrop;
    this.#rng = new Rng(seed, ITEM_STREAM);
    this.#order = this.#shuffle(0);
  }

  /** Number of skipped clips (one warning each). */
  get skipped(): number {
    return this.warnings.length;
  }

  /** Number of items. */
  get length(): number {
    return this.items.length;
  }

  /** Loads a split; see the module doc for the rules. */
  static async load(options: LoaderOptions): Promise<HumanMLDataset> {
    const opt = { ...datasetOptions(options.dataset, options.dataRoot), ...options.overrides };
    const root = opt.dataRoot.replace(/\/+$/, "");
    const strict = options.strict ?? false;
    const mean = await loadStat(`${root}/Mean.npy`, opt.dimPose);
    const std = await loadStat(`${root}/Std.npy`, opt.dimPose);
    const splitPath = `${root}/${options.split}.txt`;
    let splitText: string;
    try {
      splitText = await Deno.readTextFile(splitPath);
    } catch (err) {
      throw new Deno.errors.NotFound(
        `Cannot load ${opt.dataset} split "${options.split}": cannot read ${splitPath} (${
          (err as Error).message
        })`,
      );
    }
    const ids = splitText.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== "");
    const warnings: string[] = [];
    const skip = (id: string, detail: string): void => {
      const message = `Skipped clip "${id}": ${detail}`;
      if (strict) throw new SyntaxError(`Cannot load ${opt.dataset} clip "${id}": ${detail}`);
      warnings.push(message);
    };
    const names = new Rng(options.seed, NAME_STREAM);
    const found: Item[] = [];
    let filtered = 0;
    for (let at = 0; at < ids.length; at += READ_AHEAD) {
      const chunk = ids.slice(at, at + READ_AHEAD);
      const reads = await Promise.all(chunk.map((id) => readClip(root, id, opt.dimPose)));
      for (let j = 0; j < chunk.length; j++) {
        const id = chunk[j], r = reads[j];
        if (!r.ok) {
          skip(id, r.error);
          continue;
        }
        const T = r.length;
        if (T < opt.minMotionLength || T >= opt.maxClipLength) {
          filtered++;
          continue;
        }
        const whole: Caption[] = [];
        const used = new Set<string>();
        for (const c of r.captions) {
          if (c.from === 0 && c.to === 0) {
            whole.push(c);
            continue;
          }
          const [s, e] = pySlice(
            Math.trunc(c.from * opt.spanFps),
            Math.trunc(c.to * opt.spanFps),
            T,
          );
          const len = e - s;
          if (len < opt.minMotionLength || len >= opt.maxClipLength) continue;
          found.push({
            name: spanName(id, used, names),
            clipId: id,
            motion: r.motion.subarray(s * opt.dimPose, e * opt.dimPose),
            length: len,
            captions: [c],
          });
        }
        if (whole.length > 0) {
          found.push({ name: id, clipId: id, motion: r.motion, length: T, captions: whole });
        }
      }
    }
    const items = found.map((item, i) => ({ item, i }))
      .sort((a, b) => a.item.length - b.item.length || a.i - b.i)
      .map((x) => x.item);
    return new HumanMLDataset(opt, options.seed, {
      items,
      mean,
      std,
      warnings,
      filtered,
      disableRandomCrop: options.disableRandomCrop ?? false,
    });
  }

  /**
   * Draws item `index` as the public loader's `__getitem__` does: a random caption (padded
   * tokens), a crop, normalisation. Advances the item stream (caption, coin, start).
   */
  sample(index: number): Sample {
    const item = this.items[index];
    if (!item) {
      throw new RangeError(`Cannot draw item ${index}: the split has ${this.length} items`);
    }
    const caption = item.captions[this.#rng.int(item.captions.length)];
    const { tokens, sentLen } = padTokens(caption.tokens, this.opt.maxTextLen);
    const crop = cropWindow(item.length, this.#rng, this.opt.unitLength, this.disableRandomCrop);
    const F = this.opt.dimPose;
    const raw = item.motion.subarray(crop.start * F, (crop.start + crop.length) * F); // (L, F)
    return {
      name: item.name,
      caption: caption.caption,
      tokens,
      sentLen,
      motion: normalise(raw, this.mean, this.std),
      length: crop.length,
    };
  }

  /**
   * The next batch of a shuffled pass (drop_last: an epoch yields `floor(N / B)` batches; the
   * next epoch reshuffles with its own stream).
   */
  nextBatch(batchSize: number, sortBySentLen = false): Batch {
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > this.length) {
      throw new RangeError(
        `Cannot draw a batch of ${batchSize}: the split has ${this.length} items`,
      );
    }
    if (this.#cursor + batchSize > this.#order.length) {
      this.#epoch++;
      this.#cursor = 0;
      this.#order = this.#shuffle(this.#epoch);
    }
    const picks = this.#order.slice(this.#cursor, this.#cursor + batchSize);
    this.#cursor += batchSize;
    return collate(
      picks.map((i) => this.sample(i)),
      this.opt.dimPose,
      this.opt.maxMotionLength,
      sortBySentLen,
    );
  }

  /** The position to resume from (epoch, batch cursor, item-stream position). */
  state(): LoaderState {
    return { epoch: this.#epoch, cursor: this.#cursor, rngPosition: this.#rng.position };
  }

  /** Resumes from a saved {@linkcode LoaderState}. */
  restore(state: LoaderState): void {
    this.#epoch = state.epoch;
    this.#cursor = state.cursor;
    this.#order = this.#shuffle(state.epoch);
    this.#rng = new Rng(this.seed, ITEM_STREAM);
    this.#rng.position = state.rngPosition;
  }

  #shuffle(epoch: number): number[] {
    const order = Array.from({ length: this.length }, (_, i) => i);
    return new Rng(this.seed, (SHUFFLE_STREAM + epoch) >>> 0).shuffle(order);
  }
}

/** Python slice bounds `[a:b]` on a sequence of `n`, clamped (negative indices count from the end). */
function pySlice(a: number, b: number, n: number): [number, number] {
  const fix = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const s = fix(a), e = fix(b);
  return [s, Math.max(s, e)];
}

/** `L_id` with a letter not used yet for this clip (`X{n}_id` once the 23 letters run out). */
function spanName(id: string, used: Set<string>, rng: Rng): string {
  const free = [...SPAN_LETTERS].filter((l) => !used.has(l));
  const letter = free.length > 0 ? rng.pick(free) : `X${used.size}`;
  used.add(letter);
  return `${letter}_${id}`;
}

async function loadStat(path: string, dim: number): Promise<Float32Array> {
  let arr;
  try {
    arr = await loadNpy(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot load dataset statistics: ${path} does not exist`);
    }
    throw err;
  }
  const v = npyToFloat32(arr, path);
  if (v.length !== dim) {
    throw new RangeError(
      `Cannot load dataset statistics "${path}": shape (${arr.shape}) is not (${dim})`,
    );
  }
  return v;
}

type ClipRead =
  | { ok: true; motion: Float32Array; length: number; captions: Caption[] }
  | { ok: false; error: string };

async function readClip(root: string, id: string, dim: number): Promise<ClipRead> {
  const npyPath = `${root}/new_joint_vecs/${id}.npy`;
  const textPath = `${root}/texts/${id}.txt`;
  let motion: Float32Array, length: number;
  try {
    const arr = await loadNpy(npyPath);
    if (arr.shape.length !== 2 || arr.shape[1] !== dim) {
      return { ok: false, error: `${npyPath} has shape (${arr.shape}), expected (T, ${dim})` };
    }
    motion = npyToFloat32(arr, npyPath);
    length = arr.shape[0];
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { ok: false, error: `${npyPath} does not exist` };
    }
    return { ok: false, error: (err as Error).message };
  }
  let text: string;
  try {
    text = await Deno.readTextFile(textPath);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { ok: false, error: `${textPath} does not exist` };
    }
    return { ok: false, error: `cannot read ${textPath}: ${(err as Error).message}` };
  }
  const parsed = parseCaptionFile(text, textPath);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  return { ok: true, motion, length, captions: parsed.captions };
}
