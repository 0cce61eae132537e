/**
 * Turns a motion file into a drawable panel: `.npy` holding HumanML3D/KIT features `(T, 263)` /
 * `(T, 251)` (raw, or normalised when Mean/Std are given) or joint positions `(T, 22, 3)` /
 * `(T, 21, 3)`. Features are drawn from the joints `recoverFromRic` rebuilds, with the foot
 * contact channels as contact marks; KIT millimetres are shown in metres.
 */
import { loadNpy, npyToFloat32 } from "../datasets/npy.ts";
import { recoverFromRic } from "../datasets/motion/recover.ts";
import { KIT, specForFeatures, T2M } from "../datasets/motion/skeleton.ts";
import type { SkeletonSpec } from "../datasets/motion/skeleton.ts";
import type { MotionPanel } from "./motion_svg.ts";

/** Mean/Std of the normalised features, to undo `(x - Mean) / Std` before drawing. */
export interface Denormalise {
  mean: Float32Array; // (F)
  std: Float32Array; // (F)
}

/** A panel from features (T, F): joints recovered, contacts from the last four channels. */
export function panelFromFeatures(
  features: Float32Array, // (T, F)
  T: number,
  F: number,
  caption: string,
  denorm?: Denormalise,
): { panel: MotionPanel; spec: SkeletonSpec } {
  const spec = specForFeatures(F);
  const x = features.slice(0, T * F);
  if (denorm) {
    for (let t = 0; t < T; t++) {
      for (let f = 0; f < F; f++) x[t * F + f] = x[t * F + f] * denorm.std[f] + denorm.mean[f];
    }
  }
  const joints = recoverFromRic(x, T, spec);
  const contacts = new Float32Array(T * 4);
  for (let t = 0; t < T; t++) contacts.set(x.subarray(t * F + F - 4, t * F + F), t * 4);
  const feet = [...spec.feetLeft, ...spec.feetRight];
  return {
    panel: {
      joints: toMetres(joints, spec),
      T,
      J: spec.joints,
      caption,
      chain: spec.chain,
      contactJoints: feet,
      contacts,
    },
    spec,
  };
}

/** Loads a features or joints `.npy` as a panel. */
export async function loadMotionPanel(
  path: string,
  caption: string,
  denorm?: Denormalise,
): Promise<{ panel: MotionPanel; spec: SkeletonSpec }> {
  const arr = await loadNpy(path);
  const data = npyToFloat32(arr, path);
  const s = arr.shape;
  if (s.length === 2 && (s[1] === 263 || s[1] === 251)) {
    return panelFromFeatures(data, s[0], s[1], caption, denorm);
  }
  if (s.length === 3 && s[2] === 3 && (s[1] === 22 || s[1] === 21)) {
    const spec = s[1] === 22 ? T2M : KIT;
    return {
      panel: { joints: toMetres(data, spec), T: s[0], J: s[1], caption, chain: spec.chain },
      spec,
    };
  }
  throw new RangeError(
    `Cannot draw motion "${path}": shape [${s.join(", ")}] is neither features (T, 263|251) ` +
      `nor joints (T, 22|21, 3)`,
  );
}

function toMetres(joints: Float32Array, spec: SkeletonSpec): Float32Array {
  return spec === KIT ? joints.map((v) => v / 1000) : joints;
}
