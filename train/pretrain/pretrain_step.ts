/**
 * One MDM pretraining step on the engine (MDM `GaussianDiffusion.training_losses` with
 * `predict_xstart`, then the optimiser):
 *
 *   batch (B, 196, F) normalised, lengths → crop to T = max length (padding is masked anyway)
 *   t_b ~ U{0..T_diff-1}                       Rng(seed, T_STREAM)
 *   eps ~ N(0, I) (B, T, F)                     be.randn at (seed, NOISE_STREAM_BASE + step, 0)
 *   x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps      per-sample coefficients (scaleRows)
 *   condMask_b = 0 with probability condMaskProb     Rng(seed, COND_STREAM)
 *   x0hat = model(x_t, t, text, condMask)
 *   loss = masked MSE(x0hat, x0) (loss.ts), backward, clip the gradient norm, AdamW, EMA.
 *
 * Cropping is exact for models with `maskFrames` (padded keys get attention weight 0 and
 * padded outputs are outside the loss); without it MDM attends the zero padding up to 196 frames,
 * so the batch is kept at its full padded length instead.
 *
 * Every random draw is addressed by (seed, step) or by a saved stream position, so a run resumed
 * from a checkpoint continues bit for bit.
 *
 * No dropout: the engine's MDM has none (MDM pretrains with dropout 0.1), see models/mdm/mdm.ts.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import type { MdmDenoiser } from "../../models/mdm/mdm.ts";
import type { DiffusionTables } from "../../diffusion/schedule.ts";
import type { Batch } from "../../datasets/humanml/batch.ts";
import { AdamW } from "../adamw.ts";
import { GradClipper } from "./clip_grad_norm.ts";
import { WeightEma } from "./ema.ts";
import {
  allocMaskedMseScratch,
  frameLossWeights,
  type LossReduction,
  maskedMse,
  type MaskedMseScratch,
} from "./loss.ts";
import type { TextFeaturizer } from "./text_featurizer.ts";

/** Stream of the diffusion-step draws. */
export const T_STREAM = 0x54445354; // "TDST"
/** Stream of the condition-drop draws. */
export const COND_STREAM = 0x434d534b; // "CMSK"
/** Noise of step s is stream `NOISE_STREAM_BASE + s` (offset 0): one stream per step. */
export const NOISE_STREAM_BASE = 0x80000000;
/** Stream of the evaluation draws (diffusion steps) of `evalLoss`. */
export const EVAL_STREAM = 0x4556414c; // "EVAL"
/** Noise stream of `evalLoss` (below every training noise stream). */
export const EVAL_NOISE_STREAM = 0x4556414e; // "EVAN"

/** Hyper-parameters of a step. */
export interface PretrainStepOptions {
  /** Probability of dropping the text condition (MDM default 0.1). */
  condMaskProb: number;
  lr: number;
  /** AdamW weight decay (MDM trains with 0). */
  weightDecay: number;
  /** Global gradient-norm limit; 0 disables clipping (MDM does not clip). */
  gradClip: number;
  /** EMA decay of the weights, or null for no EMA. */
  emaDecay: number | null;
  /** Seed of the t, condition-drop and noise draws (u32). */
  seed: number;
  lossReduction: LossReduction;
  /** Largest batch (buffers are allocated once). */
  maxBatch: number;
  /** Padded length of loader batches (HumanML3D: 196). */
  maxFrames: number;
}

/** What a step reports. */
export interface StepResult {
  loss: number;
  /** Gradient norm before clipping. */
  gradNorm: number;
  /** Frames the batch was cropped to. */
  T: number;
}

/** Saved positions of the host random streams. */
export interface StepperRngState {
  t: number;
  cond: number;
}

/** The training step with its optimiser, EMA and buffers. */
export class PretrainStepper {
  readonly backend: Backend;
  readonly model: MdmDenoiser;
  readonly tables: DiffusionTables;
  readonly featurizer: TextFeaturizer;
  readonly opts: PretrainStepOptions;
  readonly opt: AdamW;
  readonly ema: WeightEma | null;
  readonly #clipper: GradClipper;
  readonly #scratch: MaskedMseScratch;
  #tRng: Rng;
  #condRng: Rng;
  readonly #x0: Tensor; // (maxB, maxT, F) clean motion
  readonly #xt: Tensor; // (maxB, maxT, F) noisy motion
  readonly #eps: Tensor; // (maxB, maxT, F) noise
  readonly #tmp: Tensor; // (maxB, maxT, F) scaled noise
  readonly #dout: Tensor; // (maxB, maxT, F) dloss/dx0hat
  readonly #text: Tensor; // (maxB, D)
  readonly #frameMask: Tensor; // (maxB, maxT)
  readonly #coefA: Tensor; // (maxB) sqrt(abar_t)
  readonly #coefB: Tensor; // (maxB) sqrt(1 - abar_t)

