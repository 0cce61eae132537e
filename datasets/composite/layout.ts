/**
 * The composite dataset file `composite_k{K}_{split}.npy` (written by
 * `deno task construct-composite`, read by the trainer and the evaluator).
 *
 * It is a numpy **1-d object array** of N samples (`np.load(path, allow_pickle=True)` gives
 * `array([dict, dict, ...], dtype=object)`, shape `(N,)`); each sample is a dict:
 *
 * | key            | Python type                      | meaning                                          |
 * | -------------- | -------------------------------- | ------------------------------------------------ |
 * | `k`            | int                              | K, the number of segments (3, 4 or 5)            |
 * | `source_ids`   | list of K str                    | dataset item names (`id`, or `L_id` for a caption sub-span) |
 * | `texts`        | list of K str                    | one caption per segment, in segment order         |
 * | `tokens`       | list of K lists of str           | each caption's `word/POS` tokens, unpadded        |
 * | `lengths`      | ndarray int32 `(K,)`             | segment lengths in frames                         |
 * | `durations`    | ndarray float64 `(K,)`           | segment lengths in seconds: `lengths / fps`       |
 * | `motion`       | ndarray float32 `(T, F)`         | the K segments' raw (un-normalised) features, concatenated |
 * | `segment_ids`  | ndarray int32 `(T,)`             | segment index 0..K-1 of every frame               |
 * | `total_length` | int                              | T = sum of `lengths`, within `target_length ± tolerance` |
 * | `fps`          | float                            | frame rate used for `durations`                   |
 * | `B_matrix`     | ndarray float32 `(K, K)` or None | encoder similarity of segment motion i (rows) and text j (columns); None unless built with `--compute_b_matrix` |
 *
 * F is 263 (HumanML3D) or 251 (KIT). Motions are NOT normalised: a consumer applies the
 * dataset's `(x - Mean) / Std` itself, like the loader does.
 * @module
 */
import { PyFloat, type PyValue } from "../../io/pickle/values.ts";
import type { NpyArray } from "../npy.ts";
import { loadNpyObject, numpyArrayValue, saveNpyObject } from "../npy_object.ts";

/** One composite sample (camelCase twin of the dict in the file). */
export interface CompositeSample {
  sourceIds: string[];
  texts: string[];
  tokens: string[][];
  lengths: Int32Array; // (K)
  durations: Float64Array; // (K) seconds
  motion: Float32Array; // (T, F) raw features
  segmentIds: Int32Array; // (T)
  totalLength: number;
  /** Feature size per frame (263 or 251). */
  dimPose: number;
  fps: number;
  /** (K, K) row-major: rows are segment motions, columns sub-texts; null when not computed. */
  bMatrix: Float32Array | null;
}

/** The sample as the pickled dict described in the module doc. */
export function compositeToPy(s: CompositeSample): PyValue {
  const K = s.sourceIds.length;
  const T = s.totalLength;
  return new Map<PyValue, PyValue>([
    ["k", K],
    ["source_ids", [...s.sourceIds]],
    ["texts", [...s.texts]],
    ["tokens", s.tokens.map((t) => [...t])],
    ["lengths", numpyArrayValue({ dtype: "<i4", shape: [K], data: s.lengths })],
    ["durations", numpyArrayValue({ dtype: "<f8", shape: [K], data: s.durations })],
    ["motion", numpyArrayValue({ dtype: "<f4", shape: [T, s.dimPose], data: s.motion })],
    ["segment_ids", numpyArrayValue({ dtype: "<i4", shape: [T], data: s.segmentIds })],
    ["total_length", T],
    ["fps", new PyFloat(s.fps)],
    [
      "B_matrix",
      s.bMatrix === null ? null : numpyArrayValue({ dtype: "<f4", shape: [K, K], data: s.bMatrix }),
    ],
  ]);
}

/** Writes samples as `composite_k{K}_{split}.npy` content to `path`, atomically. */
export async function writeComposite(
  path: string,
  samples: readonly CompositeSample[],
): Promise<void> {
  await saveNpyObject(path, samples.map(compositeToPy));
}

