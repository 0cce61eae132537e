/**
 * Joints → features for the HumanML3D representation: the public `process_file` of HumanML3D's
 * `motion_representation.ipynb` (also in MDM's `motion_process.py`). Layout of one feature row
 * for J joints (NUMERICS.md §5; 263 for J = 22):
 *
 * | slice                      | content                                                     |
 * | -------------------------- | ----------------------------------------------------------- |
 * | `[0]`                      | root yaw velocity: `asin(y of r[t+1] · r[t]⁻¹)` (half-angle) |
 * | `[1:3]`                    | root xz velocity in the root frame of t+1                   |
 * | `[3]`                      | root height                                                  |
 * | `[4 : 4+3(J-1)]`           | joints 1..J-1 relative to the root xz, in the root frame     |
 * | `[.. : +6(J-1)]`           | local rotations of joints 1..J-1, continuous 6D              |
 * | `[.. : +3J]`               | velocities of all joints `p[t+1]-p[t]` in the root frame of t |
 * | `[.. : +4]`                | foot contacts (left joints, right joints)                    |
 *
 * @module
 */
import { crossAcross } from "./_facing.ts";
import { footContacts } from "./foot_contacts.ts";
import { inverseKinematics } from "./inverse_kinematics.ts";
import { qbetween, qinv, qmul, qrot, quatToCont6d } from "./quaternion.ts";
import type { SkeletonSpec } from "./skeleton.ts";
import { uniformSkeleton } from "./uniform_skeleton.ts";

/** Options of `jointsToFeatures`. */
export interface ProcessOptions {
  /** Contact threshold on squared per-frame foot displacement (default `spec.footVelThreshold`). */
  footVelThreshold?: number;
  /** Also require the foot joint below this height for contact (the public process does not). */
  footHeightThreshold?: number;
  /**
   * Rebuild the clip on `spec.boneLengths` first, as the public process does (default: true when
   * the spec has bone lengths). Clips that already use those lengths come out unchanged.
   */
  uniformSkeleton?: boolean;
}

/** Result of `jointsToFeatures`. */
export interface ProcessedMotion {
  /** Features, one row per frame step. (T-1, nfeats) */
  features: Float32Array;
  /** Processed joints: on the floor, root at the xz origin at frame 0, facing +Z. (T, J, 3) */
  joints: Float32Array;
  /** Foot contacts, also features `[nfeats-4 : nfeats]`. (T-1, 4) */
  contacts: Float32Array;
  /** Root rotation of each frame (world → root frame; frame 0 is identity), w-first. (T, 4) */
  rootQuat: Float32Array;
}

/**
 * Computes HumanML3D features of a clip of joint positions.
 *
 * Steps: (optional) rescale to the target skeleton; put on the floor (subtract the lowest y over
 * all joints and frames, as the public code does); move frame 0's root xz to the origin; rotate
 * about Y so the facing of frame 0 (from hips and shoulders) is +Z; foot contacts; inverse
 * kinematics with a Gaussian-smoothed facing (sigma 20 frames) for the root rotations and the 6D
 * joint rotations; root velocities, height, root-relative joints and joint velocities.
 *
 * Quirks of the public code kept on purpose (checked against the processed sample 012314 that
 * ships with HumanML3D): the root rotation of frame 0 is identity instead of the smoothed facing,
 * so row 0's yaw velocity absorbs the difference; and inverse kinematics computes the facing from
 * the hips in swapped order (`(l_hip - r_hip) + (r_shoulder - l_shoulder)`).
 *
 * @param joints (T, J, 3), T >= 2
 * @returns features (T-1, nfeats) and the processed joints (T, J, 3)
 */
