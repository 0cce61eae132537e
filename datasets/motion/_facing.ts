/**
 * Facing direction and Gaussian smoothing shared by the motion process.
 *
 * @module
 */

/**
 * Unit horizontal forward direction of frame t: `normalize(Y × normalize(across))` with
 * `across = (p[a] - p[b]) + (p[c] - p[d])` for `faceJoints = [a, b, c, d]` (r_hip, l_hip,
 * r_shoulder, l_shoulder). With `ikOrder`, the first two indices are swapped, as the public
 * `Skeleton.inverse_kinematics_np` unpacks them (`l_hip, r_hip, ...`); the released HumanML3D
 * features were made that way, so the hip term enters with the opposite sign there.
 * Returns the unnormalised `Y × normalize(across)` (its y is 0) in `out[0..2]`.
 */
export function crossAcross(
  pos: ArrayLike<number>, // (T, J, 3)
  J: number,
  t: number,
  face: readonly [number, number, number, number],
  ikOrder: boolean,
  out: Float64Array, // (3)
): void {
  const [f0, f1, f2, f3] = face;
  const a = ikOrder ? f1 : f0, b = ikOrder ? f0 : f1;
  const base = t * J * 3;
  let x = 0, y = 0, z = 0;
  for (const [p, q] of [[a, b], [f2, f3]]) {
    x += pos[base + 3 * p] - pos[base + 3 * q];
    y += pos[base + 3 * p + 1] - pos[base + 3 * q + 1];
    z += pos[base + 3 * p + 2] - pos[base + 3 * q + 2];
  }
  const n = Math.hypot(x, y, z);
  // (0, 1, 0) × (x, y, z) = (z, 0, -x)
  out[0] = z / n;
  out[1] = 0;
  out[2] = -x / n;
}

/**
 * Gaussian smoothing along axis 0 of a (T, C) array with edge replication, matching
 * `scipy.ndimage.gaussian_filter1d(x, sigma, axis=0, mode="nearest")` (truncate 4.0: radius
 * `floor(4 sigma + 0.5)`, weights `exp(-x²/(2 sigma²))` normalised to sum 1).
 */
export function gaussianFilterNearest(
  x: ArrayLike<number>, // (T, C)
  T: number,
  C: number,
  sigma: number,
): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    w[k + radius] = Math.exp(-0.5 * k * k / (sigma * sigma));
    sum += w[k + radius];
  }
  for (let k = 0; k < w.length; k++) w[k] /= sum;
  const out = new Float64Array(T * C); // (T, C)
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) {
        const s = Math.min(T - 1, Math.max(0, t + k));
        acc += w[k + radius] * x[s * C + c];
      }
      out[t * C + c] = acc;
    }
  }
  return out;
}
