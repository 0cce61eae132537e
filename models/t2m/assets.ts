/**
 * Where the official evaluator's files live under an assets folder (`$MOTION_GRPO_ASSETS`), in
 * MDM's layout (what `prepare/download_t2m_evaluators.sh` and `prepare/download_glove.sh`
 * unpack at the top of the MDM repository, plus its committed `dataset/` files):
 *
 * ```
 * $MOTION_GRPO_ASSETS/
 *   t2m/text_mot_match/model/finest.tar    evaluator (kit/... for KIT-ML)
 *   glove/our_vab_data.npy                 GloVe vectors (V, 300)
 *   glove/our_vab_words.pkl, our_vab_idx.pkl
 *   dataset/t2m_mean.npy, t2m_std.npy      evaluator statistics (kit_mean/std for KIT-ML)
 *   dataset/HumanML3D/texts/               optional: captions with their word/POS tokens
 * ```
 *
 * The original text-to-motion release layout is accepted as a fallback:
 * `checkpoints/t2m/text_mot_match/model/finest.tar` and
 * `checkpoints/t2m/Comp_v6_KLD01/meta/{mean,std}.npy` (the same statistics as MDM's
 * `dataset/t2m_mean.npy`/`t2m_std.npy`; `Comp_v6_KLD01` is `Comp_v6_KLD005` for KIT-ML).
 * @module
 */
import { join } from "node:path";

/** The environment variable naming the assets folder (shared with models/text/assets.ts). */
const ASSETS_ENV = "MOTION_GRPO_ASSETS";

/** The evaluator's files are missing; the message names the paths expected. */
export class T2mAssetError extends Error {
  override name = "T2mAssetError";
}

/** Paths for {@linkcode loadOfficialT2mEvaluator} (plus the optional caption folder). */
export interface OfficialT2mFiles {
  evaluatorPath: string;
  gloveDir: string;
  meanPath: string;
  stdPath: string;
  /** `texts/` of the dataset when present (for `readCaptionTokenMap`), else null. */
  textsDir: string | null;
}

function exists(path: string, dir = false): boolean {
  try {
    const s = Deno.statSync(path);
    return dir ? s.isDirectory : s.isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}

function first(root: string, candidates: string[], what: string): string {
  const found = candidates.map((c) => join(root, c)).find((p) => exists(p));
  if (found === undefined) {
    throw new T2mAssetError(
      `Cannot load the official T2M evaluator: ${what} not found (${ASSETS_ENV}=${root}; ` +
        `expected ${candidates.join(" or ")})`,
    );
  }
  return found;
}

/**
 * Finds the evaluator's files under `root` (default `$MOTION_GRPO_ASSETS`); throws
 * {@linkcode T2mAssetError} naming the variable and the missing path. Reads nothing.
 *
 * @param dataset `t2m` (HumanML3D) or `kit` (KIT-ML)
 * @param root the assets folder
 */
export function locateOfficialT2mFiles(
  dataset: "t2m" | "kit" = "t2m",
  root: string | null = Deno.env.get(ASSETS_ENV) ?? null,
): OfficialT2mFiles {
  if (root === null || root.trim() === "") {
    throw new T2mAssetError(
      `Cannot load the official T2M evaluator: ${ASSETS_ENV} is not set; set it to a folder ` +
        `holding ${dataset}/text_mot_match/model/finest.tar, glove/ and ` +
        `dataset/${dataset}_mean.npy, dataset/${dataset}_std.npy (MDM's layout)`,
    );
  }
  const comp = dataset === "t2m" ? "Comp_v6_KLD01" : "Comp_v6_KLD005";
  const evaluatorPath = first(root, [
    `${dataset}/text_mot_match/model/finest.tar`,
    `checkpoints/${dataset}/text_mot_match/model/finest.tar`,
  ], "the evaluator checkpoint");
  const glove = first(root, ["glove/our_vab_data.npy"], "the GloVe vectors");
  const meanPath = first(root, [
    `dataset/${dataset}_mean.npy`,
    `checkpoints/${dataset}/${comp}/meta/mean.npy`,
  ], "the evaluator's feature mean");
  // The std must come from the same layout as the mean.
  const stdPath = meanPath.endsWith(`${dataset}_mean.npy`)
    ? meanPath.replace(/_mean\.npy$/, "_std.npy")
    : meanPath.replace(/mean\.npy$/, "std.npy");
  if (!exists(stdPath)) {
    throw new T2mAssetError(
      `Cannot load the official T2M evaluator: "${stdPath}" does not exist (${ASSETS_ENV}=` +
        `${root}; it goes with "${meanPath}")`,
    );
  }
  const texts = join(root, "dataset", dataset === "t2m" ? "HumanML3D" : "KIT-ML", "texts");
  return {
    evaluatorPath,
    gloveDir: join(glove, ".."),
    meanPath,
    stdPath,
    textsDir: exists(texts, true) ? texts : null,
  };
}