  constructor(
    model: MdmDenoiser,
    tables: DiffusionTables,
    featurizer: TextFeaturizer,
    opts: PretrainStepOptions,
  ) {
    if (model.training !== "full") {
      throw new TypeError('Cannot pretrain MDM: the model must be created with training "full"');
    }
    if (featurizer.dim !== model.textDim) {
      throw new RangeError(
        `Cannot pretrain MDM: text featurizer "${featurizer.name}" has dim ${featurizer.dim}, ` +
          `the model expects ${model.textDim}`,
      );
    }
    const be = model.backend;
    this.backend = be;
    this.model = model;
    this.tables = tables;
    this.featurizer = featurizer;
    this.opts = { ...opts };
    const params = model.trainable();
    this.opt = new AdamW(be, params, { lr: opts.lr, weightDecay: opts.weightDecay });
    this.ema = opts.emaDecay === null ? null : new WeightEma(be, params, opts.emaDecay);
    this.#clipper = new GradClipper(be, params);
    const B = opts.maxBatch, T = opts.maxFrames, F = model.nfeats;
    this.#scratch = allocMaskedMseScratch(be, B, T);
    this.#tRng = new Rng(opts.seed, T_STREAM);
    this.#condRng = new Rng(opts.seed, COND_STREAM);
    this.#x0 = be.tensor([B, T, F]);
    this.#xt = be.tensor([B, T, F]);
    this.#eps = be.tensor([B, T, F]);
    this.#tmp = be.tensor([B, T, F]);
    this.#dout = be.tensor([B, T, F]);
    this.#text = be.tensor([B, model.textDim]);
    this.#frameMask = be.tensor([B, T]);
    this.#coefA = be.tensor([B]);
    this.#coefB = be.tensor([B]);
  }

  /** Number of steps taken (the optimiser's count). */
  get stepCount(): number {
    return this.opt.stepCount;
  }

