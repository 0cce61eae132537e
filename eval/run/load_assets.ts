/**
 * Finds and loads what an evaluation or sampling run needs besides the data: the denoiser, the
 * text features it is conditioned on, and the independent evaluator.
 *
 * Text conditioning follows `text_encoder_type` in the checkpoint's `args.json`:
 * - `clip` (or absent: every official MDM checkpoint): CLIP ViT-B/32 text features from the ONNX
 *   export in `$MOTION_GRPO_ASSETS/clip/` (models/text/clip_text.ts); when the files are missing
 *   the run stops with {@linkcode UnavailableError} naming the variable and the path expected;
 * - `hashed_bow`: the deterministic hashed bag of words of `train/pretrain/`
 *   (`text_featurizer.dim`, `text_featurizer.seed`);
 * - `mini-*`: the mini profile's text encoder (`text/` of the mini model folder).
 *
 * The evaluator follows the same profile:
 * - a CLIP-conditioned model (official MDM) is scored by the official T2M evaluator of Guo et al.
 *   (models/t2m/): `t2m/text_mot_match/model/finest.tar` (`kit/...` for KIT-ML), GloVe in
 *   `glove/` and its feature statistics `dataset/t2m_mean.npy`, `t2m_std.npy` (`kit_*`), all
 *   under `$MOTION_GRPO_ASSETS` (models/t2m/assets.ts); when files are missing the run stops
 *   with {@linkcode UnavailableError} naming the variable and the paths expected;
 * - a model conditioned on the project's own featurizers (`hashed_bow`, `mini-*`) is scored by
 *   the mini profile's evaluator (`evaluator/` of the mini model folder).
 *
 * The mini model folder is the first of `$MOTION_GRPO_MINI_MODELS`, `assets/mini/` and
 * `datasets/mini_cache/models/` (relative to the repository) holding the needed sub-folder.
 * @module
 */
import type { Backend } from "../../kernels/backend.ts";
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import { loadMdmStateDict, type MdmArgs, readArgsJson } from "../../models/checkpoint/mod.ts";
import { mdmConfigFromArgs } from "../../models/mdm/config.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";
import type { Featurizer } from "./generate.ts";
import { optionalExport } from "./_optional_module.ts";
import { findTextModel, TextAssetError } from "../../models/text/assets.ts";
import { clipMismatch, ClipTextFeaturizer } from "../../models/text/clip_text.ts";
import { onnxDeviceFor } from "../../onnx/session.ts";
import {
  loadOfficialT2mEvaluator,
  locateOfficialT2mFiles,
  type OfficialT2mFiles,
  T2mAssetError,
} from "../../models/t2m/mod.ts";
import type { DatasetName } from "../../datasets/humanml/options.ts";

