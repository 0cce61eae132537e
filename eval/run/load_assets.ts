/**
 * Finds and loads what an evaluation or sampling run needs besides the data: the denoiser, the
 * text features it is conditioned on, and the independent evaluator.
 *
 * Text conditioning follows `text_encoder_type` in the checkpoint's `args.json`:
 * - `clip` (or absent: every official MDM checkpoint): CLIP ViT-B/32, not available in this
 *   version, so the run stops with {@linkcode UnavailableError};
 * - `hashed_bow`: the deterministic hashed bag of words of `train/pretrain/`
 *   (`text_featurizer.dim`, `text_featurizer.seed`);
 * - `mini-*`: the mini profile's text encoder (`text/` of the mini model folder).
 *
 * The evaluator: the official T2M evaluator (finest.tar + GloVe) is not available in this
 * version; the mini profile's evaluator (`evaluator/` of the mini model folder) is used when
 * present. The mini model folder is the first of `$MOTION_GRPO_MINI_MODELS`, `assets/mini/` and
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

/** A network the run needs is not available in this version; the message says which. */
export class UnavailableError extends Error {
  /** Wraps the one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "UnavailableError";
  }
}

/** What the official MDM pipeline would need and this version lacks. */
export const CLIP_MISSING =
  "the CLIP ViT-B/32 text encoder that conditions official MDM checkpoints " +
  '(args.json text_encoder_type "clip")';
/** The official evaluator's files. */
export const T2M_EVALUATOR_MISSING =
  "the official T2M evaluator (t2m/text_mot_match/model/finest.tar with " +
  "glove/our_vab_data.npy, our_vab_words.pkl, our_vab_idx.pkl)";

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

/** The text conditioning named by `args`, or why it is unavailable (null when usable). */
export function conditioningProblem(args: MdmArgs): string | null {
  const type = args.text_encoder_type;
  if (type === "clip") return CLIP_MISSING;
  if (type === "hashed_bow" || type.startsWith("mini-")) return null;
  return `the text encoder "${type}" named by args.json (known: clip, hashed_bow, mini-*)`;
}

/**
 * The checkpoint's args, after checking that its text conditioning can be built (no backend is
 * opened): throws {@linkcode UnavailableError} otherwise.
 */
export async function checkModelConditioning(modelPath: string): Promise<MdmArgs> {
  const args = await readArgsJson(modelPath);
  const problem = conditioningProblem(args);
  if (problem !== null) {
    throw new UnavailableError(
      `Cannot condition "${modelPath}" on text: ${problem} is not available in this version`,
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
  throw new UnavailableError(
    `Cannot build the text featurizer: ${conditioningProblem(args)} is not available`,
  );
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

/**
 * Where the evaluator is, without loading it: the mini evaluator folder; throws
 * {@linkcode UnavailableError} naming the official files when there is none.
 */
export async function locateEvaluator(): Promise<string> {
  const dir = await findMiniModel("evaluator");
  if (dir === null) {
    throw new UnavailableError(
      `Cannot evaluate: ${T2M_EVALUATOR_MISSING} is not available in this version, and no mini ` +
        `evaluator was found (looked for evaluator/config.json in ${miniModelRoots().join(", ")})`,
    );
  }
  return dir;
}

/** Loads the mini evaluator in `dir` on `be`. */
export async function loadEvaluator(dir: string, be: Backend): Promise<TextMotionEncoder> {
  const load = await optionalExport(MINI_ENCODER_MODULES, "loadMiniEncoder");
  if (load === null) {
    throw new UnavailableError(
      `Cannot load the evaluator "${dir}": the mini encoder loader (models/mini) is not in this ` +
        "checkout",
    );
  }
  return await load(dir, be) as TextMotionEncoder;
}
