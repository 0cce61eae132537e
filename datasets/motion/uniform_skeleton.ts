/**
 * Rescaling a clip to the target skeleton (`uniform_skeleton` of the public HumanML3D process).
 *
 * @module
 */
import { boneOffsets, forwardKinematics } from "./forward_kinematics.ts";
import { inverseKinematics } from "./inverse_kinematics.ts";
import type { SkeletonSpec } from "./skeleton.ts";

/**
 * Rebuilds a clip on the target bone lengths: the root trajectory is scaled by the ratio of leg
 * lengths (bones `spec.legBones` of frame 0 vs the target), rotations come from inverse
 * kinematics (no smoothing) and positions from forward kinematics with the target offsets.
 *
 * @param joints (T, J, 3)
 * @param targetLengths bone length by end joint, root 0 (J)
 * @returns joints on the target skeleton, (T, J, 3) float64
 */
export function uniformSkeleton(
  joints: ArrayLike<number>, // (T, J, 3)
  T: number,
  spec: SkeletonSpec,
  targetLengths: readonly number[],
): Float64Array {
  const J = spec.joints;
  const boneLength0 = (j: number) => {
    const p = spec.parents[j];
    return Math.hypot(
      joints[3 * j] - joints[3 * p],
      joints[3 * j + 1] - joints[3 * p + 1],
      joints[3 * j + 2] - joints[3 * p + 2],
    );
  };
  // The public code takes max|raw · length| per leg bone; raw offsets are unit axes, so that is
  // the length itself.
  const [l1, l2] = spec.legBones;
  const scale = (targetLengths[l1] + targetLengths[l2]) / (boneLength0(l1) + boneLength0(l2));
  const rootPos = new Float64Array(T * 3); // (T, 3)
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < 3; c++) rootPos[3 * t + c] = joints[t * J * 3 + c] * scale;
  }
  const quat = inverseKinematics(joints, T, spec); // (T, J, 4)
  return forwardKinematics(quat, rootPos, T, spec, boneOffsets(spec, [...targetLengths]));
}
