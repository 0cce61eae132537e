/** Shared clips of the physics reward tests: mini-dataset walks as HumanML3D features. */
import { generateClip } from "../../datasets/mini/generate_clip.ts";
import { jointsToFeatures } from "../../datasets/motion/process.ts";
import { T2M } from "../../datasets/motion/skeleton.ts";
import type { FamilyName } from "../../datasets/mini/families.ts";

/** Features (T, 263) of mini clip `index` (seed 7) of `family`, stance feet sliding by `slide`. */
export function miniFeatures(
  index: number,
  family: FamilyName = "walk",
  slide = 0,
): { features: Float32Array; T: number } {
  const clip = generateClip(7, index, { family, slide });
  const { features } = jointsToFeatures(clip.joints, clip.frames, T2M);
  return { features, T: clip.frames - 1 };
}
