/** A tiny MDM checkpoint on disk (`model000000001.pt` + `args.json`) for the command tests. */
import { initMdmStateDict } from "../../models/mdm/init.ts";
import { saveTorchStateDict } from "../../models/checkpoint/torch_pt.ts";

/** Whether the pretraining featurizers (hashed_bow) are in this checkout. */
export const hasHashedBow: boolean = (() => {
  try {
    return Deno.statSync(new URL("../../train/pretrain/hashed_bag_of_words.ts", import.meta.url))
      .isFile;
  } catch {
    return false;
  }
})();

/**
 * Writes a random tiny MDM into `dir`; `textEncoder` goes into args.json (`clip` for an official
 * checkpoint, `hashed_bow` for one conditioned on the 16-dim hashed bag of words).
 * @returns the checkpoint path.
 */
export async function writeTinyCheckpoint(dir: string, textEncoder: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const dim = textEncoder === "clip" ? 512 : 16;
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
    text_encoder_type: textEncoder,
  };
  if (textEncoder !== "clip") args.text_featurizer = { name: textEncoder, dim, seed: 0 };
  await Deno.writeTextFile(`${dir}/args.json`, JSON.stringify(args));
  return path;
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
