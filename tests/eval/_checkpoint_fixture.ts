/** A tiny MDM checkpoint on disk (`model000000001.pt` + `args.json`) for the command tests. */
import { initMdmStateDict } from "../../models/mdm/init.ts";
import { saveTorchStateDict } from "../../models/checkpoint/torch_pt.ts";
import type { EvalHumanmlRun } from "../../eval/run/run_eval_humanml.ts";
import { TINY_DEBUG } from "./_run_fixture.ts";

/** Whether the pretraining featurizers (hashed_bow) are in this checkout. */
export const hasHashedBow: boolean = (() => {
  try {
    return Deno.statSync(new URL("../../train/pretrain/hashed_bag_of_words.ts", import.meta.url))
      .isFile;
  } catch {
    return false;
  }
})();

/** Options of {@linkcode writeTinyCheckpoint}. */
export interface TinyCheckpointOptions {
  /** Text feature width (default 512 for `clip`, else 16). */
  textDim?: number;
  /** Leave `text_encoder_type` out of args.json, as official MDM args.json files do (CLIP). */
  omitTextEncoderType?: boolean;
  /** More args.json entries, written after the others. */
  extraArgs?: Record<string, unknown>;
}

/**
 * Writes a random tiny MDM into `dir`; `textEncoder` goes into args.json (`clip` for an official
 * checkpoint, `hashed_bow` for one conditioned on the 16-dim hashed bag of words).
 * @returns the checkpoint path.
 */
export async function writeTinyCheckpoint(
  dir: string,
  textEncoder: string,
  opts: TinyCheckpointOptions = {},
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const dim = opts.textDim ?? (textEncoder === "clip" ? 512 : 16);
  const sd = initMdmStateDict({
    nfeats: 263,
    latentDim: 16,
    layers: 1,
    ffSize: 32,
    heads: 2,
    textDim: dim,
    maskFrames: true,
  }, 9);
  const path = `${dir}/model000000001.pt`;
  await saveTorchStateDict(path, sd);
  const args: Record<string, unknown> = {
    arch: "trans_enc",
    dataset: "humanml",
    latent_dim: 16,
    layers: 1,
    ff_size: 32,
    heads: 2,
    mask_frames: true,
    diffusion_steps: 4,
    noise_schedule: "cosine",
  };
  if (!opts.omitTextEncoderType) args.text_encoder_type = textEncoder;
  if (textEncoder !== "clip") args.text_featurizer = { name: textEncoder, dim, seed: 0 };
  Object.assign(args, opts.extraArgs);
  await Deno.writeTextFile(`${dir}/args.json`, JSON.stringify(args));
  return path;
}

/**
 * The eval-humanml run of the command tests for `model` on the data in `dataDir`: debug mode on
 * the CPU, guidance 2.5, seed 10, the tiny protocol with 2 replications, no composites.
 */
export function tinyDebugRun(model: string, dataDir: string): EvalHumanmlRun {
  return {
    model_path: model,
    dataset: "humanml",
    data_dir: dataDir,
    eval_mode: "debug",
    guidance_param: 2.5,
    use_composite_dataset: false,
    composite_data_path: null,
    composite_k_segments: 3,
    seed: 10,
    device: { kind: "cpu" },
    protocol: { ...TINY_DEBUG, replications: 2 },
  };
}

/** Runs `main(argv)` capturing console output; returns the exit code and the lines. */
export async function captureMain(
  main: (argv: string[]) => Promise<number>,
  argv: string[],
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    return { code: await main(argv), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}
