/**
 * The clipped GRPO objective and its gradient, CPU twin (plain loops, float64 sums in sample
 * order). Its WGSL form is part of kernels/grpo_loss/transition_wgsl.ts. Over N samples (NUMERICS.md §4):
 *
 *   ratio_i  = exp(logp_i - logpOld_i)
 *   policy_i = max(-A_i ratio_i, -A_i clip(ratio_i, 1 - eps, 1 + eps))
 *   loss     = mean_i policy_i + beta * mean_i kl_i
 *
 * Gradients: `dloss/dlogp_i = 0` where the clipped branch is strictly larger (A > 0 and
 * ratio > 1 + eps, or A < 0 and ratio < 1 - eps: the clamp is flat there), else `-A_i ratio_i / N`;
 * `dloss/dkl_i = beta / N` for every i. kl_i is given (Flow-GRPO's
 * `mean((mean - meanRef)^2) / (2 std^2)`, computed with the rollout).
 *
 * Diagnostics: `meanRatio`; `approxKl = mean((ratio - 1) - (logp - logpOld))` (the k3 estimator of
 * KL(old || new), >= 0); `clipFraction = mean(|ratio - 1| > eps)` (the PPO/Flow-GRPO metric);
 * `activeClipFraction`, the share whose gradient the clamp zeroes.
 *
 * Output `stats` (GRPO_STATS): see `GrpoStat` for the index of each value.
 */

/** Hyper-parameters of the clipped objective. */
export interface GrpoLossParams {
  /** `--clip_epsilon`. */
  clipEpsilon: number;
  /** `--kl_penalty` (beta). */
  klBeta: number;
}

/** Index of each value in the `stats` output. */
export const GrpoStat = {
  loss: 0,
  policyLoss: 1,
  klMean: 2,
  meanRatio: 3,
  approxKl: 4,
  clipFraction: 5,
  activeClipFraction: 6,
  /** `dloss/dkl_i = beta / N`, the same for every sample. */
  dkl: 7,
} as const;

/** Length of the `stats` output. */
export const GRPO_STATS = 8;

// ----------------------------------------------------------------------------------------------
// GRPO loss forward + backward: logp, logpOld, adv, kl (N) -> stats (8), dlogp (N)

/** Loss, diagnostics (`stats`) and `dloss/dlogp` (overwritten) of N samples. */
export function grpoLoss(
  stats: Float32Array | Float64Array, // (GRPO_STATS)
  dlogp: Float32Array | Float64Array, // (N)
  logp: ArrayLike<number>, // (N) current policy
  logpOld: ArrayLike<number>, // (N) rollout policy
  adv: ArrayLike<number>, // (N)
  kl: ArrayLike<number>, // (N)
  N: number,
  p: GrpoLossParams,
): void {
  const eps = p.clipEpsilon;
  let policy = 0, klSum = 0, ratioSum = 0, approx = 0, clip = 0, active = 0;
  for (let i = 0; i < N; i++) {
    const logRatio = logp[i] - logpOld[i];
    const r = Math.exp(logRatio);
    const A = adv[i];
    const unclipped = -A * r;
    const clipped = -A * Math.min(Math.max(r, 1 - eps), 1 + eps);
    const isActive = clipped > unclipped;
    policy += Math.max(unclipped, clipped);
    dlogp[i] = isActive ? 0 : unclipped / N;
    klSum += kl[i];
    ratioSum += r;
    approx += (r - 1) - logRatio;
    if (Math.abs(r - 1) > eps) clip++;
    if (isActive) active++;
  }
  stats[GrpoStat.policyLoss] = policy / N;
  stats[GrpoStat.klMean] = klSum / N;
  stats[GrpoStat.loss] = policy / N + p.klBeta * klSum / N;
  stats[GrpoStat.meanRatio] = ratioSum / N;
  stats[GrpoStat.approxKl] = approx / N;
  stats[GrpoStat.clipFraction] = clip / N;
  stats[GrpoStat.activeClipFraction] = active / N;
  stats[GrpoStat.dkl] = p.klBeta / N;
}
