/**
 * Physics reward of generated motion (`--use_physics_reward`, MISSION.md "Rewards"):
 *
 *   R_phy = exp(-lambda_skate * L_skate / s_skate - lambda_jerk * L_jerk / s_jerk)
 *
 * computed per sample from the normalised features the sampler produced:
 *
 * 1. De-normalise, `d = x * Std + Mean`, and recover the joints as `recoverFromRic` does
 *    (NUMERICS.md §5): root yaw by the cumulative sum of the yaw velocity, root xz by the
 *    cumulative sum of the velocities rotated by `qinv(q)`, ric joints rotated by `qinv(q)` plus
 *    the root xz. Only the frame-to-frame displacements are needed, so they are formed directly
 *    (root step + change of the rotated ric offset), which equals differencing the recovered
 *    positions. KIT positions (millimetres) are converted to metres first.
 * 2. `L_skate` (m/s): mean horizontal speed `fps * |xz(p[t+1,f]) - xz(p[t,f])|` of the four foot
 *    joints f (t2m ankles 7/8 and toes 10/11), weighted per step by a contact weight derived from
 *    JOINT HEIGHTS, never from the predicted contact channels (a policy could switch those off):
 *    `w = sigmoid((h_thr - h) / width)`, `h = max(y[t,f], y[t+1,f]) - min_{valid s} y[s,f]`, the
 *    height above the joint's own lowest point in the clip (so ankle and toe joints are treated
 *    alike, as in `footSkate`); `h_thr = 0.05 m` (the `footSkate` contact height), `width =
 *    0.01 m`: a joint 2 cm above its floor still counts 95%, one 9 cm above 2%.
 *    `L_skate = sum w * speed / sum w`.
 * 3. `L_jerk` (m/s^3): mean over valid frames t < L-3 and all joints of
 *    `fps^3 * |p[t+3] - 3 p[t+2] + 3 p[t+1] - p[t]|`, the third finite difference.
 * 4. Unit scales, calibrated on the mini dataset generator (`datasets/mini`, 20 fps, seed 7, 8
 *    clips per row, lambda = 1): `s_skate = 0.5 m/s`, `s_jerk = 1000 m/s^3`. Planted walks
 *    measure L_skate 0.003–0.02 m/s and L_jerk 80–220 m/s^3, R = 0.75–0.92; walks whose stance
 *    feet slide with 30% / 100% of the root motion measure L_skate 0.12–0.28 / 0.4–0.9 m/s,
 *    R = 0.41–0.74 / 0.09–0.43; planted runs R = 0.58–0.82 (their jerk reaches 500 m/s^3);
 *    turns, jumps, sitting and crawling 0.87–1.0. One centimetre of independent frame-to-frame
 *    jitter adds roughly 400 m/s^3 of jerk (`fps^3 * sqrt(20) * 1 cm`), i.e. a factor
 *    exp(-0.4).
 *
 * Frames at and after `lengths[b]` (padding) are ignored. A sample with a non-finite value among
 * the channels used gets NaN (`nonFinite` counts them); nothing is thrown, so the trainer can give
 * it advantage 0.
 *
 * The CPU backend runs the twin (kernels/physics/cpu.ts) on host copies; the WebGPU backend runs
 * one dispatch of kernels/physics/wgsl.ts and reads back B x 4 floats.
 *
 * @module
 */
import type { Backend, Tensor } from "../kernels/backend.ts";
import { PHYSICS_OUTPUTS, type PhysicsParams, physicsPenalty } from "../kernels/physics/cpu.ts";
import { physicsPenaltyKernel } from "../kernels/physics/wgsl.ts";
import type { WebGpuBackend } from "../kernels/webgpu_backend.ts";
import type { SkeletonSpec } from "../datasets/motion/skeleton.ts";

/** Weights and units of the physics reward; every field has a documented default. */
export interface PhysicsRewardOptions {
  /** Frames per second (`--fps`; default `spec.fps`: 20 for t2m, 12.5 for KIT). */
  fps?: number;
  /** `--lambda_skate`, default 1. */
  lambdaSkate?: number;
  /** `--lambda_jerk`, default 1. */
  lambdaJerk?: number;
  /** s_skate (m/s), default 0.5. */
  skateScale?: number;
  /** s_jerk (m/s^3), default 1000. */
  jerkScale?: number;
  /** Contact height threshold h_thr (m), default 0.05. */
  contactHeight?: number;
  /** Contact sigmoid width (m), default 0.01. */
  contactWidth?: number;
  /** Metres per skeleton unit; default 1 for t2m, 0.001 for KIT (millimetres). */
  metresPerUnit?: number;
}

/** Defaults of `PhysicsRewardOptions` (fps and units come from the skeleton). */
export const PHYSICS_DEFAULTS = {
  lambdaSkate: 1,
  lambdaJerk: 1,
  skateScale: 0.5,
  jerkScale: 1000,
  contactHeight: 0.05,
  contactWidth: 0.01,
} as const;

/** Per-sample physics reward and its terms. */
export interface PhysicsReward {
  /** R_phy in (0, 1], NaN for a sample with non-finite features. (B) */
  reward: Float32Array;
  /** L_skate, m/s. (B) */
  skate: Float32Array;
  /** L_jerk, m/s^3. (B) */
  jerk: Float32Array;
  /** Number of samples with non-finite features. */
  nonFinite: number;
}

