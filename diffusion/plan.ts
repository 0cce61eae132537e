/**
 * A sampling plan: the list of reverse steps a sampler takes, each reduced to the same affine
 * Gaussian transition
 *
 *   x0hat = model(inputScale * x, modelT)                 (MDM predicts x0)
 *   mean  = coefX0 * x0hat + coefX * x
 *   x'    = mean + std * eps,  eps ~ N(0, I)              (std = 0: deterministic step)
 *
 * so one rollout loop and one log-prob serve both GRPO variants.
 *
 * DDPM (`ddpmPlan`, MDM's p_sample, NUMERICS.md §2): coefX0 = posterior coef1_t, coefX = coef2_t,
 * std = exp(0.5 logvar_clipped_t), 0 at t = 0.
 *
 * Flow-GRPO SDE (`flowPlan`, NUMERICS.md §3): flow time s in (0, 1], x_s = (1 - s) x0 + s eps,
 * velocity v = eps - x0. An x0-predicting model gives v = (x_s - x0hat) / s. MDM was trained on
 * DDPM latents x_t = sqrt(abar) x0 + sqrt(1 - abar) eps; dividing by sqrt(abar) + sqrt(1 - abar)
 * gives exactly a flow latent with s = sqrt(1 - abar) / (sqrt(abar) + sqrt(1 - abar)), so the
 * K flow steps are taken at K DDPM indices spaced over [0, T) (from the noisiest down), s from
 * that map, the final s = 0, and the model sees `inputScale * x_s` with inputScale =
 * sqrt(abar) + sqrt(1 - abar) at its own index t. Substituting v into the SDE mean
 *   mean = x (1 + std_t^2 dt / (2 s)) + v (1 + std_t^2 (1 - s) / (2 s)) dt,  dt = s_next - s < 0,
 *   std_t = a sqrt(s / (1 - s)) (a = --noise_scale; the first step, at s ~ 1 where s / (1 - s)
 *   diverges, uses s_1 in the denominator as Flow-GRPO does at s = 1),
 * gives coefX = 1 + std_t^2 dt / (2 s) + g dt / s and coefX0 = -g dt / s with
 * g = 1 + std_t^2 (1 - s) / (2 s); the transition std is std_t sqrt(-dt).
 */
import type { DiffusionTables } from "./schedule.ts";
import { spacedTimesteps } from "./schedule.ts";

export interface SamplingStep {
  /** Step index the model receives. */
  modelT: number;
  /** The model sees `inputScale * x` (1 for DDPM). */
  inputScale: number;
  coefX0: number;
  coefX: number;
  /** Standard deviation of the transition; 0 for a deterministic step (no log-prob). */
  std: number;
}

export interface SamplingPlan {
  kind: "ddpm" | "flow";
  steps: SamplingStep[];
  /** The initial latent is `initScale * eps`. */
  initScale: number;
}

/** MDM's DDPM sampler over all steps of `tables` (timestepMap: respaced → model index). */
export function ddpmPlan(tables: DiffusionTables, timestepMap?: Int32Array): SamplingPlan {
  const steps: SamplingStep[] = [];
  for (let t = tables.numSteps - 1; t >= 0; t--) {
    steps.push({
      modelT: timestepMap ? timestepMap[t] : t,
      inputScale: 1,
      coefX0: tables.posteriorMeanCoef1[t],
      coefX: tables.posteriorMeanCoef2[t],
      std: t === 0 ? 0 : Math.exp(0.5 * tables.posteriorLogVarianceClipped[t]),
    });
  }
  return { kind: "ddpm", steps, initScale: 1 };
}

/** Flow time of DDPM step t: s = sqrt(1 - abar) / (sqrt(abar) + sqrt(1 - abar)). */
export function flowTimeOfStep(tables: DiffusionTables, t: number): number {
  const a = Math.sqrt(tables.alphasCumprod[t]), b = Math.sqrt(1 - tables.alphasCumprod[t]);
  return b / (a + b);
}

/** The Flow-GRPO SDE sampler with `count` steps and noise level `noiseScale` (a). */
export function flowPlan(tables: DiffusionTables, count: number, noiseScale: number): SamplingPlan {
  if (!(noiseScale >= 0)) throw new RangeError(`--noise_scale must be >= 0, got ${noiseScale}`);
  const indices = spacedTimesteps(tables.numSteps, count).reverse(); // noisiest first
  const sigmas = [...indices.map((t) => flowTimeOfStep(tables, t)), 0];
  const steps: SamplingStep[] = indices.map((t, k) => {
    const s = sigmas[k], dt = sigmas[k + 1] - s;
    const denom = 1 - (k === 0 ? sigmas[1] : s);
    const stdT = noiseScale * Math.sqrt(s / denom);
    const g = 1 + stdT * stdT * (1 - s) / (2 * s);
    const a = Math.sqrt(tables.alphasCumprod[t]), b = Math.sqrt(1 - tables.alphasCumprod[t]);
    return {
      modelT: t,
      inputScale: a + b,
      coefX0: -g * dt / s,
      coefX: 1 + stdT * stdT * dt / (2 * s) + g * dt / s,
      std: stdT * Math.sqrt(-dt),
    };
  });
  // x_T ~ N(0, I) in DDPM units is eps / (sqrt(abar) + sqrt(1 - abar)) in flow units.
  return { kind: "flow", steps, initScale: 1 / steps[0].inputScale };
}
