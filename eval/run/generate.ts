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
import type { QueuedJob } from "../../diffusion/overlap.ts";

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
  checkGeneration(model, texts.length, lengths, T, opts);
  const feats = await encodeFeatures(featurizer, texts, model.textDim); // (B, D)
  return await queueMotions(model, feats, lengths, T, opts).read();
}

/** The text features (B, D) of `texts`, checked: `dim` per text. */
export async function encodeFeatures(
  featurizer: Featurizer,
  texts: readonly string[],
  dim: number,
): Promise<Float32Array> {
  if (featurizer.dim !== dim) {
    throw new RangeError(
      `Cannot generate motions: text featurizer "${featurizer.name}" gives ${featurizer.dim} ` +
        `features, the model expects ${dim}`,
    );
  }
  const feats = await featurizer.encode([...texts]); // (B, D)
  if (feats.length !== texts.length * dim) {
    throw new RangeError(
      `Cannot generate motions: text featurizer "${featurizer.name}" returned ${feats.length} ` +
        `values for ${texts.length} texts of ${dim}`,
    );
  }
  return feats;
}

/**
 * `generateMotions` from ready text features (B, D): queues the rollout and returns at once, so
 * that the host can work (embed other motions, compute the next texts' features) while a GPU
 * runs it (`runOverlapped`). `read()` gives the raw features (B, T, F), zero at and after each
 * length, and frees the rollout; on Deno its start waits for the GPU to finish the rollout.
 */
export function queueMotions(
  model: Denoiser,
  feats: Float32Array, // (B, D)
  lengths: Int32Array, // (B)
  T: number,
  opts: GenerateOptions,
): QueuedJob<Float32Array> {
  const B = lengths.length, F = model.nfeats, D = model.textDim;
  checkGeneration(model, B, lengths, T, opts);
  if (feats.length !== B * D) {
    throw new RangeError(
      `Cannot generate motions: ${feats.length} text feature values for ${B} texts of ${D}`,
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
  let reading: Promise<Float32Array> | null = null;
  const read = async () => {
    let x0: Float32Array; // (B, T, F) normalised
    try {
      x0 = await be.read(r.x0);
    } finally {
      freeRollout(be, r);
      be.free(text);
    }
    const out = new Float32Array(B * T * F); // (B, T, F) raw
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < lengths[b]; t++) {
        const o = (b * T + t) * F;
        for (let f = 0; f < F; f++) out[o + f] = x0[o + f] * opts.std[f] + opts.mean[f];
      }
    }
    return out;
  };
  return { read: () => reading ??= read() };
}

/** The checks every generation makes before it queues anything. */
function checkGeneration(
  model: Denoiser,
  B: number,
  lengths: Int32Array,
  T: number,
  opts: GenerateOptions,
): void {
  const F = model.nfeats;
  if (lengths.length !== B) {
    throw new RangeError(`Cannot generate motions: ${B} texts but ${lengths.length} lengths`);
  }
  for (const len of lengths) {
    if (!Number.isInteger(len) || len < 1 || len > T) {
      throw new RangeError(`Cannot generate motions: length ${len} is not in [1, ${T}]`);
    }
  }
  if (opts.mean.length !== F || opts.std.length !== F) {
    throw new RangeError(
      `Cannot generate motions: dataset statistics have ${opts.mean.length} features, ` +
        `the model ${F}`,
    );
  }
}
