/**
 * Resolves the frozen networks of a GRPO run from the flags and the model's `args.json`:
 *
 * - the reward encoder (`TextMotionEncoder`):
 *   - `--reward_model_type tmr`: the three `--tmr_*_path` files must lie in a mini assets folder
 *     (a `config.json` beside them, e.g. `assets/mini/tmr/`), loaded with `loadMiniEncoder`.
 *     The official TMR weights need DistilBERT text features, which this version does not have.
 *   - `--reward_model_type mdm`: the mini profile's evaluator (`<miniAssets>/evaluator`), used
 *     only for a model trained with a mini featurizer; the official T2M evaluator needs GloVe
 *     word vectors, which this version does not have.
 * - the conditioning text featurizer (`TextFeaturizer`), named in args.json by the pretraining
 *   (`text_featurizer: {name, dim, seed?}`, train/pretrain/args_json.ts):
 *   - `hashed_bow`: `HashedBagOfWords(dim, seed)`;
 *   - `mini-*`: `loadMiniTextFeaturizer(<miniAssets>/text)` (or `text_featurizer.dir`);
 *   - `clip` (official MDM): CLIP is not available in this version.
 *
 * Every failure is ONE line naming the flag or file and the missing piece.
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend } from "../../kernels/backend.ts";
import type { TextFeaturizer, TextMotionEncoder } from "../../rewards/encoder.ts";
import { loadMiniEncoder, loadMiniTextFeaturizer } from "../../models/mini/mini_encoder.ts";
import { HashedBagOfWords } from "../pretrain/hashed_bag_of_words.ts";

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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** What {@linkcode resolveRewardEncoder} reads of the flags. */
export interface RewardModelFlags {
  reward_model_type: "mdm" | "tmr";
  tmr_text_encoder_path: string | null;
  tmr_motion_encoder_path: string | null;
  tmr_movement_encoder_path: string | null;
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
    if (!(await exists(join(dir, "config.json")))) {
      throw new GrpoSetupError(
        `Cannot use --tmr_text_encoder_path "${text}": official TMR weights (DistilBERT text ` +
          `features) are not available in this version; use a mini assets folder with ` +
          `config.json (e.g. assets/mini/tmr/text_encoder.pt)`,
      );
    }
    return await loadMiniEncoder(dir, be);
  }
  const dir = join(miniAssets, "evaluator");
  if (featurizerName(modelArgs) === "clip" || !(await exists(join(dir, "config.json")))) {
    throw new GrpoSetupError(
      `Cannot use --reward_model_type mdm: the official T2M evaluator (GloVe text features) is ` +
        `not available in this version; use a mini-profile model (evaluator at ${dir}) or ` +
        `--reward_model_type tmr`,
    );
  }
  return await loadMiniEncoder(dir, be);
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
  if (name === "clip") {
    throw new GrpoSetupError(
      `Cannot use --model_path (args "${argsFile}"): the official MDM's CLIP text features are ` +
        `not available in this version; use a mini-profile model`,
    );
  }
  throw new GrpoSetupError(
    `Cannot use --model_path (args "${argsFile}"): unknown text featurizer "${name}"`,
  );
}
