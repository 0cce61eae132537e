/**
 * The sampling loop for any plan (diffusion/plan.ts: MDM's DDPM or the Flow-GRPO SDE) with
 * classifier-free guidance, recording what GRPO needs: for every stochastic step the latent x,
 * the sample x' and the squared distance to the transition mean (from which
 * `logProbFromSqDist` gives the log-prob).
 *
 * Guidance (on x0, as MDM's ClassifierFreeSampleModel): `x0hat = uncond + s (cond - uncond)`.
 * Both passes run as ONE denoiser call on a doubled batch `[cond; uncond]`; samples are
 * independent, so this equals two calls. With `guidance === 1` the unconditional pass is skipped.
 *
 * Noise addressing (kernels/rng/philox.ts): stream `stream`, elements `[k n, (k+1) n)` for draw k,
 * n = B*T*F: draw 0 is the initial latent, draw k >= 1 the noise of the k-th step. The same
 * (seed, stream) reproduces a rollout bit for bit on the same backend.
 */
import type { Backend, Tensor } from "../kernels/backend.ts";
import type { Denoiser } from "./denoiser.ts";
import type { SamplingPlan, SamplingStep } from "./plan.ts";
import { sampleFromMean, stepMean, validElementMask } from "./transition.ts";

export interface RolloutOptions {
  plan: SamplingPlan;
  /** CFG scale s (MDM default 2.5); 1 = conditional only. */
  guidance: number;
  seed: number;
  stream: number;
  /** Keep x, x' and squared distances of every stochastic step (for GRPO). */
  record: boolean;
}

/** One recorded stochastic transition x → x'. */
export interface RecordedStep {
  step: SamplingStep;
  /** Position of the step in the plan. */
  index: number;
  x: Tensor; // (B, T, F)
  sample: Tensor; // (B, T, F)
  /** Sum over valid elements of (x' - mean)^2. */
  sqDist: Tensor; // (B)
}

export interface Rollout {
  /** The final motion (normalised features). */
  x0: Tensor; // (B, T, F)
  steps: RecordedStep[];
  /** Valid elements per sample (length x F): the log-prob averaging count. */
  count: Float64Array; // (B)
}

/** Inputs of the guided denoiser call, on a batch doubled when guidance is on. */
export interface GuidedBatch {
  B2: number;
  xIn: Tensor; // (B2, T, F)
  textIn: Tensor; // (B2, D)
  out: Tensor; // (B2, T, F)
  lengthsIn: Int32Array; // (B2)
  condMask: Float32Array; // (B2)
  frameMask: Tensor; // (B2, T)
}

/** Allocates the doubled batch `[cond; uncond]` (or the plain batch when guidance is 1). */
export function guidedBatch(
  den: Denoiser,
  text: Tensor, // (B, D)
  lengths: Int32Array, // (B)
  B: number,
  T: number,
  guidance: number,
): GuidedBatch {
  const be = den.backend, F = den.nfeats, D = den.textDim;
  const B2 = guidance !== 1 ? 2 * B : B;
  const textIn = be.tensor([B2, D]);
  be.copy(textIn, text, B * D);
  if (B2 > B) be.copy(textIn, text, B * D, B * D, 0);
  const lengthsIn = new Int32Array(B2);
  for (let i = 0; i < B2; i++) lengthsIn[i] = lengths[i % B];
  return {
    B2,
    xIn: be.tensor([B2, T, F]),
    textIn,
    out: be.tensor([B2, T, F]),
    lengthsIn,
    condMask: new Float32Array(B2).fill(1, 0, B),
    frameMask: be.tensor([B2, T], frameMaskHost(lengthsIn, B2, T)),
  };
}

export function freeGuidedBatch(be: Backend, g: GuidedBatch): void {
  for (const t of [g.xIn, g.textIn, g.out, g.frameMask]) be.free(t);
}

