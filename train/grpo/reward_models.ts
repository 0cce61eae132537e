/**
 * Resolves the frozen networks of a GRPO run from the flags and the model's `args.json`:
 *
 * - the reward encoder (`TextMotionEncoder`):
 *   - `--reward_model_type tmr` with the three `--tmr_*_path` files in a mini assets folder (a
 *     `config.json` beside them, e.g. `assets/mini/tmr/`): `loadMiniEncoder`;
 *   - `--reward_model_type tmr` with TMR's official files (no config.json beside them):
 *     `loadOfficialTmrEncoder` (models/text/official_tmr.ts): `--tmr_text_encoder_path` and
 *     `--tmr_motion_encoder_path` (`--tmr_movement_encoder_path`, TMR's decoder, is not used),
 *     TMR's mean.pt/std.pt beside them or in `$MOTION_GRPO_ASSETS/tmr/`, DistilBERT from
 *     `$MOTION_GRPO_ASSETS/distilbert/`;
 *   - `--reward_model_type mdm` with an official (CLIP-conditioned) model: the official T2M
 *     evaluator (models/t2m/) from `$MOTION_GRPO_ASSETS`: `t2m/text_mot_match/model/finest.tar`
 *     (`kit/...` with `--dataset kit`), `glove/`, `dataset/t2m_mean.npy`, `t2m_std.npy`. It
 *     reads `word/POS` tokens: captions are looked up in `<--data_dir>/texts/` (else the
 *     assets' `dataset/HumanML3D/texts/`), and prompts found in neither (generated or composite
 *     ones) get approximate tokens (words as written, no POS tagger; warned once). It runs on
 *     onnxruntime-web, `webgpu` when the backend is WebGPU, else `wasm`;
 *   - `--reward_model_type mdm` with a model trained with the project's own featurizers: the
 *     mini profile's evaluator (`<miniAssets>/evaluator`).
 * - the conditioning text featurizer (`TextFeaturizer`), named in args.json by the pretraining
 *   (`text_featurizer: {name, dim, seed?}`, train/pretrain/args_json.ts):
 *   - `hashed_bow`: `HashedBagOfWords(dim, seed)`;
 *   - `mini-*`: `loadMiniTextFeaturizer(<miniAssets>/text)` (or `text_featurizer.dir`);
 *   - `clip` (official MDM, or no featurizer named): `ClipTextFeaturizer` from
 *     `$MOTION_GRPO_ASSETS/clip/` (models/text/clip_text.ts); its `name` carries the ONNX file's
 *     SHA-256, and a `text_featurizer.sha256` in args.json must match it.
 *
 * Every failure is ONE line naming the flag or file and the missing piece.
 * @module
 */
import { exists } from "../../io/exists.ts";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend } from "../../kernels/backend.ts";
import type { TextFeaturizer, TextMotionEncoder } from "../../rewards/encoder.ts";
import { loadMiniEncoder, loadMiniTextFeaturizer } from "../../models/mini/mini_encoder.ts";
import { HashedBagOfWords } from "../pretrain/hashed_bag_of_words.ts";
import { TextAssetError } from "../../models/text/assets.ts";
import { clipMismatch, ClipTextFeaturizer } from "../../models/text/clip_text.ts";
import { loadOfficialTmrEncoder } from "../../models/text/official_tmr.ts";
import { onnxDeviceFor } from "../../onnx/session.ts";
import {
  loadOfficialT2mEvaluator,
  locateOfficialT2mFiles,
  readCaptionTokenMap,
  T2mAssetError,
} from "../../models/t2m/mod.ts";
import { type DatasetName, datasetOptions } from "../../datasets/humanml/options.ts";

/** The repository's mini assets folder (`assets/mini`). */
export const DEFAULT_MINI_ASSETS = join(
  dirname(dirname(dirname(fileURLToPath(import.meta.url)))),
  "assets",
  "mini",
);

/** A setup problem the user must fix (missing weights, unsupported official networks). */
export class GrpoSetupError extends Error {
  override name = "GrpoSetupError";
}

/** What {@linkcode resolveRewardEncoder} reads of the flags. */
export interface RewardModelFlags {
  reward_model_type: "mdm" | "tmr";
  tmr_text_encoder_path: string | null;
  tmr_motion_encoder_path: string | null;
  tmr_movement_encoder_path: string | null;
  /** Selects the official evaluator (`humanml` → t2m, `kit` → kit); default `humanml`. */
  dataset?: DatasetName;
  /** Dataset root; its `texts/` give the official evaluator the captions' tokens. */
  data_dir?: string | null;
}

/** The text featurizer name of a model's args.json (`clip` when it has none). */
export function featurizerName(args: Record<string, unknown>): string {
  const tf = args.text_featurizer as { name?: unknown } | undefined;
  if (tf && typeof tf.name === "string") return tf.name;
  return typeof args.text_encoder_type === "string" ? args.text_encoder_type : "clip";
}

