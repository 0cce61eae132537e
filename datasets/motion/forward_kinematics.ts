/**
 * Forward kinematics on a kinematic chain, as in the public HumanML3D
 * `Skeleton.forward_kinematics_np`.
 *
 * @module
 */
import { qmul, qrot } from "./quaternion.ts";
import type { SkeletonSpec } from "./skeleton.ts";

/**
 * Joint positions from local rotations: `p[0] = rootPos`; along each chain, starting from the
 * root rotation R = quat[:, 0], `R ← R · quat[:, j]`, `p[j] = p[parent] + qrot(R, offset[j])`.
 * Every chain restarts from the root rotation (also the arm chains that branch off the spine).
 *
 * @param quat local rotations, (T, J, 4) w-first
 * @param rootPos root positions, (T, 3)
 * @param offsets bone vectors by end joint (rest direction × length), (J, 3)
 * @returns positions, (T, J, 3) float64
 */
export function forwardKinematics(
  quat: ArrayLike<number>, // (T, J, 4)
  rootPos: ArrayLike<number>, // (T, 3)
  T: number,
  spec: SkeletonSpec,
  offsets: ArrayLike<number>, // (J, 3)
): Float64Array {
  const J = spec.joints;
  if (quat.length !== T * J * 4 || rootPos.length !== T * 3 || offsets.length !== J * 3) {
    throw new RangeError(
      `Cannot run forward kinematics: expected quat ${T}x${J}x4, rootPos ${T}x3, offsets ${J}x3`,
    );
  }
  const out = new Float64Array(T * J * 3); // (T, J, 3)
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < 3; c++) out[t * J * 3 + c] = rootPos[3 * t + c];
  }
  const R = new Float64Array(T * 4), q = new Float64Array(T * 4); // (T, 4)
  const off = new Float64Array(T * 3), rotated = new Float64Array(T * 3); // (T, 3)
  for (const chain of spec.chain) {
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < 4; c++) R[4 * t + c] = quat[(t * J) * 4 + c];
    }
    for (let k = 1; k < chain.length; k++) {
      const j = chain[k], parent = chain[k - 1];
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < 4; c++) q[4 * t + c] = quat[(t * J + j) * 4 + c];
        for (let c = 0; c < 3; c++) off[3 * t + c] = offsets[3 * j + c];
      }
      qmul(R, q, R);
      qrot(R, off, rotated);
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < 3; c++) {
          out[(t * J + j) * 3 + c] = out[(t * J + parent) * 3 + c] + rotated[3 * t + c];
        }
      }
    }
  }
  return out;
}

/** Bone vectors `rawOffsets[j] × lengths[j]`, (J, 3). */
export function boneOffsets(spec: SkeletonSpec, lengths: readonly number[]): Float64Array {
  if (lengths.length !== spec.joints) {
    throw new RangeError(
      `Cannot build bone offsets: ${lengths.length} lengths for ${spec.joints} joints`,
    );
  }
  const out = new Float64Array(spec.joints * 3); // (J, 3)
  for (let j = 0; j < spec.joints; j++) {
    for (let c = 0; c < 3; c++) out[3 * j + c] = spec.rawOffsets[j][c] * lengths[j];
  }
  return out;
}
