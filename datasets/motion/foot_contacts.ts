/**
 * Foot contact labels of the HumanML3D process (`foot_detect` in the public
 * `motion_representation.ipynb`).
 *
 * @module
 */
import type { SkeletonSpec } from "./skeleton.ts";

/**
 * Contact labels per frame step: foot joint f is in contact on step t → t+1 when its squared
 * displacement `|p[t+1,f] - p[t,f]|²` is below `velThreshold` (skeleton units² per frame; 0.002 m²
 * for HumanML3D). The public process uses the displacement rule only; when `heightThreshold` is
 * given, `p[t,f].y < heightThreshold` is also required.
 *
 * @param joints (T, J, 3)
 * @returns contacts, (T-1, 4): `[left..., right...]` in `spec.feetLeft`, `spec.feetRight` order
 */
export function footContacts(
  joints: ArrayLike<number>, // (T, J, 3)
  T: number,
  spec: SkeletonSpec,
  velThreshold = spec.footVelThreshold,
  heightThreshold?: number,
): Float32Array {
  const J = spec.joints;
  if (joints.length !== T * J * 3 || T < 2) {
    throw new RangeError(
      `Cannot detect foot contacts: joints have length ${joints.length}, expected T=${T} >= 2 x ${J} x 3`,
    );
  }
  const feet = [...spec.feetLeft, ...spec.feetRight];
  const F = feet.length;
  const out = new Float32Array((T - 1) * F); // (T-1, 4)
  for (let t = 0; t + 1 < T; t++) {
    for (let k = 0; k < F; k++) {
      const a = (t * J + feet[k]) * 3, b = ((t + 1) * J + feet[k]) * 3;
      const dx = joints[b] - joints[a], dy = joints[b + 1] - joints[a + 1];
      const dz = joints[b + 2] - joints[a + 2];
      let on = dx * dx + dy * dy + dz * dz < velThreshold;
      if (heightThreshold !== undefined) on &&= joints[a + 1] < heightThreshold;
      out[t * F + k] = on ? 1 : 0;
    }
  }
  return out;
}
