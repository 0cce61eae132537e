/**
 * The loss head of one trained GRPO transition, WGSL: everything between the squared distances
 * that `rowSumSqDiff` leaves on the device and the per-frame gradient scales that `scaleRows`
 * needs, in ONE dispatch of one workgroup, so that a training step reads nothing back per
 * transition (a read drains the GPU queue and costs a round trip of several milliseconds).
 *
 * Per sample i (count_i valid elements, std^2 = variance, logNorm = log std + log(2 pi)/2):
 *
 *   logp_i    = -sq_i    / (2 variance count_i) - logNorm     (current policy)
 *   logpRef_i = -sqRef_i / (2 variance count_i) - logNorm     (reference)
 *   logpOld_i = -sqOld_i / (2 variance count_i) - logNorm     (rollout)
 *   kl_i      = klSq_i   / (2 variance count_i)
 *
 * then the clipped objective of kernels/grpo_loss/cpu.ts (ratio, surrogate, `dloss/dlogp_i`,
 * `dloss/dkl_i = beta / N`), and the per-frame scales of the mean's gradient (NUMERICS.md §4):
 *
 *   rowLogp[i, t] = valid[i, t] dloss/dlogp_i / (K variance count_i)
 *   rowKl[i, t]   = valid[i, t] (beta / N)     / (K variance count_i)
 *
 * The transition's means (loss, policy loss, beta mean kl, ratio, clip fraction, approx KL and
 * the three mean log-probs) are ADDED, times 1/K, to `acc` (TRANSITION_STATS): over the K trained
 * transitions it accumulates the step's statistics, read once at the end. Thread k handles
 * samples k, k+256, ... in order, then a fixed-shape tree reduction: deterministic, no atomics.
 * Host twin: `hostTransitionHead` in train/grpo/transition_head.ts (float64).
 */
import { f32, type Kernel, u32 } from "../webgpu/kernel.ts";

/** Index of each accumulated statistic in `acc`. */
export const TransitionStat = {
  loss: 0,
  policyLoss: 1,
  klPenalty: 2,
  meanRatio: 3,
  clipFraction: 4,
  approxKl: 5,
  logpCurrent: 6,
  logpRef: 7,
  logpOld: 8,
} as const;

/** Length of `acc`. */
export const TRANSITION_STATS = 9;

const GRPO_TRANSITION = String.raw`
const WG = 256u;
const S = 8u; // partial sums: policy, kl, ratio, approxKl, clipped, logp, logpRef, logpOld
var<workgroup> red: array<f32, 2048>; // (S, WG)

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u) {
  let k = lid.x;
  let invN = 1.0 / f32(p.N);
  var part = array<f32, 8>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  for (var i = k; i < p.N; i += WG) {
    let denom = 2.0 * p.variance * count[i];
    let logp = -sq[i] / denom - p.logNorm;
    let logpRef = -sqRef[i] / denom - p.logNorm;
    let logpOld = -sqOld[i] / denom - p.logNorm;
    let kl = klSq[i] / denom;
    let logRatio = logp - logpOld;
    let r = exp(logRatio);
    let A = adv[i];
    let unclipped = -A * r;
    let clipped = -A * clamp(r, 1.0 - p.eps, 1.0 + p.eps);
    let dlogp = select(unclipped * invN, 0.0, clipped > unclipped);
    let frameScale = p.invK / (p.variance * count[i]);
    let gLogp = dlogp * frameScale;
    let gKl = p.beta * invN * frameScale;
    for (var t = 0u; t < p.T; t++) {
      let at = i * p.T + t;
      rowLogp[at] = gLogp * valid[at];
      rowKl[at] = gKl * valid[at];
    }
    part[0] += max(unclipped, clipped);
    part[1] += kl;
    part[2] += r;
    part[3] += (r - 1.0) - logRatio;
    part[4] += select(0.0, 1.0, abs(r - 1.0) > p.eps);
    part[5] += logp;
    part[6] += logpRef;
    part[7] += logpOld;
  }
  for (var c = 0u; c < S; c++) {
    red[c * WG + k] = part[c];
  }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (k < s) {
      for (var c = 0u; c < S; c++) {
        red[c * WG + k] += red[c * WG + k + s];
      }
    }
    workgroupBarrier();
  }
  if (k == 0u) {
    let w = invN * p.invK;
    let policy = red[0] * w;
    let klPenalty = p.beta * red[WG] * w;
    acc[0] += policy + klPenalty;
    acc[1] += policy;
    acc[2] += klPenalty;
    acc[3] += red[2u * WG] * w;
    acc[4] += red[4u * WG] * w;
    acc[5] += red[3u * WG] * w;
    acc[6] += red[5u * WG] * w;
    acc[7] += red[6u * WG] * w;
    acc[8] += red[7u * WG] * w;
  }
}
`;

/** Device buffers of one transition's loss head. */
export interface TransitionBuffers {
  /** (TRANSITION_STATS) accumulated statistics, added to. */
  acc: GPUBuffer;
  /** (N*T) outputs, overwritten. */
  rowLogp: GPUBuffer;
  rowKl: GPUBuffer;
  /** (N) squared distances of x' to the policy mean, to the reference mean, to the rollout mean. */
  sq: GPUBuffer;
  sqRef: GPUBuffer;
  sqOld: GPUBuffer;
  /** (N) squared distance between the policy and reference means. */
  klSq: GPUBuffer;
  /** (N) valid elements per sample. */
  count: GPUBuffer;
  /** (N) advantages. */
  adv: GPUBuffer;
  /** (N*T) 1 on valid frames, 0 on padding. */
  valid: GPUBuffer;
}

/** Scalars of one transition. */
export interface TransitionScalars {
  N: number;
  T: number;
  /** Trained transitions of the step (each one's share is 1/K). */
  K: number;
  /** The transition's std (> 0). */
  std: number;
  clipEpsilon: number;
  klBeta: number;
}

/** The loss head of one transition in one dispatch. */
export function transitionKernel(b: TransitionBuffers, s: TransitionScalars): Kernel {
  return {
    name: "grpo_transition",
    code: GRPO_TRANSITION,
    inputs: [
      { name: "sq", buffer: b.sq },
      { name: "sqRef", buffer: b.sqRef },
      { name: "sqOld", buffer: b.sqOld },
      { name: "klSq", buffer: b.klSq },
      { name: "count", buffer: b.count },
      { name: "adv", buffer: b.adv },
      { name: "valid", buffer: b.valid },
    ],
    outputs: [
      { name: "acc", buffer: b.acc },
      { name: "rowLogp", buffer: b.rowLogp },
      { name: "rowKl", buffer: b.rowKl },
    ],
    uniforms: [
      u32("N", s.N),
      u32("T", s.T),
      f32("variance", s.std * s.std),
      f32("logNorm", Math.log(s.std) + 0.5 * Math.log(2 * Math.PI)),
      f32("eps", s.clipEpsilon),
      f32("beta", s.klBeta),
      f32("invK", 1 / s.K),
    ],
    grid: [1, 1, 1],
  };
}
