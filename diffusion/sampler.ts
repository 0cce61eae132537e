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
import type { ActivationHandle, Denoiser } from "./denoiser.ts";
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
  /**
   * With `record`: also keep, for recorded steps while their total stays within `maxBytes`, the
   * denoiser's saved activations and the guided x0 (`RecordedStep.saved`), so that a trainer
   * can differentiate the rollout's own forward instead of running it again.
   */
  saveActivations?: { maxBytes: number };
}

/** A recorded step's forward, kept for its backward (`RolloutOptions.saveActivations`). */
export interface SavedForward {
  /** The denoiser's activations of the guided call at x (detached from it). */
  activations: ActivationHandle;
  /** The guided x0 prediction at x. */
  x0hat: Tensor; // (B, T, F)
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
  /** The step's forward, when kept; null once a trainer attached its activations. */
  saved?: SavedForward | null;
}

export interface Rollout {
  /** The final motion (normalised features). */
  x0: Tensor; // (B, T, F)
  /** The denoiser that ran it (releases kept activations). */
  den: Denoiser;
  steps: RecordedStep[];
  /** Valid elements per sample (length x F): the log-prob averaging count. */
  count: Float64Array; // (B)
}

/**
 * Inputs of the guided denoiser call: `blocks` blocks of `[cond; uncond]` (or the plain batch when
 * guidance is 1), so that several transitions of one rollout can share one denoiser call.
 */
export interface GuidedBatch {
  /** Samples per block: 2B with guidance, else B. */
  B2: number;
  blocks: number;
  xIn: Tensor; // (blocks*B2, T, F)
  textIn: Tensor; // (blocks*B2, D)
  out: Tensor; // (blocks*B2, T, F)
  lengthsIn: Int32Array; // (blocks*B2)
  condMask: Float32Array; // (blocks*B2)
  frameMask: Tensor; // (blocks*B2, T)
  /** The conditional half of a block other than the first, moved to offset 0 for `axpby`. */
  cond: Tensor | null; // (B, T, F)
}

/** Allocates `blocks` doubled batches `[cond; uncond]` (or plain batches when guidance is 1). */
export function guidedBatch(
  den: Denoiser,
  text: Tensor, // (B, D)
  lengths: Int32Array, // (B)
  B: number,
  T: number,
  guidance: number,
  blocks = 1,
): GuidedBatch {
  const be = den.backend, F = den.nfeats, D = den.textDim;
  const B2 = guidance !== 1 ? 2 * B : B, rows = blocks * B2;
  const textIn = be.tensor([rows, D]);
  const lengthsIn = new Int32Array(rows);
  const condMask = new Float32Array(rows);
  for (let k = 0; k < blocks; k++) {
    be.copy(textIn, text, B * D, k * B2 * D, 0);
    if (B2 > B) be.copy(textIn, text, B * D, (k * B2 + B) * D, 0);
    condMask.fill(1, k * B2, k * B2 + B);
  }
  for (let i = 0; i < rows; i++) lengthsIn[i] = lengths[i % B];
  return {
    B2,
    blocks,
    xIn: be.tensor([rows, T, F]),
    textIn,
    out: be.tensor([rows, T, F]),
    lengthsIn,
    condMask,
    frameMask: be.tensor([rows, T], frameMaskHost(lengthsIn, rows, T)),
    cond: blocks > 1 && B2 > B ? be.tensor([B, T, F]) : null,
  };
}

export function freeGuidedBatch(be: Backend, g: GuidedBatch): void {
  for (const t of [g.xIn, g.textIn, g.out, g.frameMask, g.cond]) if (t !== null) be.free(t);
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
  guidedX0s(den, g, [x0hat], [x], [step], guidance, B, T);
}

/**
 * `guidedX0` for up to `g.blocks` transitions in ONE denoiser call: block k holds
 * `model(inputScale_k x_k)` (its own timestep), guided into `x0hats[k]`.
 */