/** The reward encoder of `flags` (see the module doc). */
export async function resolveRewardEncoder(
  be: Backend,
  flags: RewardModelFlags,
  modelArgs: Record<string, unknown>,
  miniAssets = DEFAULT_MINI_ASSETS,
): Promise<TextMotionEncoder> {
  if (flags.reward_model_type === "tmr") {
    const text = flags.tmr_text_encoder_path!;
    const dir = dirname(text);
    for (const flag of ["tmr_motion_encoder_path", "tmr_movement_encoder_path"] as const) {
      const p = flags[flag];
      if (p !== null && dirname(p) !== dir) {
        throw new GrpoSetupError(
          `Cannot use --${flag} "${p}": the three TMR files must lie in one folder (${dir})`,
        );
      }
    }
    if (await exists(join(dir, "config.json"))) return await loadMiniEncoder(dir, be);
    const motion = flags.tmr_motion_encoder_path ?? join(dir, "motion_encoder.pt");
    if (!(await exists(motion))) {
      throw new GrpoSetupError(
        `Cannot use --tmr_text_encoder_path "${text}": the official TMR motion encoder ` +
          `"${motion}" does not exist (give --tmr_motion_encoder_path)`,
      );
    }
    try {
      return await loadOfficialTmrEncoder(be, { textEncoder: text, motionEncoder: motion }, {
        device: onnxDeviceFor(be),
      });
    } catch (e) {
      if (e instanceof TextAssetError) {
        throw new GrpoSetupError(
          `Cannot use the official TMR weights "${text}": ${e.message}`,
          { cause: e },
        );
      }
      throw e;
    }
  }
  if (featurizerName(modelArgs) === "clip") return await loadOfficialEvaluator(be, flags);
  const dir = join(miniAssets, "evaluator");
  if (!(await exists(join(dir, "config.json")))) {
    throw new GrpoSetupError(
      `Cannot use --reward_model_type mdm: the mini evaluator "${join(dir, "config.json")}" ` +
        `does not exist (the model's text featurizer "${featurizerName(modelArgs)}" belongs to ` +
        "the mini profile)",
    );
  }
  return await loadMiniEncoder(dir, be);
}

async function isDir(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isDirectory, () => false);
}

/** The official T2M evaluator for a CLIP-conditioned model (see the module doc). */
async function loadOfficialEvaluator(
  be: Backend,
  flags: RewardModelFlags,
): Promise<TextMotionEncoder> {
  const dataset = flags.dataset ?? "humanml";
  let files;
  try {
    files = locateOfficialT2mFiles(dataset === "kit" ? "kit" : "t2m");
  } catch (e) {
    if (!(e instanceof T2mAssetError)) throw e;
    throw new GrpoSetupError(
      "Cannot use --reward_model_type mdm with an official (CLIP) model: the official T2M " +
        `evaluator was not found: ${
          e.message.replace(/^Cannot load the official T2M evaluator: /, "")
        }`,
      { cause: e },
    );
  }
  const root = datasetOptions(dataset, flags.data_dir ?? undefined).dataRoot;
  const candidates = [join(root, "texts"), ...(files.textsDir === null ? [] : [files.textsDir])];
  let textsDir: string | null = null;
  for (const c of candidates) {
    if (await isDir(c)) {
      textsDir = c;
      break;
    }
  }
  const { textsDir: _, ...paths } = files;
  return await loadOfficialT2mEvaluator({
    ...paths,
    device: onnxDeviceFor(be),
    captionTokens: textsDir === null ? undefined : await readCaptionTokenMap(textsDir),
    unknownCaptions: "approximate",
  });
}

/** The conditioning text featurizer a model was trained with (see the module doc). */
export async function resolveTextFeaturizer(
  be: Backend,
  modelArgs: Record<string, unknown>,
  argsFile: string,
  miniAssets = DEFAULT_MINI_ASSETS,
): Promise<TextFeaturizer> {
  const name = featurizerName(modelArgs);
  const tf = (modelArgs.text_featurizer ?? {}) as Record<string, unknown>;
  if (name === "hashed_bow") {
    const dim = tf.dim, seed = tf.seed ?? 0;
    if (typeof dim !== "number" || typeof seed !== "number") {
      throw new GrpoSetupError(
        `Cannot read "${argsFile}": text_featurizer hashed_bow needs numeric dim and seed`,
      );
    }
    const h = new HashedBagOfWords(dim, seed);
    return { name, dim, encode: (texts) => Promise.resolve(h.encode([...texts])) };
  }
  if (name.startsWith("mini-")) {
    const dir = typeof tf.dir === "string" ? tf.dir : join(miniAssets, "text");
    const f = await loadMiniTextFeaturizer(dir, be);
    if (typeof tf.dim === "number" && f.dim !== tf.dim) {
      throw new GrpoSetupError(
        `Cannot use text featurizer "${dir}": it gives ${f.dim} features, "${argsFile}" says ` +
          `${tf.dim}`,
      );
    }
    return f;
  }
  if (name === "clip") return await loadClip(be, modelArgs, argsFile);
  throw new GrpoSetupError(
    `Cannot use --model_path (args "${argsFile}"): unknown text featurizer "${name}"`,
  );
}

/** CLIP from `$MOTION_GRPO_ASSETS`, checked against args.json (width, recorded SHA-256). */
async function loadClip(
  be: Backend,
  modelArgs: Record<string, unknown>,
  argsFile: string,
): Promise<TextFeaturizer> {
  let f: ClipTextFeaturizer;
  try {
    f = await ClipTextFeaturizer.load({ device: onnxDeviceFor(be) });
  } catch (e) {
    if (e instanceof TextAssetError) {
      throw new GrpoSetupError(
        `Cannot condition --model_path (args "${argsFile}") on CLIP text features: ${e.message}`,
        { cause: e },
      );
    }
    throw e;
  }
  const problem = clipMismatch(f, modelArgs);
  if (problem !== null) {
    await f.release();
    throw new GrpoSetupError(`Cannot use CLIP "${f.params.model}" for "${argsFile}": ${problem}`);
  }
  return f;
}
