/**
 * The rest pose the mini generator poses: the 22-joint t2m skeleton standing upright, facing +Z,
 * left side on +X, y up, with bone lengths of the HumanML3D target skeleton (`T2M_BONE_LENGTHS`).
 * Directions are those of an SMPL body with arms hanging; only the lengths are normative.
 *
 * @module
 */
import { T2M_BONE_LENGTHS, T2M_PARENTS } from "../motion/skeleton.ts";

/** Joint indices of the t2m skeleton used by the poser. */
export const J = {
  pelvis: 0,
  hip: [1, 2],
  spine1: 3,
  knee: [4, 5],
  spine2: 6,
  ankle: [7, 8],
  spine3: 9,
  foot: [10, 11],
  neck: 12,
  collar: [13, 14],
  head: 15,
  shoulder: [16, 17],
  elbow: [18, 19],
  wrist: [20, 21],
} as const;

/** Side index: 0 left (+X at heading 0), 1 right. */
export type SideIndex = 0 | 1;

/** Lateral sign of a side: left +1, right -1. */
export function sideSign(s: SideIndex): number {
  return s === 0 ? 1 : -1;
}

// Unnormalised rest directions (SMPL-like); scaled to the target lengths below. (22, 3)
const DIRECTIONS: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [0.058, -0.082, -0.018], // l_hip
  [-0.058, -0.082, -0.018], // r_hip
  [0, 0.115, -0.02], // spine1
  [0, -1, 0], // l_knee
  [0, -1, 0], // r_knee
  [0, 0.135, 0.005], // spine2
  [0, -1, 0], // l_ankle
  [0, -1, 0], // r_ankle
  [0, 0.055, 0.02], // spine3
  [0, -0.06, 0.125], // l_foot (toe base, forward and down from the ankle)
  [0, -0.06, 0.125], // r_foot
  [0, 0.215, -0.03], // neck
  [0.075, 0.12, -0.01], // l_collar
  [-0.075, 0.12, -0.01], // r_collar
  [0, 0.09, 0.05], // head
  [0.115, 0.03, -0.01], // l_shoulder
  [-0.115, 0.03, -0.01], // r_shoulder
  [0, -1, 0], // l_elbow
  [0, -1, 0], // r_elbow
  [0, -1, 0], // l_wrist
  [0, -1, 0], // r_wrist
];

/** Bone length by end joint (root 0), metres. (22) */
export const BONE: readonly number[] = T2M_BONE_LENGTHS;

/** Parent of each joint (root -1). (22) */
export const PARENTS: readonly number[] = T2M_PARENTS;

/** Rest offset of each joint from its parent, flattened. (22 * 3) */
export const REST_OFFSETS: Float64Array = (() => {
  const out = new Float64Array(22 * 3);
  for (let j = 1; j < 22; j++) {
    const [x, y, z] = DIRECTIONS[j];
    const n = Math.hypot(x, y, z);
    out[3 * j] = (x / n) * BONE[j];
    out[3 * j + 1] = (y / n) * BONE[j];
    out[3 * j + 2] = (z / n) * BONE[j];
  }
  return out;
})();

/** Height of each ankle above the floor when its foot is flat (toe joint at y = 0). (2) */
export const ANKLE_Y: readonly [number, number] = [
  -REST_OFFSETS[3 * 10 + 1],
  -REST_OFFSETS[3 * 11 + 1],
];

/** Thigh and shin lengths per side. */
export const LEG: readonly [readonly [number, number], readonly [number, number]] = [
  [BONE[4], BONE[7]],
  [BONE[5], BONE[8]],
];

/** Upper arm and forearm lengths per side. */
export const ARM: readonly [readonly [number, number], readonly [number, number]] = [
  [BONE[18], BONE[20]],
  [BONE[19], BONE[21]],
];

/** Fraction of the full leg length a stance leg may reach (keeps the knee off full lock). */
export const REACH = 0.995;

/**
 * Standing pelvis height: the taller leg nearly straight over a flat foot (knees 1.5% short of
 * full extension, a relaxed stance).
 */
export const STAND_Y: number = Math.min(
  ANKLE_Y[0] + 0.985 * (LEG[0][0] + LEG[0][1]) - REST_OFFSETS[3 * 1 + 1],
  ANKLE_Y[1] + 0.985 * (LEG[1][0] + LEG[1][1]) - REST_OFFSETS[3 * 2 + 1],
);

/** Half the distance between the ankles in a relaxed stance, metres. */
export const STANCE_HALF_WIDTH = 0.1;
