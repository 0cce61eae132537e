/**
 * Features → joints for the HumanML3D representation (NUMERICS.md §5; MDM
 * `data_loaders/humanml/scripts/motion_process.py`: `recover_root_rot_pos`, `recover_from_ric`,
 * `recover_from_rot`).
 *
 * @module
 */
import { boneOffsets, forwardKinematics } from "./forward_kinematics.ts";
import { cont6dToQuat } from "./quaternion.ts";
import type { SkeletonSpec } from "./skeleton.ts";

/** Root yaw and position recovered from features. */
export interface RootRotPos {
  /** Root rotation `(cos a, 0, sin a, 0)`, w-first; it maps world to the root frame. (T, 4) */
  rotQuat: Float32Array;
  /** Root position: integrated xz velocity, y from feature 3. (T, 3) */
  rootPos: Float32Array;
}

function checkFeatures(features: ArrayLike<number>, T: number, nfeats: number): void {
  if (!Number.isInteger(T) || T < 1 || features.length !== T * nfeats) {
    throw new RangeError(
      `Cannot recover motion: features have length ${features.length}, expected T=${T} x ${nfeats}`,
    );
  }
}

function rootRotPos64(features: ArrayLike<number>, T: number, nfeats: number) {
  const rot = new Float64Array(T * 4); // (T, 4)
  const pos = new Float64Array(T * 3); // (T, 3)
  let a = 0, x = 0, z = 0;
  for (let t = 0; t < T; t++) {
    // a[t] = sum_{k<t} d[k, 0]: the yaw (half-angle) accumulated before frame t.
    if (t > 0) a += features[(t - 1) * nfeats];
    const c = Math.cos(a), s = Math.sin(a);
    rot[4 * t] = c;
    rot[4 * t + 2] = s;
    if (t > 0) {
      // qrot(qinv(q), (vx, 0, vz)) for q = (c, 0, s, 0) is a yaw by -2a.
      const vx = features[(t - 1) * nfeats + 1], vz = features[(t - 1) * nfeats + 2];
      const c2 = c * c - s * s, s2 = 2 * s * c;
      x += c2 * vx - s2 * vz;
      z += s2 * vx + c2 * vz;
    }
    pos[3 * t] = x;
    pos[3 * t + 1] = features[t * nfeats + 3];
    pos[3 * t + 2] = z;
  }
  return { rot, pos };
}

/**
 * Root rotation and position from features: `a[0]=0, a[t]=sum_{k<t} d[k,0]`,
 * `q[t]=(cos a, 0, sin a, 0)`; `r[0]=0, r[t]=qrot(qinv(q[t]), (d[t-1,1], 0, d[t-1,2]))`, cumulative
 * sum over frames, then `r.y = d[:,3]`.
 *
 * @param features (T, nfeats)
 */
export function recoverRootRotPos(
  features: ArrayLike<number>, // (T, nfeats)
  T: number,
  nfeats: number,
): RootRotPos {
  checkFeatures(features, T, nfeats);
  const { rot, pos } = rootRotPos64(features, T, nfeats);
  return { rotQuat: Float32Array.from(rot), rootPos: Float32Array.from(pos) };
}

/**
 * Joint positions from the root-relative (ric) features: joints 1..J-1 from `d[:, 4:4+3(J-1)]`,
 * rotated by `qinv(q)`, plus the root x, z; joint 0 is the root position.
 *
 * @param features (T, spec.nfeats)
 * @returns joints, (T, J, 3)
 */
export function recoverFromRic(
  features: ArrayLike<number>, // (T, nfeats)
  T: number,
  spec: SkeletonSpec,
): Float32Array {
  const F = spec.nfeats, J = spec.joints;
  checkFeatures(features, T, F);
  const { rot, pos } = rootRotPos64(features, T, F);
  const out = new Float32Array(T * J * 3); // (T, J, 3)
  for (let t = 0; t < T; t++) {
    const c = rot[4 * t], s = rot[4 * t + 2];
    const c2 = c * c - s * s, s2 = 2 * s * c;
    const rx = pos[3 * t], rz = pos[3 * t + 2];
    const o = t * J * 3;
    out[o] = rx;
    out[o + 1] = pos[3 * t + 1];
    out[o + 2] = rz;
    for (let j = 1; j < J; j++) {
      const f = t * F + 4 + 3 * (j - 1);
      const vx = features[f], vy = features[f + 1], vz = features[f + 2];
      out[o + 3 * j] = c2 * vx - s2 * vz + rx;
      out[o + 3 * j + 1] = vy;
      out[o + 3 * j + 2] = s2 * vx + c2 * vz + rz;
    }
  }
  return out;
}

/**
 * Joint positions from the 6D rotation features by forward kinematics (MDM `recover_from_rot`):
 * the root rotation and position come from `recoverRootRotPos`, the local rotations of joints
 * 1..J-1 from `d[:, 4+3(J-1) : 4+9(J-1)]`, the bones from `lengths` (by end joint, root 0; the
 * target skeleton by default).
 *
 * @param features (T, spec.nfeats)
 * @returns joints, (T, J, 3)
 */
export function recoverFromRot(
  features: ArrayLike<number>, // (T, nfeats)
  T: number,
  spec: SkeletonSpec,
  lengths: readonly number[] | undefined = spec.boneLengths,
): Float32Array {
  const F = spec.nfeats, J = spec.joints;
  checkFeatures(features, T, F);
  if (lengths === undefined) {
    throw new TypeError(`Cannot recover from rotations: spec "${spec.name}" has no boneLengths`);
  }
  const { rot, pos } = rootRotPos64(features, T, F);
  const six = new Float64Array(T * (J - 1) * 6); // (T, J-1, 6)
  const start = 4 + 3 * (J - 1);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < 6 * (J - 1); k++) six[t * 6 * (J - 1) + k] = features[t * F + start + k];
  }
  const local = cont6dToQuat(six, new Float64Array(T * (J - 1) * 4)); // (T, J-1, 4)
  const quat = new Float64Array(T * J * 4); // (T, J, 4)
  for (let t = 0; t < T; t++) {
    quat.set(rot.subarray(4 * t, 4 * t + 4), t * J * 4);
    quat.set(local.subarray(t * (J - 1) * 4, (t + 1) * (J - 1) * 4), (t * J + 1) * 4);
  }
  return Float32Array.from(forwardKinematics(quat, pos, T, spec, boneOffsets(spec, [...lengths])));
}
