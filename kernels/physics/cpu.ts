/**
 * Physics penalty of generated motion, CPU twin (plain loops, float64). WGSL twin:
 * kernels/physics/wgsl.ts. The formulas, once (rewards/physics.ts explains the choices):
 *
 * Per sample b with L = lengths[b] valid frames (clamped to [0, T]) and de-normalised features
 * `d[t, c] = x[b, t, c] * std[c] + mean[c]` (HumanML3D layout, NUMERICS.md §5):
 * - root yaw (half-angle) `a[0] = 0`, `a[t] = sum_{k<t} d[k, 0]`; with `c2 = cos 2a`,
 *   `s2 = sin 2a`, `rot(v) = (c2 vx - s2 vz, vy, s2 vx + c2 vz)` is `qrot(qinv(q), v)` of
 *   `recoverFromRic`.
 * - joint j's position relative to the root's xz: `o[t, 0] = (0, d[t, 3], 0)`,
 *   `o[t, j] = rot_t(d[t, 4+3(j-1) .. 4+3(j-1)+3])`; the root xz moves by
 *   `rot_{t+1}((d[t, 1], 0, d[t, 2]))` from frame t to t+1. So the displacement of joint j over the
 *   step t → t+1 is `D[t, j] = o[t+1, j] - o[t, j] + rot_{t+1}((d[t,1], 0, d[t,2]))`, exactly the
 *   difference of consecutive `recoverFromRic` frames, without the cumulative root position
 *   (whose large values would cost float32 digits in the third difference).
 * - everything is multiplied by `metresPerUnit` (1 for t2m, 0.001 for KIT's millimetres).
 * - contact weight of foot joint f over the step t → t+1, from joint heights only:
 *   `h = max(y[t, f], y[t+1, f]) - min_{s<L} y[s, f]` (height above the joint's own lowest point
 *   in the valid frames; the max asks both ends to be low), `w = sigmoid((hThr - h) / hWidth)`.
 * - `L_skate = sum_{t<L-1, f} w |xz(D[t, f])| fps / sum w` (m/s; 0 when L < 2 or sum w = 0).
 * - `L_jerk = mean_{t<L-3, j} |D[t+2, j] - 2 D[t+1, j] + D[t, j]| fps^3` (m/s^3; 0 when L < 4),
 *   the third finite difference of the positions.
 * - `R = exp(-lambdaSkate L_skate / skateScale - lambdaJerk L_jerk / jerkScale)`.
 * - a non-finite de-normalised value among the channels used (3 .. 4+3(J-1) of the valid frames,
 *   0 .. 2 of all but the last) makes `R`, `L_skate`, `L_jerk` NaN and the flag 1 (reported, never
 *   thrown).
 *
 * Output row b: `[R, L_skate, L_jerk, nonFinite]` (nonFinite 0 or 1).
 */

/** Parameters of the physics penalty (see the module doc for the formulas). */
export interface PhysicsParams {
  /** Number of joints J (22 for t2m, 21 for KIT). */
  joints: number;
  /** The four foot joints (left ankle, left toe, right ankle, right toe). */
  feet: readonly [number, number, number, number];
  /** Frames per second. */
  fps: number;
  /** Metres per skeleton unit (1 for t2m, 0.001 for KIT). */
  metresPerUnit: number;
  /** Height (m) above the joint's lowest point where the contact weight is 0.5. */
  contactHeight: number;
  /** Softness (m) of the contact weight's sigmoid. */
  contactWidth: number;
  lambdaSkate: number;
  lambdaJerk: number;
  /** Unit of L_skate in the exponent (m/s). */
  skateScale: number;
  /** Unit of L_jerk in the exponent (m/s^3). */
  jerkScale: number;
}

/** Number of outputs per sample: `[R, L_skate, L_jerk, nonFinite]`. */
export const PHYSICS_OUTPUTS = 4;

// ----------------------------------------------------------------------------------------------
// physics penalty: features (B, T, F), mean/std (F), lengths (B) -> out (B, 4)

