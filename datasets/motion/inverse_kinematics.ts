/**
 * Inverse kinematics on a kinematic chain, as in the public HumanML3D
 * `Skeleton.inverse_kinematics_np`.
 *
 * @module
 */
import { crossAcross, gaussianFilterNearest } from "./_facing.ts";
import { qbetween, qinv, qmul } from "./quaternion.ts";
import type { SkeletonSpec } from "./skeleton.ts";

/** Options of `inverseKinematics`. */
export interface InverseKinematicsOptions {
  /** Smooth the per-frame forward direction with a Gaussian (sigma 20 frames) first. */
  smoothForward?: boolean;
}

/**
 * Local joint rotations (w-first quaternions) that rebuild `joints` from the rest-pose
 * directions `spec.rawOffsets`.
 *
 * - Root (joint 0): the yaw taking the frame's forward direction onto +Z (forward from hips and
 *   shoulders, with the public code's swapped hip order, see `crossAcross`); frame 0's root
 *   rotation is forced to identity, as in the public code.
 * - Along each chain, starting from the root rotation R: `R_loc = R⁻¹ · qbetween(raw, bone)`,
 *   `R ← R · R_loc`, where `bone` is the unit vector from parent to joint.
 *
 * @param joints positions, (T, J, 3)
 * @returns local rotations, (T, J, 4) float64
 */
export function inverseKinematics(
  joints: ArrayLike<number>, // (T, J, 3)
  T: number,
  spec: SkeletonSpec,
  opts: InverseKinematicsOptions = {},
): Float64Array {
  const J = spec.joints;
  let forward: Float64Array = new Float64Array(T * 3); // (T, 3)
  const f = new Float64Array(3);
  for (let t = 0; t < T; t++) {
    crossAcross(joints, J, t, spec.faceJoints, true, f);
    forward.set(f, 3 * t);
  }
  if (opts.smoothForward) forward = gaussianFilterNearest(forward, T, 3, 20);
  for (let t = 0; t < T; t++) {
    const n = Math.hypot(forward[3 * t], forward[3 * t + 1], forward[3 * t + 2]);
    for (let c = 0; c < 3; c++) forward[3 * t + c] /= n;
  }
  const target = new Float64Array(T * 3); // (T, 3)
  for (let t = 0; t < T; t++) target[3 * t + 2] = 1;
  const rootQuat = qbetween(forward, target, new Float64Array(T * 4)); // (T, 4)
  rootQuat.set([1, 0, 0, 0], 0);

  const quat = new Float64Array(T * J * 4); // (T, J, 4)
  for (let t = 0; t < T; t++) quat.set(rootQuat.subarray(4 * t, 4 * t + 4), (t * J) * 4);
  const u = new Float64Array(T * 3), v = new Float64Array(T * 3); // (T, 3)
  const rotUV = new Float64Array(T * 4), rInv = new Float64Array(T * 4); // (T, 4)
  const local = new Float64Array(T * 4); // (T, 4)
  for (const chain of spec.chain) {
    const R = rootQuat.slice(); // (T, 4)
    for (let k = 0; k + 1 < chain.length; k++) {
      const parent = chain[k], child = chain[k + 1];
      const raw = spec.rawOffsets[child];
      for (let t = 0; t < T; t++) {
        u.set(raw, 3 * t);
        const b = t * J * 3;
        const dx = joints[b + 3 * child] - joints[b + 3 * parent];
        const dy = joints[b + 3 * child + 1] - joints[b + 3 * parent + 1];
        const dz = joints[b + 3 * child + 2] - joints[b + 3 * parent + 2];
        const n = Math.hypot(dx, dy, dz);
        v[3 * t] = dx / n;
        v[3 * t + 1] = dy / n;
        v[3 * t + 2] = dz / n;
      }
      qbetween(u, v, rotUV);
      qmul(qinv(R, rInv), rotUV, local);
      for (let t = 0; t < T; t++) quat.set(local.subarray(4 * t, 4 * t + 4), (t * J + child) * 4);
      qmul(R, local, R);
    }
  }
  return quat;
}
