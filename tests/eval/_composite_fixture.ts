/** Composite motions (k = 3, 196 frames) built from a mini HumanML3D folder's train split. */
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import { constructComposites } from "../../datasets/composite/construct.ts";
import { writeComposite } from "../../datasets/composite/layout.ts";

/**
 * Builds up to 8 composites of 3 train clips from `dataRoot` with `seed` and writes them to
 * `file`; returns the train split (its mean/std normalise the composites).
 */
export async function writeTrainComposites(
  dataRoot: string,
  file: string,
  seed: number,
): Promise<HumanMLDataset> {
  const train = await HumanMLDataset.load({
    dataset: "humanml",
    dataRoot,
    split: "train",
    seed: 1,
  });
  const built = await constructComposites(train.items, {
    k: 3,
    targetLength: 196,
    tolerance: 20,
    fps: 20,
    maxSamples: 8,
    seed,
    dimPose: 263,
  });
  await writeComposite(file, built.samples);
  return train;
}