  /** Positions of the host random streams (for checkpoints). */
  rngState(): StepperRngState {
    return { t: this.#tRng.position, cond: this.#condRng.position };
  }

  /** Restores positions saved by {@linkcode rngState}. */
  restoreRng(s: StepperRngState): void {
    this.#tRng = new Rng(this.opts.seed, T_STREAM);
    this.#tRng.position = s.t;
    this.#condRng = new Rng(this.opts.seed, COND_STREAM);
    this.#condRng.position = s.cond;
  }

  /** One optimiser step on `batch` (motions (B, Tpad, F) normalised, zero-padded). */
  async step(batch: Batch): Promise<StepResult> {
    const o = this.opts, B = batch.shape[0];
    const timesteps = new Int32Array(B), condMask = new Float32Array(B);
    for (let b = 0; b < B; b++) timesteps[b] = this.#tRng.int(this.tables.numSteps);
    for (let b = 0; b < B; b++) condMask[b] = this.#condRng.uniform() < o.condMaskProb ? 0 : 1;
    const stepIndex = this.opt.stepCount;
    const stream = (NOISE_STREAM_BASE + stepIndex) >>> 0;
    const { T, x0hat, lengths } = this.#forward(batch, timesteps, condMask, stream);
    const F = this.model.nfeats;
    const w = frameLossWeights(lengths, B, T, F, o.lossReduction);
    const loss = await maskedMse(
      this.backend,
      this.#dout,
      x0hat,
      this.#x0,
      w,
      this.#scratch,
      B,
      T,
      F,
    );
    if (!Number.isFinite(loss)) {
      throw new RangeError(`Cannot continue pretraining: loss is ${loss} at step ${stepIndex + 1}`);
    }
    this.model.backward(this.#dout);
    const gradNorm = await this.#clipper.clip(this.opt.params, o.gradClip);
    this.opt.step(o.lr);
    this.ema?.update();
    return { loss, gradNorm, T };
  }

  /**
   * The loss on `batch` without training and without touching the training streams: diffusion
   * steps and noise drawn from `(seed, EVAL_STREAM)`, every sample conditional. The same
   * (batch, seed) gives the same draws, so two calls compare models on identical inputs.
   */
  async evalLoss(batch: Batch, seed: number): Promise<number> {
    const B = batch.shape[0], F = this.model.nfeats;
    const rng = new Rng(seed, EVAL_STREAM);
    const timesteps = Int32Array.from({ length: B }, () => rng.int(this.tables.numSteps));
    const condMask = new Float32Array(B).fill(1);
    const { T, x0hat, lengths } = this.#forward(batch, timesteps, condMask, EVAL_NOISE_STREAM);
    const w = frameLossWeights(lengths, B, T, F, this.opts.lossReduction);
    return await maskedMse(this.backend, null, x0hat, this.#x0, w, this.#scratch, B, T, F);
  }

  /** Crops the batch, noises it at `timesteps` with noise from `noiseStream`, runs the model. */
  #forward(
    batch: Batch,
    timesteps: Int32Array, // (B)
    condMask: Float32Array, // (B)
    noiseStream: number,
  ): { T: number; x0hat: Tensor; lengths: Int32Array } {
    const be = this.backend, o = this.opts, F = this.model.nfeats, D = this.model.textDim;
    const [B, Tpad, Fb] = batch.shape;
    if (Fb !== F) {
      throw new RangeError(`Cannot train on the batch: it has ${Fb} features, the model ${F}`);
    }
    if (B > o.maxBatch || Tpad > o.maxFrames) {
      throw new RangeError(
        `Cannot train on the batch: shape (${B}, ${Tpad}) exceeds (${o.maxBatch}, ${o.maxFrames})`,
      );
    }
    let T = Tpad;
    if (this.model.config.maskFrames) {
      T = 1;
      for (let b = 0; b < B; b++) T = Math.max(T, Math.min(batch.lengths[b], Tpad));
    }
    const n = B * T * F;

    // Clean motion and frame mask, cropped to T   (B, T, F), (B, T)
    const x0 = new Float32Array(n);
    const mask = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      x0.set(batch.motions.subarray(b * Tpad * F, (b * Tpad + T) * F), b * T * F);
      mask.set(batch.masks.subarray(b * Tpad, b * Tpad + T), b * T);
    }
    be.write(this.#x0, x0);
    be.write(this.#frameMask, mask);
    be.write(this.#text, this.featurizer.encode(batch.captions).subarray(0, B * D)); // (B, D)

    // x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, per-sample coefficients   (B, T*F)
    const a = new Float32Array(B), s = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      a[b] = this.tables.sqrtAlphasCumprod[timesteps[b]];
      s[b] = this.tables.sqrtOneMinusAlphasCumprod[timesteps[b]];
    }
    be.randn(this.#eps, n, { seed: o.seed, stream: noiseStream, offset: 0 });
    be.write(this.#coefA, a);
    be.write(this.#coefB, s);
    be.scaleRows(this.#xt, this.#x0, this.#coefA, B, T * F);
    be.scaleRows(this.#tmp, this.#eps, this.#coefB, B, T * F);
    be.axpby(this.#xt, this.#xt, 1, this.#tmp, 1, n);

    const lengths = Int32Array.from(batch.lengths.subarray(0, B), (l) => Math.min(l, T));
    this.model.zeroGrad();
    const x0hat = this.model.forward(
      { x: this.#xt, timesteps, text: this.#text, condMask, frameMask: this.#frameMask, lengths },
      B,
      T,
    );
    return { T, x0hat, lengths };
  }

  /** Frees the step's buffers, optimiser and EMA (not the model). */
  free(): void {
    const be = this.backend;
    this.opt.free();
    this.ema?.free();
    this.#clipper.free();
    for (const t of [this.#scratch.frameSq, this.#scratch.gradScale]) be.free(t);
    const own = [this.#x0, this.#xt, this.#eps, this.#tmp, this.#dout, this.#text];
    for (const t of [...own, this.#frameMask, this.#coefA, this.#coefB]) be.free(t);
  }
}
