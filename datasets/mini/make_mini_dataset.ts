/**
 * Writes the procedural mini dataset in the HumanML3D layout:
 *
 * ```
 * <output_dir>/
 *   new_joint_vecs/{id}.npy   (T-1, 263) float32 features (jointsToFeatures)
 *   new_joints/{id}.npy       (T-1, 22, 3) float32 joints recovered from the features (recoverFromRic)
 *   texts/{id}.txt            caption#word/POS ...#from#to, one line per caption
 *   Mean.npy, Std.npy         (263) float32, as HumanML3D's cal_mean_variance
 *   train.txt val.txt test.txt all.txt   ids, one per line (a clip and its mirror share a split)
 *   manifest.json             cache key, parameters, counts, SHA-256 and size of every file
 * ```
 *
 * Ids are six digits (`000123`), mirrors `M000123`. The build is deterministic in (generator
 * version, source code, parameters); when `manifest.json` already has the same key and every file
 * it lists is present with its size, nothing is rebuilt. A build goes to a temporary sibling
 * directory that replaces the output directory only when complete.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Rng } from "../../kernels/rng/philox.ts";
import { encodeNpy } from "../npy.ts";
import { jointsToFeatures } from "../motion/process.ts";
import { recoverFromRic } from "../motion/recover.ts";
import { KIT, T2M } from "../motion/skeleton.ts";
import { t2mToKit } from "./_kit.ts";
import { FeatureStats } from "./_stats.ts";
import { formatTextLine, mirrorTextLine } from "./captions.ts";
import { generateClip } from "./generate_clip.ts";
import { mirrorJoints } from "./mirror.ts";

/** Bump when the generator's output changes in a way the source hash would not show. */
export const MINI_GENERATOR_VERSION = "mini-humanml/1";
/** Default output directory (relative to the working directory). */
export const DEFAULT_MINI_DIR = "datasets/mini_cache/humanml";
/** Default output directory of the KIT-style variant. */
export const DEFAULT_MINI_KIT_DIR = "datasets/mini_cache/kit";
/** Default number of generated clips (mirrors double it). */
export const DEFAULT_NUM_CLIPS = 2000;
/** Split fractions (train, val; test takes the rest), about HumanML3D's 80/5/15. */
export const SPLIT_FRACTIONS = { train: 0.8, val: 0.05 } as const;

/** Options of `makeMiniDataset()`. */
export interface MiniDatasetOptions {
  /** Output directory (default `DEFAULT_MINI_DIR`, or `DEFAULT_MINI_KIT_DIR` with `kit`). */
  outputDir?: string;
  /** Generated clips before mirroring (default 2000). */
  numClips?: number;
  /** Seed of every random draw (u32, default 0). */
  seed?: number;
  /** Rebuild even if the cache key matches. */
  force?: boolean;
  /**
   * KIT-ML-style variant: the same clips retargeted to the 21-joint KIT skeleton (millimetres,
   * stand-in bone lengths), 12.5 fps, 251 features, five-digit ids, whole-clip captions only.
   */
  kit?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** Contents of `manifest.json`. */
export interface MiniManifest {
  /** `MINI_GENERATOR_VERSION`. */
  generator: string;
  /** SHA-256 of the generator and motion-processing sources. */
  source: string;
  params: { num_clips: number; seed: number; kit: boolean; mirror: boolean };
  /** SHA-256 of the canonical JSON of {generator, source, params}: the cache key. */
  key: string;
  /** Number of ids (clips and mirrors). */
  clips: number;
  /** Total feature frames over all ids. */
  frames: number;
  /** Generated clips per motion family (before mirroring). */
  families: Record<string, number>;
  splits: { train: number; val: number; test: number };
  /** Relative path → SHA-256 (hex) and size in bytes, sorted by path. */
  files: Record<string, { sha256: string; bytes: number }>;
  /** Wall time of the build, seconds (informational, not hashed). */
  build_seconds: number;
  /** True when this call found a matching cache and wrote nothing. */
  cached: boolean;
}

const encoder = new TextEncoder();

/** SHA-256 in hex (node:crypto: synchronous, and faster than WebCrypto for many small files). */
function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** JSON with object keys sorted at every level (stable across runs). */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v);
}