export function guidedX0s(
  den: Denoiser,
  g: GuidedBatch,
  x0hats: readonly Tensor[], // (B, T, F) each
  xs: readonly Tensor[], // (B, T, F) each
  steps: readonly SamplingStep[],
  guidance: number,
  B: number,
  T: number,
): void {
  const be = den.backend, n = B * T * den.nfeats, K = steps.length, B2 = g.B2;
  if (K < 1 || K > g.blocks || xs.length !== K || x0hats.length !== K) {
    throw new RangeError(
      `Cannot run ${K} guided transitions on a batch of ${g.blocks} blocks ` +
        `(${xs.length} inputs, ${x0hats.length} outputs)`,
    );
  }
  const timesteps = new Int32Array(K * B2);
  steps.forEach((step, k) => {
    // x0hat doubles as scratch for the scaled input (a buffer never copies onto itself on WebGPU).
    be.axpby(x0hats[k], xs[k], Math.fround(step.inputScale), xs[k], 0, n);
    be.copy(g.xIn, x0hats[k], n, k * B2 * T * den.nfeats, 0);
    if (B2 > B) be.copy(g.xIn, x0hats[k], n, k * B2 * T * den.nfeats + n, 0);
    timesteps.fill(step.modelT, k * B2, (k + 1) * B2);
  });
  den.predictX0(
    g.out,
    {
      x: g.xIn,
      timesteps,
      text: g.textIn,
      condMask: g.condMask.subarray(0, K * B2),
      frameMask: g.frameMask,
      lengths: g.lengthsIn.subarray(0, K * B2),
    },
    K * B2,
    T,
  );
  x0hats.forEach((x0hat, k) => {
    const at = k * B2 * T * den.nfeats; // block k of the output
    if (B2 > B) {
      // x0hat = s * cond + (1 - s) * uncond; the unconditional half is moved next to x0hat first.
      be.copy(x0hat, g.out, n, 0, at + n);
      let cond = g.out;
      if (k > 0) {
        cond = g.cond!;
        be.copy(cond, g.out, n, 0, at);
      }
      be.axpby(x0hat, cond, guidance, x0hat, 1 - guidance, n);
    } else {
      be.copy(x0hat, g.out, n, 0, at);
    }
  });
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
  let keptBytes = 0;
  // every step's activations are the same size: once one is over budget, so are the rest
  let keepMore = opts.record && opts.saveActivations !== undefined && !!den.detachActivations;
  opts.plan.steps.forEach((step, k) => {
    guidedX0(den, g, x0hat, x, step, opts.guidance, B, T);
    let saved: SavedForward | null = null;
    if (keepMore && step.std > 0) {
      const activations = den.detachActivations!();
      if (keptBytes + activations.bytes <= opts.saveActivations!.maxBytes) {
        keptBytes += activations.bytes;
        saved = { activations, x0hat: be.tensor([B, T, F]) };
        be.copy(saved.x0hat, x0hat, n);
      } else {
        den.attachActivations!(activations); // over budget: the model keeps its buffers
        keepMore = false;
      }
    }
    stepMean(be, mean, x0hat, x, step, n);
    if (step.std > 0) {
      be.randn(noise, n, { seed: opts.seed, stream: opts.stream, offset: (k + 1) * n });
    }
    const next = be.tensor([B, T, F]);
    sampleFromMean(be, next, mean, noise, step, n);
    if (opts.record && step.std > 0) {
      const sqDist = be.tensor([B]);
      be.rowSumSqDiff(sqDist, next, mean, w, B, T * F);
      steps.push({ step, index: k, x, sample: next, sqDist, saved });
    } else if (!steps.some((s) => s.sample === x)) {
      be.free(x); // not referenced by a recorded step
    }
    x = next;
  });
  freeGuidedBatch(be, g);
  for (const t of [w, x0hat, mean, noise]) be.free(t);
  const count = Float64Array.from(lengths, (len) => Math.min(len, T) * F);
  return { x0: x, den, steps, count };
}

/**
 * Releases every tensor a rollout holds (x of one step is x' of the previous: freed once) and
 * the kept forwards no trainer took.
 */
export function freeRollout(be: Backend, r: Rollout): void {
  const seen = new Set<Tensor>([r.x0]);
  for (const s of r.steps) {
    for (const t of [s.x, s.sample, s.sqDist]) seen.add(t);
    if (s.saved) {
      be.free(s.saved.x0hat);
      r.den.freeActivations?.(s.saved.activations);
      s.saved = null;
    }
  }
  for (const t of seen) be.free(t);
}

/** Host frame mask (B, T): 1 for frames < length. */
export function frameMaskHost(lengths: Int32Array, B: number, T: number): Float32Array {
  const m = new Float32Array(B * T);
  for (let b = 0; b < B; b++) m.fill(1, b * T, b * T + Math.min(lengths[b], T));
  return m;
}