/** The kernel parameters for `spec` and `opts`, defaults filled in and checked. */
export function physicsParams(spec: SkeletonSpec, opts: PhysicsRewardOptions = {}): PhysicsParams {
  const feet = [...spec.feetLeft, ...spec.feetRight];
  if (feet.length !== 4) {
    throw new RangeError(
      `Cannot compute the physics reward: spec "${spec.name}" has ${feet.length} foot joints, expected 4`,
    );
  }
  const p: PhysicsParams = {
    joints: spec.joints,
    feet: [feet[0], feet[1], feet[2], feet[3]],
    fps: opts.fps ?? spec.fps,
    metresPerUnit: opts.metresPerUnit ?? (spec.name === "kit" ? 0.001 : 1),
    contactHeight: opts.contactHeight ?? PHYSICS_DEFAULTS.contactHeight,
    contactWidth: opts.contactWidth ?? PHYSICS_DEFAULTS.contactWidth,
    lambdaSkate: opts.lambdaSkate ?? PHYSICS_DEFAULTS.lambdaSkate,
    lambdaJerk: opts.lambdaJerk ?? PHYSICS_DEFAULTS.lambdaJerk,
    skateScale: opts.skateScale ?? PHYSICS_DEFAULTS.skateScale,
    jerkScale: opts.jerkScale ?? PHYSICS_DEFAULTS.jerkScale,
  };
  const positive = ["fps", "metresPerUnit", "contactWidth", "skateScale", "jerkScale"] as const;
  for (const k of positive) {
    if (!(p[k] > 0) || !Number.isFinite(p[k])) {
      throw new RangeError(`Cannot compute the physics reward: ${k} must be > 0, got ${p[k]}`);
    }
  }
  for (const k of ["lambdaSkate", "lambdaJerk", "contactHeight"] as const) {
    if (!Number.isFinite(p[k])) {
      throw new RangeError(`Cannot compute the physics reward: ${k} must be finite, got ${p[k]}`);
    }
  }
  return p;
}

/**
 * Physics reward of B generated clips.
 *
 * @param features normalised features (B, T, spec.nfeats)
 * @param mean feature means (spec.nfeats)
 * @param std feature standard deviations (spec.nfeats)
 * @param lengths valid frames per sample (B); later frames are padding
 */
export async function physicsReward(
  be: Backend,
  features: Tensor, // (B, T, F)
  mean: Tensor, // (F)
  std: Tensor, // (F)
  lengths: ArrayLike<number>, // (B)
  spec: SkeletonSpec,
  opts: PhysicsRewardOptions = {},
): Promise<PhysicsReward> {
  const F = spec.nfeats, B = lengths.length;
  const shape = features.shape;
  if (shape.length !== 3 || shape[0] !== B || shape[2] !== F) {
    throw new RangeError(
      `Cannot compute the physics reward: features are [${shape}], expected [${B}, T, ${F}]`,
    );
  }
  if (mean.size !== F || std.size !== F) {
    throw new RangeError(
      `Cannot compute the physics reward: mean/std have ${mean.size}/${std.size} elements, expected ${F}`,
    );
  }
  for (let b = 0; b < B; b++) {
    if (!Number.isInteger(lengths[b]) || lengths[b] < 0) {
      throw new RangeError(
        `Cannot compute the physics reward: lengths[${b}] = ${lengths[b]} is not a count`,
      );
    }
  }
  const T = shape[1];
  const p = physicsParams(spec, opts);
  let out: Float32Array; // (B, 4)
  if (be.kind === "cpu") {
    out = new Float32Array(B * PHYSICS_OUTPUTS);
    const [x, m, s] = await Promise.all([be.read(features), be.read(mean), be.read(std)]);
    physicsPenalty(out, x, m, s, lengths, B, T, F, p);
  } else {
    const gpu = be as WebGpuBackend;
    const len = gpu.tensor([B], lengths);
    const res = gpu.tensor([B, PHYSICS_OUTPUTS]);
    gpu.dispatch(
      physicsPenaltyKernel(
        gpu.bufferOf(res),
        gpu.bufferOf(features),
        gpu.bufferOf(mean),
        gpu.bufferOf(std),
        gpu.bufferOf(len),
        B,
        T,
        F,
        p,
      ),
    );
    out = await gpu.read(res);
    gpu.free(len);
    gpu.free(res);
  }
  const result: PhysicsReward = {
    reward: new Float32Array(B),
    skate: new Float32Array(B),
    jerk: new Float32Array(B),
    nonFinite: 0,
  };
  for (let b = 0; b < B; b++) {
    const flagged = out[b * PHYSICS_OUTPUTS + 3] !== 0;
    // The flag decides, so a driver that canonicalises NaN bit patterns cannot hide a bad sample.
    result.reward[b] = flagged ? NaN : out[b * PHYSICS_OUTPUTS];
    result.skate[b] = flagged ? NaN : out[b * PHYSICS_OUTPUTS + 1];
    result.jerk[b] = flagged ? NaN : out[b * PHYSICS_OUTPUTS + 2];
    if (flagged) result.nonFinite++;
  }
  return result;
}