/** SHA-256 over the sources that decide the output (this folder and datasets/motion). */
function sourceHash(): string {
  const parts: string[] = [];
  for (const rel of ["./", "../motion/"]) {
    const dir = new URL(rel, import.meta.url);
    if (dir.protocol !== "file:") return "unavailable";
    const names: string[] = [];
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && e.name.endsWith(".ts")) names.push(e.name);
    }
    names.sort();
    for (const n of names) parts.push(`${rel}${n}\n${Deno.readTextFileSync(new URL(n, dir))}`);
  }
  return sha256Hex(encoder.encode(parts.join("\n\0\n")));
}

function checkOptions(o: MiniDatasetOptions): { numClips: number; seed: number } {
  const numClips = o.numClips ?? DEFAULT_NUM_CLIPS;
  const seed = o.seed ?? 0;
  const most = o.kit ? 99_999 : 999_999; // ids have five (KIT) or six digits
  if (!Number.isInteger(numClips) || numClips < 20 || numClips > most) {
    throw new RangeError(
      `Cannot make the mini dataset: --num_clips ${numClips} is not an integer in [20, ${most}]`,
    );
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`Cannot make the mini dataset: --seed ${seed} is not a u32 integer`);
  }
  return { numClips, seed };
}

/** Reads `dir/manifest.json` if it exists and parses; null otherwise. */
async function readManifest(dir: string): Promise<MiniManifest | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`)) as MiniManifest;
  } catch {
    return null;
  }
}

/** True when every file listed in the manifest exists under `dir` with its recorded size. */
async function filesPresent(dir: string, m: MiniManifest): Promise<boolean> {
  for (const [rel, info] of Object.entries(m.files)) {
    try {
      if ((await Deno.stat(`${dir}/${rel}`)).size !== info.bytes) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Split of each clip index: shuffled by `Rng(seed, 0)`, then 80% / 5% / 15%. */
function splitIndices(
  numClips: number,
  seed: number,
): { train: number[]; val: number[]; test: number[] } {
  const order = new Rng(seed, 0).shuffle(Array.from({ length: numClips }, (_, i) => i));
  const nTrain = Math.round(numClips * SPLIT_FRACTIONS.train);
  const nVal = Math.max(1, Math.round(numClips * SPLIT_FRACTIONS.val));
  const sort = (a: number[]) => a.sort((x, y) => x - y);
  return {
    train: sort(order.slice(0, nTrain)),
    val: sort(order.slice(nTrain, nTrain + nVal)),
    test: sort(order.slice(nTrain + nVal)),
  };
}

/**
 * Builds the mini dataset (or finds it cached) and returns its manifest.
 *
 * @example
 * ```ts ignore
 * const m = await makeMiniDataset({ outputDir: "/tmp/mini", numClips: 60, seed: 1 });
 * console.log(m.clips); // 120
 * ```
 */
export async function makeMiniDataset(opts: MiniDatasetOptions = {}): Promise<MiniManifest> {
  const { numClips, seed } = checkOptions(opts);
  const kit = opts.kit ?? false;
  const spec = kit ? KIT : T2M;
  const idWidth = kit ? 5 : 6;
  const outputDir = (opts.outputDir ?? (kit ? DEFAULT_MINI_KIT_DIR : DEFAULT_MINI_DIR))
    .replace(/\/+$/, "");
  const log = opts.log ?? (() => {});

  const started = performance.now();
  const source = sourceHash();
  const params = { num_clips: numClips, seed, kit, mirror: true };
  const key = sha256Hex(
    encoder.encode(canonicalJson({ generator: MINI_GENERATOR_VERSION, source, params })),
  );

  const existing = await readManifest(outputDir);
  if (!opts.force && existing?.key === key && (await filesPresent(outputDir, existing))) {
    return { ...existing, cached: true };
  }
  if (existing === null) {
    // Never replace a directory we did not write.
    let nonEmpty = false;
    try {
      for await (const _ of Deno.readDir(outputDir)) {
        nonEmpty = true;
        break;
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (nonEmpty) {
      throw new Error(
        `Cannot write the mini dataset to "${outputDir}": the directory is not empty and has no manifest.json; choose another --output_dir`,
      );
    }
  }

  const tmp = `${outputDir}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  for (const sub of ["new_joint_vecs", "new_joints", "texts"]) {
    await Deno.mkdir(`${tmp}/${sub}`, { recursive: true });
  }
  const files: Record<string, { sha256: string; bytes: number }> = {};
  const put = (rel: string, bytes: Uint8Array) => {
    Deno.writeFileSync(`${tmp}/${rel}`, bytes);
    files[rel] = { sha256: sha256Hex(bytes), bytes: bytes.length };
  };
  try {
    const stats = new FeatureStats(spec.nfeats);
    const families: Record<string, number> = {};
    let frames = 0;
    const writeClip = (id: string, t2m: Float32Array, T20: number, lines: string[]) => {
      const { joints, frames: T } = kit ? t2mToKit(t2m, T20) : { joints: t2m, frames: T20 };
      const { features } = jointsToFeatures(joints, T, spec); // (T-1, F)
      const recovered = recoverFromRic(features, T - 1, spec); // (T-1, J, 3)
      stats.add(features, T - 1);
      frames += T - 1;
      put(
        `new_joint_vecs/${id}.npy`,
        encodeNpy({ dtype: "<f4", shape: [T - 1, spec.nfeats], data: features }),
      );
      put(
        `new_joints/${id}.npy`,
        encodeNpy({ dtype: "<f4", shape: [T - 1, spec.joints, 3], data: recovered }),
      );
      put(`texts/${id}.txt`, encoder.encode(lines.join("\n") + "\n"));
    };
    for (let i = 0; i < numClips; i++) {
      const clip = generateClip(seed, i);
      families[clip.family] = (families[clip.family] ?? 0) + 1;
      const id = String(i).padStart(idWidth, "0");
      // The public loaders read sub-span times at 20 fps, so KIT keeps whole-clip lines only.
      const texts = kit ? clip.texts.filter((l) => l.from === 0 && l.to === 0) : clip.texts;
      writeClip(id, clip.joints, clip.frames, texts.map(formatTextLine));
      writeClip(
        `M${id}`,
        mirrorJoints(clip.joints, clip.frames),
        clip.frames,
        texts.map((l) => formatTextLine(mirrorTextLine(l))),
      );
      if ((i + 1) % 500 === 0) log(`  ${i + 1}/${numClips} clips`);
    }
    const { mean, std } = stats.meanStd(spec.joints);
    put("Mean.npy", encodeNpy({ dtype: "<f4", shape: [spec.nfeats], data: mean }));
    put("Std.npy", encodeNpy({ dtype: "<f4", shape: [spec.nfeats], data: std }));
    const splits = splitIndices(numClips, seed);
    const idsOf = (idx: number[]) => {
      const base = idx.map((i) => String(i).padStart(idWidth, "0"));
      return [...base, ...base.map((b) => `M${b}`)];
    };
    const all: string[] = [];
    for (const name of ["train", "val", "test"] as const) {
      const ids = idsOf(splits[name]);
      all.push(...ids);
      put(`${name}.txt`, encoder.encode(ids.join("\n") + "\n"));
    }
    all.sort();
    put("all.txt", encoder.encode(all.join("\n") + "\n"));

    const sortedFiles: MiniManifest["files"] = {};
    for (const k of Object.keys(files).sort()) sortedFiles[k] = files[k];
    const manifest: MiniManifest = {
      generator: MINI_GENERATOR_VERSION,
      source,
      params,
      key,
      clips: 2 * numClips,
      frames,
      families,
      splits: {
        train: 2 * splits.train.length,
        val: 2 * splits.val.length,
        test: 2 * splits.test.length,
      },
      files: sortedFiles,
      build_seconds: Math.round((performance.now() - started) / 10) / 100,
      cached: false,
    };
    const { cached: _cached, ...onDisk } = manifest;
    Deno.writeTextFileSync(`${tmp}/manifest.json`, JSON.stringify(onDisk, null, 1) + "\n");
    // Swap the finished build in.
    await Deno.remove(outputDir, { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    const parent = outputDir.includes("/") ? outputDir.slice(0, outputDir.lastIndexOf("/")) : ".";
    if (parent) await Deno.mkdir(parent, { recursive: true });
    await Deno.rename(tmp, outputDir);
    return manifest;
  } catch (err) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw err;
  }
}
