/**
 * Training data of the mini encoders: the clips of the mini dataset's train split (all, or the
 * even or odd half by the numeric part of the clip id, so a clip and its mirror fall in the same
 * half), their captions, and motions normalised with the encoder's own statistics.
 * @module
 */
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import { normalizeTmrMotion } from "../tmr/normalize.ts";
import type { MiniSubset } from "./config.ts";

/** One training clip. */
export interface MiniClip {
  /** Features normalised with the encoder's statistics. */
  motion: Float32Array; // (length, F)
  length: number;
  captions: string[];
}

/** The training clips with the statistics they were normalised by. */
export interface MiniTrainData {
  clips: MiniClip[];
  mean: Float32Array; // (F)
  std: Float32Array; // (F)
  F: number;
  /** The dataset's cache key (`manifest.json` `key`). */
  key: string;
}

/** Whether a clip id (e.g. `000123`, `M000123`) belongs to `subset`. */
export function inSubset(clipId: string, subset: MiniSubset): boolean {
  if (subset === "all") return true;
  const digits = clipId.replace(/\D/g, "");
  if (digits === "") {
    throw new TypeError(`Cannot split clip "${clipId}" into halves: its id has no digits`);
  }
  const odd = Number(digits.slice(-6)) % 2 === 1;
  return subset === "odd" ? odd : !odd;
}

/** The dataset's `manifest.json` key, or throws naming the file. */
export async function readDataKey(dataDir: string): Promise<string> {
  const path = `${dataDir}/manifest.json`;
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new Deno.errors.NotFound(
      `Cannot read the mini dataset manifest "${path}": ${(err as Error).message}`,
    );
  }
  const key = (raw as { key?: unknown }).key;
  if (typeof key !== "string") {
    throw new TypeError(`Cannot read the mini dataset manifest "${path}": no string "key"`);
  }
  return key;
}

/**
 * Per-feature mean and std (population, float64 sums) over every frame of `clips`; the std is
 * floored at `stdFloor` so that a feature that is constant in the data cannot blow up on a
 * generated motion.
 */
export function motionStats(
  raw: readonly Float32Array[], // each (T_i, F)
  F: number,
  stdFloor: number,
): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(F), sq = new Float64Array(F); // (F)
  let n = 0;
  for (const m of raw) {
    for (let i = 0; i < m.length; i += F) {
      for (let c = 0; c < F; c++) sum[c] += m[i + c];
      n++;
    }
  }
  if (n === 0) throw new RangeError("Cannot compute motion statistics: no frames");
  const mean = new Float32Array(F), std = new Float32Array(F); // (F)
  for (const m of raw) {
    for (let i = 0; i < m.length; i += F) {
      for (let c = 0; c < F; c++) {
        const d = m[i + c] - sum[c] / n;
        sq[c] += d * d;
      }
    }
  }
  for (let c = 0; c < F; c++) {
    mean[c] = sum[c] / n;
    std[c] = Math.max(Math.sqrt(sq[c] / n), stdFloor);
  }
  return { mean, std };
}

/** Loads the train clips of `subset` and normalises them with their own statistics. */
export async function loadMiniTrainData(
  dataDir: string,
  subset: MiniSubset,
  stdFloor: number,
): Promise<MiniTrainData> {
  const key = await readDataKey(dataDir);
  const ds = await HumanMLDataset.load({
    dataset: "humanml",
    dataRoot: dataDir,
    split: "train",
    seed: 0,
    strict: true,
  });
  const items = ds.items.filter((it) => inSubset(it.clipId, subset));
  if (items.length < 2) {
    throw new RangeError(
      `Cannot train on "${dataDir}" (${subset} clips of the train split): ${items.length} clip(s)`,
    );
  }
  const F = ds.mean.length;
  const { mean, std } = motionStats(items.map((it) => it.motion), F, stdFloor);
  const clips = items.map((it) => ({
    motion: normalizeTmrMotion(it.motion, mean, std),
    length: it.length,
    captions: it.captions.map((c) => c.caption),
  }));
  return { clips, mean, std, F, key };
}