/**
 * Reads a composite file (ours, or any file with the layout of the module doc). Each problem is
 * one error naming the path, the sample index and the key.
 */
export async function readComposite(path: string): Promise<CompositeSample[]> {
  const arr = await loadNpyObject(path);
  if (arr.shape.length !== 1) {
    throw new SyntaxError(
      `Cannot load composite file "${path}": shape (${arr.shape}) is not a 1-d list of samples`,
    );
  }
  return arr.items.map((item, i) =>
    sampleFromPy(item, `Cannot load composite file "${path}": sample ${i}`)
  );
}

function sampleFromPy(item: unknown, where: string): CompositeSample {
  const fail = (detail: string): never => {
    throw new SyntaxError(`${where}: ${detail}`);
  };
  if (!(item instanceof Map)) return fail("is not a dict");
  const get = (key: string): unknown => {
    if (!item.has(key)) fail(`key "${key}" is missing`);
    return item.get(key);
  };
  const strings = (key: string, v = get(key)): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      fail(`key "${key}" is not a list of str`);
    }
    return [...(v as string[])];
  };
  const array = (key: string, shapeLen: number): NpyArray => {
    const v = get(key);
    if (!isNpy(v) || v.shape.length !== shapeLen) {
      fail(`key "${key}" is not a ${shapeLen}-d ndarray`);
    }
    return v as NpyArray;
  };
  const sourceIds = strings("source_ids");
  const K = sourceIds.length;
  const texts = strings("texts");
  const tokensRaw = get("tokens");
  if (!Array.isArray(tokensRaw)) return fail(`key "tokens" is not a list`);
  const tokens = tokensRaw.map((t, j) => strings(`tokens[${j}]`, t));
  // Lists of numbers are accepted too (files written by other tools).
  const vector = (key: string): number[] => {
    const v = get(key);
    if (Array.isArray(v) && v.every((x) => typeof x === "number")) return v as number[];
    return toNumbers(array(key, 1));
  };
  const lengths = Int32Array.from(vector("lengths"));
  const durations = Float64Array.from(vector("durations"));
  const motionArr = array("motion", 2);
  const motion = motionArr.data instanceof Float32Array
    ? motionArr.data
    : Float32Array.from(toNumbers(motionArr));
  const segmentIds = Int32Array.from(vector("segment_ids"));
  const totalLength = Number(get("total_length"));
  const fps = item.has("fps") ? Number(item.get("fps")) : NaN;
  const b = item.get("B_matrix") ?? null;
  let bMatrix: Float32Array | null = null;
  if (b !== null) {
    if (!isNpy(b) || b.shape.join() !== `${K},${K}`) {
      fail(`key "B_matrix" is not a (${K}, ${K}) ndarray`);
    }
    bMatrix = Float32Array.from(toNumbers(b as NpyArray));
  }
  const sum = lengths.reduce((a, x) => a + x, 0);
  if (
    texts.length !== K || tokens.length !== K || lengths.length !== K || durations.length !== K
  ) {
    fail(`source_ids, texts, tokens, lengths and durations do not all have K = ${K} entries`);
  }
  if (
    motionArr.shape[0] !== totalLength || segmentIds.length !== totalLength || sum !== totalLength
  ) {
    fail(
      `total_length ${totalLength} disagrees with motion (${motionArr.shape}), ` +
        `segment_ids (${segmentIds.length}) or sum(lengths) ${sum}`,
    );
  }
  return {
    sourceIds,
    texts,
    tokens,
    lengths,
    durations,
    motion,
    segmentIds,
    totalLength,
    dimPose: motionArr.shape[1],
    fps,
    bMatrix,
  };
}

function isNpy(v: unknown): v is NpyArray {
  return typeof v === "object" && v !== null && "dtype" in v && "shape" in v && "data" in v;
}

function toNumbers(a: NpyArray): number[] {
  return Array.from(a.data as ArrayLike<number | bigint>, Number);
}
