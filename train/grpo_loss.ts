/**
 * The clipped GRPO loss of a batch of N samples and its gradient, on either backend (NUMERICS.md
 * §4; formulas in kernels/grpo_loss/cpu.ts):
 *
 *   loss = mean(max(-A ratio, -A clip(ratio, 1-eps, 1+eps))) + beta * mean(kl)
 *
 * `dlogp` receives `dloss/dlogp` (0 where the clamp is active, `-A ratio / N` elsewhere), which the
 * trainer back-propagates through the log-probability of each sample; `dloss/dkl_i = beta / N`
 * is returned as `dkl`. The CPU backend runs the twin on host copies and writes `dlogp`; the
 * WebGPU backend runs one dispatch of kernels/grpo_loss/wgsl.ts and reads back 8 floats.
 *
 * @module
 */
import type { Backend, Tensor } from "../kernels/backend.ts";
import {
  GRPO_STATS,
  grpoLoss as grpoLossHost,
  type GrpoLossParams,
  GrpoStat,
} from "../kernels/grpo_loss/cpu.ts";
import { grpoLossKernel } from "../kernels/grpo_loss/wgsl.ts";
import type { WebGpuBackend } from "../kernels/webgpu_backend.ts";

/** The loss and its diagnostics (metric names of the logs in parentheses). */
export interface GrpoLossStats {
  /** policyLoss + klPenalty (`loss`). */
  loss: number;
  /** Mean clipped surrogate (`policy_loss`). */
  policyLoss: number;
  /** beta * mean(kl) (`kl_penalty`). */
  klPenalty: number;
  /** mean(kl). */
  klMean: number;
  /** mean(ratio) (`mean_ratio`). */
  meanRatio: number;
  /** mean((ratio - 1) - log ratio). */
  approxKl: number;
  /** Share of samples with |ratio - 1| > eps. */
  clipFraction: number;
  /** Share of samples whose gradient the clamp zeroes. */
  activeClipFraction: number;
  /** dloss/dkl_i = beta / N. */
  dkl: number;
}

/**
 * Computes the GRPO loss of N samples and writes `dloss/dlogp` into `dlogp`.
 *
 * @param dlogp (N) output, overwritten
 * @param logp (N) log-probabilities under the current policy
 * @param logpOld (N) log-probabilities under the rollout policy
 * @param adv (N) advantages
 * @param kl (N) per-sample KL to the reference
 */
export async function grpoLoss(
  be: Backend,
  dlogp: Tensor, // (N)
  logp: Tensor, // (N)
  logpOld: Tensor, // (N)
  adv: Tensor, // (N)
  kl: Tensor, // (N)
  N: number,
  p: GrpoLossParams,
): Promise<GrpoLossStats> {
  if (!Number.isInteger(N) || N < 1) {
    throw new RangeError(`Cannot compute the GRPO loss: N = ${N} must be a positive count`);
  }
  const named = { dlogp, logp, logpOld, adv, kl };
  for (const [name, t] of Object.entries(named)) {
    if (t.size < N) {
      throw new RangeError(
        `Cannot compute the GRPO loss: ${name} [${t.shape}] has ${t.size} elements, needs ${N}`,
      );
    }
  }
  if (!(p.clipEpsilon >= 0) || !Number.isFinite(p.klBeta)) {
    throw new RangeError(
      `Cannot compute the GRPO loss: clip epsilon ${p.clipEpsilon} must be >= 0 and beta ${p.klBeta} finite`,
    );
  }
  let s: Float32Array | Float64Array; // (GRPO_STATS)
  if (be.kind === "cpu") {
    const [lp, lo, a, k] = await Promise.all([
      be.read(logp),
      be.read(logpOld),
      be.read(adv),
      be.read(kl),
    ]);
    s = new Float64Array(GRPO_STATS);
    const grad = new Float32Array(N); // (N)
    grpoLossHost(s, grad, lp, lo, a, k, N, p);
    be.write(dlogp, grad);
  } else {
    const gpu = be as WebGpuBackend;
    const stats = gpu.tensor([GRPO_STATS]);
    gpu.dispatch(
      grpoLossKernel(
        gpu.bufferOf(stats),
        gpu.bufferOf(dlogp),
        gpu.bufferOf(logp),
        gpu.bufferOf(logpOld),
        gpu.bufferOf(adv),
        gpu.bufferOf(kl),
        N,
        p,
      ),
    );
    s = await gpu.read(stats);
    gpu.free(stats);
  }
  return {
    loss: s[GrpoStat.loss],
    policyLoss: s[GrpoStat.policyLoss],
    klPenalty: p.klBeta * s[GrpoStat.klMean],
    klMean: s[GrpoStat.klMean],
    meanRatio: s[GrpoStat.meanRatio],
    approxKl: s[GrpoStat.approxKl],
    clipFraction: s[GrpoStat.clipFraction],
    activeClipFraction: s[GrpoStat.activeClipFraction],
    dkl: s[GrpoStat.dkl],
  };
}