/** Writes `[R, L_skate, L_jerk, nonFinite]` per sample into `out` (B, 4). */
export function physicsPenalty(
  out: Float32Array | Float64Array, // (B, 4)
  features: ArrayLike<number>, // (B, T, F) normalised
  mean: ArrayLike<number>, // (F)
  std: ArrayLike<number>, // (F)
  lengths: ArrayLike<number>, // (B) valid frames
  B: number,
  T: number,
  F: number,
  p: PhysicsParams,
): void {
  const J = p.joints;
  const C = 4 + 3 * (J - 1); // channels read per frame
  const u = p.metresPerUnit;
  for (let b = 0; b < B; b++) {
    const L = Math.max(0, Math.min(T, Math.floor(lengths[b])));
    const d = new Float64Array(L * C); // (L, C) de-normalised channels
    let finite = true;
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < C; c++) {
        const v = features[(b * T + t) * F + c] * std[c] + mean[c];
        // The root velocities (channels 0..2) of the last valid frame are never used.
        if (!Number.isFinite(v) && (c >= 3 || t + 1 < L)) finite = false;
        d[t * C + c] = v;
      }
    }
    const o = out.subarray(b * 4, b * 4 + 4);
    if (!finite) {
      o.set([NaN, NaN, NaN, 1]);
      continue;
    }
    // Root-relative joint offsets per frame, in metres. (L, J, 3)
    const off = new Float64Array(L * J * 3);
    // Root xz step from frame t to t+1, in metres. (L, 2); the last row is unused.
    const step = new Float64Array(L * 2);
    let a = 0;
    for (let t = 0; t < L; t++) {
      if (t > 0) a += d[(t - 1) * C];
      const c2 = Math.cos(2 * a), s2 = Math.sin(2 * a);
      const r = t * C;
      off[t * J * 3 + 1] = d[r + 3] * u;
      for (let j = 1; j < J; j++) {
        const f = r + 4 + 3 * (j - 1), k = (t * J + j) * 3;
        off[k] = (c2 * d[f] - s2 * d[f + 2]) * u;
        off[k + 1] = d[f + 1] * u;
        off[k + 2] = (s2 * d[f] + c2 * d[f + 2]) * u;
      }
      if (t > 0) {
        // Row t-1's velocity, rotated by frame t's yaw, moves the root from t-1 to t.
        const vx = d[(t - 1) * C + 1], vz = d[(t - 1) * C + 2];
        step[(t - 1) * 2] = (c2 * vx - s2 * vz) * u;
        step[(t - 1) * 2 + 1] = (s2 * vx + c2 * vz) * u;
      }
    }
    // Displacements D[t, j] over the steps t -> t+1. (L-1, J, 3)
    const S = Math.max(L - 1, 0);
    const disp = new Float64Array(S * J * 3);
    for (let t = 0; t < S; t++) {
      for (let j = 0; j < J; j++) {
        const k = (t * J + j) * 3, n = ((t + 1) * J + j) * 3;
        disp[k] = off[n] - off[k] + step[2 * t];
        disp[k + 1] = off[n + 1] - off[k + 1];
        disp[k + 2] = off[n + 2] - off[k + 2] + step[2 * t + 1];
      }
    }
    // Skating: contact-weighted mean horizontal foot speed.
    let num = 0, den = 0;
    for (const f of p.feet) {
      let low = Infinity;
      for (let t = 0; t < L; t++) low = Math.min(low, off[(t * J + f) * 3 + 1]);
      for (let t = 0; t < S; t++) {
        const h = Math.max(off[(t * J + f) * 3 + 1], off[((t + 1) * J + f) * 3 + 1]) - low;
        // The exponent is capped so that float32 twins never see exp() overflow.
        const w = 1 / (1 + Math.exp(Math.min((h - p.contactHeight) / p.contactWidth, 80)));
        const k = (t * J + f) * 3;
        num += w * Math.hypot(disp[k], disp[k + 2]) * p.fps;
        den += w;
      }
    }
    const skate = den > 0 ? num / den : 0;
    // Jerk: mean magnitude of the third difference of the positions.
    let jsum = 0;
    const fps3 = p.fps * p.fps * p.fps;
    for (let t = 0; t + 2 < S; t++) {
      for (let j = 0; j < J; j++) {
        const k0 = (t * J + j) * 3, k1 = k0 + J * 3, k2 = k1 + J * 3;
        const x = disp[k2] - 2 * disp[k1] + disp[k0];
        const y = disp[k2 + 1] - 2 * disp[k1 + 1] + disp[k0 + 1];
        const z = disp[k2 + 2] - 2 * disp[k1 + 2] + disp[k0 + 2];
        jsum += Math.sqrt(x * x + y * y + z * z) * fps3;
      }
    }
    const jerk = S >= 3 ? jsum / ((S - 2) * J) : 0;
    o[0] = Math.exp(
      -p.lambdaSkate * skate / p.skateScale - p.lambdaJerk * jerk / p.jerkScale,
    );
    o[1] = skate;
    o[2] = jerk;
    o[3] = 0;
  }
}