/** A network the run needs cannot be found or built; the one-line message says which and where. */
export class UnavailableError extends Error {
  /** Wraps the one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "UnavailableError";
  }
}

/** The network that conditions official MDM checkpoints. */
export const CLIP_MISSING =
  "the CLIP ViT-B/32 text encoder that conditions official MDM checkpoints " +
  '(args.json text_encoder_type "clip")';
/** The official evaluator (its files are named by models/t2m/assets.ts). */
export const T2M_EVALUATOR_MISSING = "the official T2M evaluator (finest.tar with GloVe)";

const MINI_ENCODER_MODULES = ["../../models/mini/mod.ts", "../../models/mini/mini_encoder.ts"];
const HASHED_BOW_MODULE = "../../train/pretrain/hashed_bag_of_words.ts";

/** The candidate mini model folders, in search order. */
export function miniModelRoots(): string[] {
  const roots: string[] = [];
  const env = Deno.env.get("MOTION_GRPO_MINI_MODELS");
  if (env) roots.push(env);
  roots.push(new URL("../../assets/mini/", import.meta.url).pathname);
  roots.push(new URL("../../datasets/mini_cache/models/", import.meta.url).pathname);
  return roots;
}

/** The first `<root>/<role>` folder holding a `config.json`, or null. */
export async function findMiniModel(role: "evaluator" | "text"): Promise<string | null> {
  for (const root of miniModelRoots()) {
    const dir = `${root.replace(/\/+$/, "")}/${role}`;
    const ok = await Deno.stat(`${dir}/config.json`).then((s) => s.isFile, () => false);
    if (ok) return dir;
  }
  return null;
}

/**
 * Why the CLIP files under `$MOTION_GRPO_ASSETS` cannot be found (the variable and the path
 * expected), or null when they are there.
 */
export function clipFilesProblem(): string | null {
  const found = findTextModel("clip");
  return typeof found === "string" ? found : null;
}

/** The text conditioning named by `args`, or why it is unavailable (null when usable). */
export function conditioningProblem(args: MdmArgs): string | null {
  const type = args.text_encoder_type;
  if (type === "clip") {
    const why = clipFilesProblem();
    return why === null ? null : `${CLIP_MISSING} [${why}]`;
  }
  if (type === "hashed_bow" || type.startsWith("mini-")) return null;
  return `the text encoder "${type}" named by args.json (known: clip, hashed_bow, mini-*)`;
}

/**
 * The checkpoint's args, after checking that its text conditioning can be built (no backend is
 * opened): throws {@linkcode UnavailableError} otherwise.
 */
export async function checkModelConditioning(modelPath: string): Promise<MdmArgs> {
  const args = await readArgsJson(modelPath);
  const clip = args.text_encoder_type === "clip" ? clipFilesProblem() : null;
  if (clip !== null) {
    throw new UnavailableError(
      `Cannot condition "${modelPath}" on text: ${CLIP_MISSING} was not found: ${clip}`,
    );
  }
  const problem = conditioningProblem(args);
  if (problem !== null) {
    throw new UnavailableError(
      `Cannot condition "${modelPath}" on text: ${problem} is not supported`,
    );
  }
  return args;
}

/** Loads the text featurizer named by `args` (see the module doc) on `be`. */
export async function loadFeaturizer(args: MdmArgs, be: Backend): Promise<Featurizer> {
  const type = args.text_encoder_type;
  const info = args.raw.text_featurizer;
  const described = typeof info === "object" && info !== null
    ? info as Record<string, unknown>
    : {};
  if (type === "hashed_bow") {
    const make = await optionalExport([HASHED_BOW_MODULE], "HashedBagOfWords");
    if (make === null) {
      throw new UnavailableError(
        'Cannot build the text featurizer "hashed_bow": train/pretrain is not in this checkout',
      );
    }
    const Ctor = make as unknown as new (dim: number, seed: number) => Featurizer;
    const dim = typeof described.dim === "number" ? described.dim : 512;
    const seed = typeof described.seed === "number" ? described.seed : 0;
    return new Ctor(dim, seed);
  }
  if (type.startsWith("mini-")) {
    const dir = await findMiniModel("text");
    const load = await optionalExport(MINI_ENCODER_MODULES, "loadMiniTextFeaturizer");
    if (dir === null || load === null) {
      throw new UnavailableError(
        `Cannot build the text featurizer "${type}": the mini text encoder was not found ` +
          `(looked for text/config.json in ${miniModelRoots().join(", ")})`,
      );
    }
    const f = await load(dir, be) as Featurizer;
    if (f.name !== type) {
      throw new TypeError(
        `Cannot condition the model on "${dir}": it is "${f.name}", args.json names "${type}"`,
      );
    }
    return f;
  }
  if (type === "clip") return await loadClip(args, be);
  throw new UnavailableError(
    `Cannot build the text featurizer: ${conditioningProblem(args)} is not supported`,
  );
}

/** CLIP from `$MOTION_GRPO_ASSETS`, checked against args.json (width, recorded SHA-256). */
async function loadClip(args: MdmArgs, be: Backend): Promise<Featurizer> {
  let f: ClipTextFeaturizer;
  try {
    f = await ClipTextFeaturizer.load({ device: onnxDeviceFor(be) });
  } catch (e) {
    if (e instanceof TextAssetError) {
      throw new UnavailableError(`Cannot build the text featurizer "clip": ${e.message}`);
    }
    throw e;
  }
  const problem = clipMismatch(f, args.raw);
  if (problem !== null) {
    await f.release();
    throw new UnavailableError(`Cannot condition on CLIP "${f.params.model}": ${problem}`);
  }
  return f;
}

/**
 * The MDM denoiser of `modelPath` (EMA weights when present) for inference, its text dimension
 * from the featurizer. Unlike `loadMdm`, it accepts the project's own `text_encoder_type`s.
 */
export async function loadDenoiser(
  be: Backend,
  modelPath: string,
  args: MdmArgs,
  featurizer: Featurizer,
  opts: { maxBatch?: number; maxFrames?: number } = {},
): Promise<MdmDenoiser> {
  // mdmConfigFromArgs accepts only CLIP conditioning; the featurizer was checked above.
  const raw = { ...args.raw };
  delete raw.text_encoder_type;
  const config = { ...mdmConfigFromArgs(raw, modelPath), textDim: featurizer.dim };
  const sd = await loadMdmStateDict(modelPath, { useAvg: true });
  return MdmDenoiser.fromStateDict(be, sd, config, opts, modelPath);
}

/** Where the evaluator of a run is (see the module doc); nothing is loaded yet. */
export type EvaluatorLocation =
  | { profile: "official"; files: OfficialT2mFiles }
  | { profile: "mini"; dir: string };

/** The evaluator profile of a model: official for CLIP conditioning, else mini. */
export function evaluatorProfile(args: MdmArgs): "official" | "mini" {
  return args.text_encoder_type === "clip" ? "official" : "mini";
}

/** The official evaluator's dataset name (`t2m` for HumanML3D, `kit` for KIT-ML). */
export function t2mDataset(dataset: DatasetName): "t2m" | "kit" {
  return dataset === "kit" ? "kit" : "t2m";
}

/**
 * Where the evaluator for `args` (and `dataset`) is, or why it cannot be found: a noun phrase
 * with the reason in brackets (`$MOTION_GRPO_ASSETS` and the paths expected, or the mini model
 * folders searched), for a "... was not found" message.
 */
export async function findEvaluator(
  args: MdmArgs,
  dataset: DatasetName,
): Promise<{ location: EvaluatorLocation } | { problem: string }> {
  if (evaluatorProfile(args) === "official") {
    try {
      return {
        location: { profile: "official", files: locateOfficialT2mFiles(t2mDataset(dataset)) },
      };
    } catch (e) {
      if (!(e instanceof T2mAssetError)) throw e;
      const why = e.message.replace(/^Cannot load the official T2M evaluator: /, "");
      return { problem: `${T2M_EVALUATOR_MISSING} [${why}]` };
    }
  }
  const dir = await findMiniModel("evaluator");
  if (dir !== null) return { location: { profile: "mini", dir } };
  return {
    problem: "the mini evaluator [looked for evaluator/config.json in " +
      `${miniModelRoots().join(", ")}]`,
  };
}

/**
 * Where the evaluator for `args` is, without loading it; throws {@linkcode UnavailableError}
 * naming what is missing and where it was looked for.
 */
export async function locateEvaluator(
  args: MdmArgs,
  dataset: DatasetName,
): Promise<EvaluatorLocation> {
  const found = await findEvaluator(args, dataset);
  if ("problem" in found) {
    throw new UnavailableError(`Cannot evaluate: ${found.problem} was not found`);
  }
  return found.location;
}

/** A loaded evaluator; `release` frees what it holds (ONNX sessions of the official one). */
export interface LoadedEvaluator extends TextMotionEncoder {
  release?(): Promise<void>;
}

/**
 * Loads the evaluator at `where` on `be`. The official one runs on onnxruntime-web ("webgpu"
 * when `be` is WebGPU, else "wasm"); `captionTokens` (caption → `word/POS` tokens) are the only
 * captions its `encodeTexts` accepts (unknownCaptions "error": there is no POS tagger, and an
 * approximation would change the metrics silently); `encodeTokens` takes the dataset's tokens.
 */
export async function loadEvaluator(
  where: EvaluatorLocation,
  be: Backend,
  captionTokens?: ReadonlyMap<string, readonly string[]>,
): Promise<LoadedEvaluator> {
  if (where.profile === "official") {
    const { textsDir: _, ...files } = where.files;
    return await loadOfficialT2mEvaluator({
      ...files,
      device: onnxDeviceFor(be),
      captionTokens,
      unknownCaptions: "error",
    });
  }
  const load = await optionalExport(MINI_ENCODER_MODULES, "loadMiniEncoder");
  if (load === null) {
    throw new UnavailableError(
      `Cannot load the evaluator "${where.dir}": the mini encoder loader (models/mini) is not ` +
        "in this checkout",
    );
  }
  return await load(where.dir, be) as TextMotionEncoder;
}
