/** Small scalar helpers for the mini generator: easing, interpolation, heading rotations. */

/** Clamps `x` to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Cubic ease-in/ease-out of `u` clamped to [0, 1]: 0 → 0, 1 → 1, zero slope at both ends. */
export function smoothstep(u: number): number {
  const v = clamp(u, 0, 1);
  return v * v * (3 - 2 * v);
}

/** Linear interpolation. */
export function lerp(a: number, b: number, u: number): number {
  return a + (b - a) * u;
}

/** Uniform draw in [lo, hi) from a source of uniforms in [0, 1). */
export function between(rng: { uniform(): number }, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

/** World X of a heading-frame vector (lx, lz) at heading `yaw`. */
export function headingX(yaw: number, lx: number, lz: number): number {
  return lx * Math.cos(yaw) + lz * Math.sin(yaw);
}

/** World Z of a heading-frame vector (lx, lz) at heading `yaw`. */
export function headingZ(yaw: number, lx: number, lz: number): number {
  return -lx * Math.sin(yaw) + lz * Math.cos(yaw);
}

/**
 * Rotates (x, y, z) by R = Ry(yaw) · Rx(pitch) into `out` at `o`: pitch tips +Y toward +Z
 * (a forward lean), then yaw turns +Z toward +X.
 */
export function rotYawPitch(
  yaw: number,
  pitch: number,
  x: number,
  y: number,
  z: number,
  out: Float64Array,
  o: number,
): void {
  const cp = Math.cos(pitch), sp = Math.sin(pitch);
  const y1 = y * cp - z * sp;
  const z1 = y * sp + z * cp;
  const cy = Math.cos(yaw), sy = Math.sin(yaw);
  out[o] = x * cy + z1 * sy;
  out[o + 1] = y1;
  out[o + 2] = -x * sy + z1 * cy;
}