/** `x0hat = model(inputScale x)` with guidance `s` combined on x0. */
export function guidedX0(
  den: Denoiser,
  g: GuidedBatch,
  x0hat: Tensor, // (B, T, F)
  x: Tensor, // (B, T, F)
  step: SamplingStep,
  guidance: number,
  B: number,
  T: number,
): void {
  const be = den.backend, n = B * T * den.nfeats;
  // x0hat doubles as scratch for the scaled input (a buffer never copies onto itself on WebGPU).
  be.axpby(x0hat, x, Math.fround(step.inputScale), x, 0, n);
  be.copy(g.xIn, x0hat, n);
  if (g.B2 > B) be.copy(g.xIn, x0hat, n, n, 0);
  den.predictX0(
    g.out,
    {
      x: g.xIn,
      timesteps: new Int32Array(g.B2).fill(step.modelT),
      text: g.textIn,
      condMask: g.condMask,
      frameMask: g.frameMask,
      lengths: g.lengthsIn,
    },
    g.B2,
    T,
  );
  if (g.B2 > B) {
    // x0hat = s * cond + (1 - s) * uncond; the unconditional half is moved next to x0hat first.
    be.copy(x0hat, g.out, n, 0, n);
    be.axpby(x0hat, g.out, guidance, x0hat, 1 - guidance, n);
  } else {
    be.copy(x0hat, g.out, n);
  }
}

/**
 * Samples B motions of T frames for text features `text` (B, D) and `lengths` (B). The returned
 * tensors belong to the caller (release them with `freeRollout`).
 */
export function rollout(
  den: Denoiser,
  text: Tensor, // (B, D)
  lengths: Int32Array, // (B)
  B: number,
  T: number,
  opts: RolloutOptions,
): Rollout {
  const be = den.backend;
  const F = den.nfeats, n = B * T * F;
  const g = guidedBatch(den, text, lengths, B, T, opts.guidance);
  const w = be.tensor([B, T * F], validElementMask(lengths, B, T, F));
  const x0hat = be.tensor([B, T, F]);
  const mean = be.tensor([B, T, F]);
  const noise = be.tensor([B, T, F]);

  let x = be.tensor([B, T, F]);
  be.randn(x, n, { seed: opts.seed, stream: opts.stream, offset: 0 });
  if (opts.plan.initScale !== 1) be.axpby(x, x, Math.fround(opts.plan.initScale), x, 0, n);

  const steps: RecordedStep[] = [];
  opts.plan.steps.forEach((step, k) => {
    guidedX0(den, g, x0hat, x, step, opts.guidance, B, T);
    stepMean(be, mean, x0hat, x, step, n);
    if (step.std > 0) {
      be.randn(noise, n, { seed: opts.seed, stream: opts.stream, offset: (k + 1) * n });
    }
    const next = be.tensor([B, T, F]);
    sampleFromMean(be, next, mean, noise, step, n);
    if (opts.record && step.std > 0) {
      const sqDist = be.tensor([B]);
      be.rowSumSqDiff(sqDist, next, mean, w, B, T * F);
      steps.push({ step, index: k, x, sample: next, sqDist });
    } else if (!steps.some((s) => s.sample === x)) {
      be.free(x); // not referenced by a recorded step
    }
    x = next;
  });
  freeGuidedBatch(be, g);
  for (const t of [w, x0hat, mean, noise]) be.free(t);
  const count = Float64Array.from(lengths, (len) => Math.min(len, T) * F);
  return { x0: x, steps, count };
}

/** Releases every tensor a rollout holds (x of one step is x' of the previous: freed once). */
export function freeRollout(be: Backend, r: Rollout): void {
  const seen = new Set<Tensor>([r.x0]);
  for (const s of r.steps) for (const t of [s.x, s.sample, s.sqDist]) seen.add(t);
  for (const t of seen) be.free(t);
}

/** Host frame mask (B, T): 1 for frames < length. */
export function frameMaskHost(lengths: Int32Array, B: number, T: number): Float32Array {
  const m = new Float32Array(B * T);
  for (let b = 0; b < B; b++) m.fill(1, b * T, b * T + Math.min(lengths[b], T));
  return m;
}
