/**
 * Gaussian diffusion tables of MDM (improved-DDPM cosine schedule), computed in float64 exactly as
 * the public `gaussian_diffusion.py` does with numpy, and cast to float32 where a kernel uses them.
 *
 * For step index t in [0, T):
 *   abar(s) = cos^2((s + 0.008) / 1.008 * pi / 2)
 *   beta_t  = min(1 - abar((t + 1) / T) / abar(t / T), 0.999)
 *   alphasCumprod_t = prod_{k <= t} (1 - beta_k), alphasCumprodPrev = [1, alphasCumprod[:-1]]
 *   posteriorVariance_t = beta_t (1 - abarPrev_t) / (1 - abar_t)
 *   posteriorLogVarianceClipped = log([pv_1, pv_1, pv_2, ...]) (pv_0 = 0 would give -inf)
 *   posteriorMeanCoef1_t = beta_t sqrt(abarPrev_t) / (1 - abar_t)        (multiplies x0)
 *   posteriorMeanCoef2_t = (1 - abarPrev_t) sqrt(1 - beta_t) / (1 - abar_t) (multiplies x_t)
 */

/** Every per-step table, float64, length T. */
export interface DiffusionTables {
  readonly numSteps: number;
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  readonly posteriorVariance: Float64Array;
  readonly posteriorLogVarianceClipped: Float64Array;
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
}

/** The cosine schedule's betas for T steps (float64). */
export function cosineBetas(T: number): Float64Array {
  if (!Number.isInteger(T) || T < 1) {
    throw new RangeError(
      `Cannot build a diffusion schedule: steps must be a positive integer, got ${T}`,
    );
  }
  const abar = (s: number) => Math.cos((s + 0.008) / 1.008 * Math.PI / 2) ** 2;
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) betas[i] = Math.min(1 - abar((i + 1) / T) / abar(i / T), 0.999);
  return betas;
}

/** Tables for an arbitrary beta sequence (the cosine one, or a respaced one). */
export function tablesFromBetas(betas: Float64Array): DiffusionTables {
  const T = betas.length;
  const alphasCumprod = new Float64Array(T);
  const alphasCumprodPrev = new Float64Array(T);
  let prod = 1;
  for (let i = 0; i < T; i++) {
    alphasCumprodPrev[i] = prod;
    prod *= 1 - betas[i];
    alphasCumprod[i] = prod;
  }
  const sqrtAlphasCumprod = alphasCumprod.map(Math.sqrt);
  const sqrtOneMinusAlphasCumprod = alphasCumprod.map((a) => Math.sqrt(1 - a));
  const posteriorVariance = new Float64Array(T);
  const posteriorMeanCoef1 = new Float64Array(T);
  const posteriorMeanCoef2 = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const oneMinus = 1 - alphasCumprod[i];
    posteriorVariance[i] = betas[i] * (1 - alphasCumprodPrev[i]) / oneMinus;
    posteriorMeanCoef1[i] = betas[i] * Math.sqrt(alphasCumprodPrev[i]) / oneMinus;
    posteriorMeanCoef2[i] = (1 - alphasCumprodPrev[i]) * Math.sqrt(1 - betas[i]) / oneMinus;
  }
  // The variance at t = 0 is 0; the public code clips the log by reusing pv[1] there.
  const posteriorLogVarianceClipped = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    posteriorLogVarianceClipped[i] = Math.log(
      T > 1 && i === 0 ? posteriorVariance[1] : posteriorVariance[i],
    );
  }
  return {
    numSteps: T,
    betas,
    alphasCumprod,
    alphasCumprodPrev,
    sqrtAlphasCumprod,
    sqrtOneMinusAlphasCumprod,
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1,
    posteriorMeanCoef2,
  };
}

/** MDM's tables for its cosine schedule with T steps (T = 50 for the released 50-step model). */
export function cosineTables(T: number): DiffusionTables {
  return tablesFromBetas(cosineBetas(T));
}

/**
 * The step indices kept when T steps are respaced to `count` (MDM's `space_timesteps` with one
 * section): `round(k * (T - 1) / (count - 1))` for k < count (the product accumulated as a running sum), rounding half to even as Python does.
 */
export function spacedTimesteps(T: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1 || count > T) {
    throw new RangeError(
      `Cannot respace ${T} diffusion steps to ${count}: need 1 <= count <= ${T}`,
    );
  }
  if (count === 1) return [0];
  // Accumulated like the public code (cur += stride), not k * stride: ties round identically.
  const stride = (T - 1) / (count - 1);
  const kept: number[] = [];
  let cur = 0;
  for (let k = 0; k < count; k++) {
    kept.push(roundHalfEven(cur));
    cur += stride;
  }
  return kept;
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Respaced tables: `new_beta_k = 1 - abar[S_k] / abar[S_{k-1}]` (abar[S_{-1}] = 1). Returns the
 * tables and `timestepMap` (respaced index → original index, what the model receives).
 */
export function respaceTables(
  base: DiffusionTables,
  kept: readonly number[],
): { tables: DiffusionTables; timestepMap: Int32Array } {
  const betas = new Float64Array(kept.length);
  let last = 1;
  kept.forEach((s, k) => {
    betas[k] = 1 - base.alphasCumprod[s] / last;
    last = base.alphasCumprod[s];
  });
  return { tables: tablesFromBetas(betas), timestepMap: Int32Array.from(kept) };
}
