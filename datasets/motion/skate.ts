/**
 * Foot skating: horizontal foot speed while the foot is in ground contact.
 *
 * @module
 */
import type { SkeletonSpec } from "./skeleton.ts";

/**
 * Mean horizontal speed of the foot joints while in ground contact, in skeleton units per second
 * (m/s for t2m):
 *
 *   footSkate = Σ_{t,f} c[t,f] · fps · |xz(p[t+1,f]) - xz(p[t,f])|  /  Σ_{t,f} c[t,f]
 *
 * over steps t = 0..T-2 and the four foot joints f (`spec.feetLeft`, `spec.feetRight`); 0 when no
 * foot is ever in contact.
 *
 * Contacts c[t,f]:
 * - given (`contacts`, (T-1, 4) or (T, 4), e.g. features `[nfeats-4 : nfeats]`, values > 0.5 mean
 *   contact): row t describes the step t → t+1, as in the features;
 * - else a height rule: the joint is below `min_s p[s,f].y + spec.contactHeight` (5 cm for t2m) at
 *   both t and t+1, measured from each joint's own lowest point so that ankle and toe joints are
 *   treated alike. Unlike the dataset's displacement rule, it still flags a foot that slides on
 *   the ground; requiring both ends keeps the lift-off and touch-down steps out.
 *
 * @param joints (T, J, 3)
 * @param contacts optional, (T-1, 4) or (T, 4)
 */
export function footSkate(
  joints: ArrayLike<number>, // (T, J, 3)
  T: number,
  spec: SkeletonSpec,
  fps: number,
  contacts?: ArrayLike<number>, // (T-1, 4) or (T, 4)
): number {
  const J = spec.joints;
  if (joints.length !== T * J * 3 || T < 1) {
    throw new RangeError(
      `Cannot measure foot skating: joints have length ${joints.length}, expected T=${T} x ${J} x 3`,
    );
  }
  const feet = [...spec.feetLeft, ...spec.feetRight];
  const K = feet.length;
  if (contacts !== undefined && contacts.length !== (T - 1) * K && contacts.length !== T * K) {
    throw new RangeError(
      `Cannot measure foot skating: contacts have length ${contacts.length}, expected (${
        T - 1
      } or ${T}) x ${K}`,
    );
  }
  const lowest = feet.map((f) => {
    let m = Infinity;
    for (let t = 0; t < T; t++) m = Math.min(m, joints[(t * J + f) * 3 + 1]);
    return m;
  });
  let sum = 0, n = 0;
  for (let t = 0; t + 1 < T; t++) {
    for (let k = 0; k < K; k++) {
      const a = (t * J + feet[k]) * 3, b = ((t + 1) * J + feet[k]) * 3;
      const on = contacts !== undefined
        ? contacts[t * K + k] > 0.5
        : joints[a + 1] - lowest[k] < spec.contactHeight &&
          joints[b + 1] - lowest[k] < spec.contactHeight;
      if (!on) continue;
      sum += Math.hypot(joints[b] - joints[a], joints[b + 2] - joints[a + 2]) * fps;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}
