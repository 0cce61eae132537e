/**
 * The Gaussian transition of one sampling step (diffusion/plan.ts) on the engine, and its
 * log-probability, which GRPO needs:
 *
 *   mean  = coefX0 * x0hat + coefX * x
 *   x'    = mean + std * eps
 *   log p = mean over valid elements of [-(x' - mean)^2 / (2 std^2) - log(std) - 0.5 log(2 pi)]
 *
 * Log-probs are AVERAGED over the valid elements (frames < length, all features), as Flow-GRPO
 * does, not summed: a sum over 196 x 263 elements makes `exp(logp - logp_old)` explode for any
 * real policy change, and the mean keeps the clip range and the KL weight independent of clip
 * length. The price is an effective learning rate scaled by 1 / (valid elements). Steps with
 * std = 0 (DDPM t = 0) are deterministic and have no log-prob: trainers skip them.
 * Coefficients are cast to float32 where the engine uses them.
 */
import type { Backend, Tensor } from "../kernels/backend.ts";
import type { SamplingStep } from "./plan.ts";

/** `mean = coefX0 x0hat + coefX x` over n elements. */
export function stepMean(
  be: Backend,
  mean: Tensor, // (B, T, F)
  x0hat: Tensor, // (B, T, F)
  x: Tensor, // (B, T, F)
  step: SamplingStep,
  n: number,
): void {
  be.axpby(mean, x0hat, Math.fround(step.coefX0), x, Math.fround(step.coefX), n);
}

/** `out = mean + std * noise` (a copy of mean when std = 0). */
export function sampleFromMean(
  be: Backend,
  out: Tensor, // (B, T, F)
  mean: Tensor, // (B, T, F)
  noise: Tensor, // (B, T, F) standard normals
  step: SamplingStep,
  n: number,
): void {
  if (step.std === 0) be.copy(out, mean, n);
  else be.axpby(out, mean, 1, noise, Math.fround(step.std), n);
}

/** Host mask (B, T*F): 1 for every feature of frames `< lengths[b]` (all when lengths is null). */
export function validElementMask(
  lengths: Int32Array | null,
  B: number,
  T: number,
  F: number,
): Float32Array {
  const w = new Float32Array(B * T * F);
  for (let b = 0; b < B; b++) {
    const len = lengths ? Math.min(lengths[b], T) : T;
    w.fill(1, b * T * F, (b * T + len) * F);
  }
  return w;
}

/**
 * Per-sample log-probs from `sq[b] = sum over valid elements of (x' - mean)^2` (computed on the
 * engine by `Backend.rowSumSqDiff` with the valid mask), averaged over `count[b]` elements.
 */
export function logProbFromSqDist(
  sq: ArrayLike<number>, // (B)
  count: ArrayLike<number>, // (B)
  step: SamplingStep,
): Float64Array {
  if (step.std === 0) {
    throw new RangeError(`Cannot take the log-prob of step t=${step.modelT}: it is deterministic`);
  }
  const variance = step.std * step.std;
  const logNorm = Math.log(step.std) + 0.5 * Math.log(2 * Math.PI);
  return Float64Array.from(sq, (s, b) => -s / (2 * variance * count[b]) - logNorm);
}

/**
 * Per-frame scales of the gradient of `sum_b g[b] logp[b]` with respect to the transition mean:
 * `g[b] / (std^2 count[b])` on the valid frames of sample b, 0 on padding, as float32 (B*T).
 */
export function logProbRowScale(
  g: ArrayLike<number>, // (B)
  lengths: Int32Array | null, // (B)
  count: ArrayLike<number>, // (B)
  step: SamplingStep,
  B: number,
  T: number,
): Float32Array {
  const variance = step.std * step.std;
  const s = new Float32Array(B * T); // (B, T)
  for (let b = 0; b < B; b++) {
    const len = lengths ? Math.min(lengths[b], T) : T;
    s.fill(g[b] / (variance * count[b]), b * T, b * T + len);
  }
  return s;
}
