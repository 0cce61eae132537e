/** A tiny mini dataset shared by the pretraining tests (made once per test file). */
import { makeMiniDataset } from "../../datasets/mini/make_mini_dataset.ts";

/** Makes a 20-clip mini dataset in a fresh temporary folder; returns its path. */
export async function tinyMiniDataset(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "motion-grpo-pretrain-" });
  await makeMiniDataset({ outputDir: dir, numClips: 20, seed: 5 });
  return dir;
}

/** The tiny network of the tests (latent 32, 1 layer). */
export const TINY = { latentDim: 32, layers: 1, ffSize: 64, heads: 2 } as const;
