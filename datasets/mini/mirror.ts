/**
 * Left/right mirroring of t2m clips, as HumanML3D doubles its data: negate X and swap the joints
 * of the two sides. Mirrored clips get the id prefix `M`; their captions swap "left"/"right" and
 * "clockwise"/"counterclockwise" (`mirrorTextLine` in captions.ts).
 *
 * @module
 */

/** Pairs of t2m joints that swap under mirroring (left, right). */
export const T2M_MIRROR_PAIRS: readonly (readonly [number, number])[] = [
  [1, 2],
  [4, 5],
  [7, 8],
  [10, 11],
  [13, 14],
  [16, 17],
  [18, 19],
  [20, 21],
];

/**
 * The mirror image of a clip: x → -x and left/right joints swapped.
 *
 * @param joints (T, J, 3)
 * @returns mirrored joints (T, J, 3)
 */
export function mirrorJoints(
  joints: Float32Array, // (T, J, 3)
  T: number,
  J = 22,
  pairs: readonly (readonly [number, number])[] = T2M_MIRROR_PAIRS,
): Float32Array {
  const perm = Array.from({ length: J }, (_, j) => j);
  for (const [a, b] of pairs) {
    perm[a] = b;
    perm[b] = a;
  }
  const out = new Float32Array(T * J * 3); // (T, J, 3)
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < J; j++) {
      const src = (t * J + perm[j]) * 3, dst = (t * J + j) * 3;
      out[dst] = -joints[src];
      out[dst + 1] = joints[src + 1];
      out[dst + 2] = joints[src + 2];
    }
  }
  return out;
}
