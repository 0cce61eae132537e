/**
 * Stand-ins for the GRPO tests: a tiny random MDM, a hashed bag-of-words text featurizer, a
 * fixed-random-projection text-motion encoder, and an in-memory prompt dataset.
 */
import type { Backend } from "../../kernels/backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import type { MdmConfig } from "../../models/mdm/config.ts";
import { MdmDenoiser, type MdmTraining } from "../../models/mdm/mdm.ts";
import { HashedBagOfWords } from "../../train/pretrain/hashed_bag_of_words.ts";
import type { TextFeaturizer, TextMotionEncoder } from "../../rewards/encoder.ts";
import type { PromptDataset } from "../../train/grpo/prompts.ts";

export const TINY_T = 24;

/** latent 32, 1 layer, F 263 (so the physics reward applies), text 16. */
export const TINY_CONFIG: MdmConfig = {
  nfeats: 263,
  latentDim: 32,
  layers: 1,
  ffSize: 64,
  heads: 2,
  textDim: 16,
  maskFrames: true,
};

export function tinyModel(
  be: Backend,
  training: MdmTraining,
  seed = 1,
  lora = false,
): MdmDenoiser {
  return MdmDenoiser.random(be, TINY_CONFIG, seed, {
    training,
    lora: lora ? { rank: 2, alpha: 4, seed: 3 } : null,
    maxBatch: 16,
    maxFrames: TINY_T,
  });
}

/** Hashed bag-of-words featurizer with the async interface. */
export function testFeaturizer(dim = TINY_CONFIG.textDim): TextFeaturizer {
  const h = new HashedBagOfWords(dim, 5);
  return { name: h.name, dim, encode: (texts) => Promise.resolve(h.encode([...texts])) };
}

/** Texts: hashed bag of words (D); motions: mean valid frame times a fixed random (F, D). */
export function testEncoder(F = TINY_CONFIG.nfeats, D = 8): TextMotionEncoder {
  const h = new HashedBagOfWords(D, 9);
  const rng = new Rng(11, 0);
  const proj = Float32Array.from({ length: F * D }, () => rng.normal() / Math.sqrt(F));
  return {
    name: "test-encoder",
    dim: D,
    encodeTexts: (texts) => Promise.resolve(h.encode([...texts])),
    encodeMotions: (feat, lengths, N, T) => {
      const out = new Float32Array(N * D);
      for (let n = 0; n < N; n++) {
        const L = Math.max(1, Math.min(T, lengths[n]));
        for (let t = 0; t < L; t++) {
          for (let f = 0; f < F; f++) {
            const v = feat[(n * T + t) * F + f] / L;
            for (let d = 0; d < D; d++) out[n * D + d] += v * proj[f * D + d];
          }
        }
      }
      return Promise.resolve(out);
    },
  };
}

const CAPTIONS = [
  "a person walks forward",
  "someone jumps in place",
  "a man turns around slowly",
  "the person sits down",
  "a figure waves the right hand",
  "someone runs in a circle",
];

/** In-memory dataset: items of 12-24 frames, batches in a fixed rotation. */
export class FakeDataset implements PromptDataset {
  readonly items = CAPTIONS.map((caption, i) => ({
    length: 12 + 2 * i,
    captions: [{ caption }, { caption: caption + " quickly" }],
  }));
  readonly mean = Float32Array.from({ length: TINY_CONFIG.nfeats }, (_, i) => 0.01 * (i % 7));
  readonly std = Float32Array.from({ length: TINY_CONFIG.nfeats }, (_, i) => 0.5 + 0.01 * (i % 5));
  #cursor = 0;

  nextBatch(B: number): { captions: string[]; lengths: Int32Array } {
    const captions: string[] = [];
    const lengths = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const item = this.items[this.#cursor++ % this.items.length];
      captions.push(item.captions[0].caption);
      lengths[b] = item.length;
    }
    return { captions, lengths };
  }

  state(): { cursor: number } {
    return { cursor: this.#cursor };
  }

  restore(s: { cursor: number }): void {
    this.#cursor = s.cursor;
  }
}
