/**
 * Text → motion generation for evaluation and sampling: text features from the featurizer, one
 * guided rollout of the sampler, the result read back and un-normalised with the dataset's
 * Mean/Std (the denoiser works on normalised features; encoders and files take raw ones).
 * @module
 */
import type { Backend } from "../../kernels/backend.ts";
import type { Denoiser } from "../../diffusion/denoiser.ts";
import type { SamplingPlan } from "../../diffusion/plan.ts";
import { freeRollout, rollout } from "../../diffusion/sampler.ts";

/**
 * Maps captions to the denoiser's text features `(N, D)`. Both the asynchronous interface of
 * `rewards/encoder.ts` (ONNX encoders) and synchronous featurizers fit.
 */
export interface Featurizer {
  readonly name: string;
  readonly dim: number;
  encode(texts: string[]): Float32Array | Promise<Float32Array>;
}

/** What {@linkcode generateMotions} needs besides the texts. */
export interface GenerateOptions {
  plan: SamplingPlan;
  /** Classifier-free guidance scale s (1 = conditional only). */
  guidance: number;
  /** Philox seed (u32) and stream of the rollout's noise. */
  seed: number;
  stream: number;
  /** Dataset statistics (F) to undo `(x - Mean) / Std`. */
  mean: Float32Array;
  std: Float32Array;
}

/**
 * Generates one motion per text.
 *
 * @param model the denoiser (on its backend).
 * @param featurizer the text features the model was trained with.
 * @param texts B captions.
 * @param lengths (B) valid frames per motion (<= T).
 * @param T frames of the generated tensor (MDM generates the padded length, 196).
 * @returns raw features (B, T, F); frames at or after a motion's length are zero.
 */
export async function generateMotions(
  model: Denoiser,
  featurizer: Featurizer,
  texts: readonly string[],
  lengths: Int32Array, // (B)
  T: number,
  opts: GenerateOptions,
): Promise<Float32Array> {
  const B = texts.length, F = model.nfeats, D = model.textDim;
  if (lengths.length !== B) {
    throw new RangeError(`Cannot generate motions: ${B} texts but ${lengths.length} lengths`);
  }
  for (const len of lengths) {
    if (!Number.isInteger(len) || len < 1 || len > T) {
      throw new RangeError(`Cannot generate motions: length ${len} is not in [1, ${T}]`);
    }
  }
  if (featurizer.dim !== D) {
    throw new RangeError(
      `Cannot generate motions: text featurizer "${featurizer.name}" gives ${featurizer.dim} ` +
        `features, the model expects ${D}`,
    );
  }
  if (opts.mean.length !== F || opts.std.length !== F) {
    throw new RangeError(
      `Cannot generate motions: dataset statistics have ${opts.mean.length} features, ` +
        `the model ${F}`,
    );
  }
  const feats = await featurizer.encode([...texts]); // (B, D)
  if (feats.length !== B * D) {
    throw new RangeError(
      `Cannot generate motions: text featurizer "${featurizer.name}" returned ${feats.length} ` +
        `values for ${B} texts of ${D}`,
    );
  }
  const be: Backend = model.backend;
  const text = be.tensor([B, D], feats); // (B, D)
  const r = rollout(model, text, lengths, B, T, {
    plan: opts.plan,
    guidance: opts.guidance,
    seed: opts.seed,
    stream: opts.stream,
    record: false,
  });
  const x0 = await be.read(r.x0); // (B, T, F) normalised
  freeRollout(be, r);
  be.free(text);
  const out = new Float32Array(B * T * F); // (B, T, F) raw
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b]; t++) {
      const o = (b * T + t) * F;
      for (let f = 0; f < F; f++) out[o + f] = x0[o + f] * opts.std[f] + opts.mean[f];
    }
  }
  return out;
}