export function jointsToFeatures(
  joints: ArrayLike<number>, // (T, J, 3)
  T: number,
  spec: SkeletonSpec,
  opts: ProcessOptions = {},
): ProcessedMotion {
  const J = spec.joints, F = spec.nfeats;
  if (!Number.isInteger(T) || T < 2 || joints.length !== T * J * 3) {
    throw new RangeError(
      `Cannot compute motion features: joints have length ${joints.length}, expected T=${T} >= 2 x ${J} x 3`,
    );
  }
  const doUniform = opts.uniformSkeleton ?? spec.boneLengths !== undefined;
  if (doUniform && spec.boneLengths === undefined) {
    throw new TypeError(
      `Cannot rescale to the target skeleton: spec "${spec.name}" has no boneLengths`,
    );
  }
  let pos: Float64Array = doUniform // (T, J, 3)
    ? uniformSkeleton(joints, T, spec, spec.boneLengths!)
    : Float64Array.from(joints);
  const N = T * J;

  // Floor: the lowest y over every joint and frame becomes 0.
  let floor = Infinity;
  for (let i = 0; i < N; i++) floor = Math.min(floor, pos[3 * i + 1]);
  // Origin: frame 0's root xz.
  const ox = pos[0], oz = pos[2];
  for (let i = 0; i < N; i++) {
    pos[3 * i] -= ox;
    pos[3 * i + 1] -= floor;
    pos[3 * i + 2] -= oz;
  }
  // Facing: rotate about Y so that frame 0's forward (hips + shoulders, true r/l order) is +Z.
  const fwd = new Float64Array(3);
  crossAcross(pos, J, 0, spec.faceJoints, false, fwd);
  if (!Number.isFinite(fwd[0]) || !Number.isFinite(fwd[2])) {
    throw new RangeError(
      `Cannot compute motion features: the facing of frame 0 is undefined (joints ${
        spec.faceJoints.join(", ")
      } give no horizontal across vector)`,
    );
  }
  const qInit = qbetween(fwd, [0, 0, 1], new Float64Array(4));
  const qAll = new Float64Array(N * 4); // (T*J, 4)
  for (let i = 0; i < N; i++) qAll.set(qInit, 4 * i);
  pos = qrot(qAll, pos, new Float64Array(N * 3)) as Float64Array;
  const global = pos; // (T, J, 3), never modified below

  const contacts = footContacts(
    global,
    T,
    spec,
    opts.footVelThreshold ?? spec.footVelThreshold,
    opts.footHeightThreshold,
  ); // (T-1, 4)

  const quat = inverseKinematics(global, T, spec, { smoothForward: true }); // (T, J, 4)
  const cont6d = quatToCont6d(quat, new Float64Array(N * 6)); // (T, J, 6)
  const rRot = new Float64Array(T * 4); // (T, 4)
  for (let t = 0; t < T; t++) rRot.set(quat.subarray(t * J * 4, t * J * 4 + 4), 4 * t);

  // Root angular velocity r[t+1] · r[t]⁻¹ and linear velocity rotated by r[t+1]. (T-1, ·)
  const rNext = rRot.subarray(4), rPrev = rRot.subarray(0, 4 * (T - 1));
  const rVel = qmul(
    rNext,
    qinv(rPrev, new Float64Array(4 * (T - 1))),
    new Float64Array(4 * (T - 1)),
  );
  const dRoot = new Float64Array(3 * (T - 1)); // (T-1, 3)
  for (let t = 0; t + 1 < T; t++) {
    for (let c = 0; c < 3; c++) {
      dRoot[3 * t + c] = global[(t + 1) * J * 3 + c] - global[t * J * 3 + c];
    }
  }
  const lVel = qrot(rNext, dRoot, new Float64Array(3 * (T - 1))); // (T-1, 3)

  // Root-relative joints in the root frame (ric) and joint velocities in the root frame of t.
  const rPerJoint = new Float64Array(N * 4); // (T, J, 4)
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < J; j++) rPerJoint.set(rRot.subarray(4 * t, 4 * t + 4), (t * J + j) * 4);
  }
  const rel = new Float64Array(N * 3); // (T, J, 3)
  for (let t = 0; t < T; t++) {
    const rx = global[t * J * 3], rz = global[t * J * 3 + 2];
    for (let j = 0; j < J; j++) {
      const i = (t * J + j) * 3;
      rel[i] = global[i] - rx;
      rel[i + 1] = global[i + 1];
      rel[i + 2] = global[i + 2] - rz;
    }
  }
  const ric = qrot(rPerJoint, rel, new Float64Array(N * 3)); // (T, J, 3)
  const M = (T - 1) * J;
  const dJoint = new Float64Array(M * 3); // (T-1, J, 3)
  for (let i = 0; i < M * 3; i++) dJoint[i] = global[i + J * 3] - global[i];
  const localVel = qrot(rPerJoint.subarray(0, M * 4), dJoint, new Float64Array(M * 3)); // (T-1,J,3)

  const features = new Float32Array((T - 1) * F); // (T-1, F)
  for (let t = 0; t + 1 < T; t++) {
    const row = t * F;
    features[row] = Math.asin(Math.max(-1, Math.min(1, rVel[4 * t + 2])));
    features[row + 1] = lVel[3 * t];
    features[row + 2] = lVel[3 * t + 2];
    features[row + 3] = ric[t * J * 3 + 1];
    let k = row + 4;
    for (let j = 1; j < J; j++) {
      for (let c = 0; c < 3; c++) features[k++] = ric[(t * J + j) * 3 + c];
    }
    for (let j = 1; j < J; j++) {
      for (let c = 0; c < 6; c++) features[k++] = cont6d[(t * J + j) * 6 + c];
    }
    for (let j = 0; j < J; j++) {
      for (let c = 0; c < 3; c++) features[k++] = localVel[(t * J + j) * 3 + c];
    }
    for (let c = 0; c < 4; c++) features[k++] = contacts[t * 4 + c];
  }
  return {
    features,
    joints: Float32Array.from(global),
    contacts,
    rootQuat: Float32Array.from(rRot),
  };
}
