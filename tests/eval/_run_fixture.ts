/**
 * Fixtures of the protocol-runner tests: a tiny mini dataset, a tiny random MDM, and stand-in
 * encoders (deterministic, cheap, and sensitive to both the text and the motion).
 */
import { makeMiniDataset } from "../../datasets/mini/make_mini_dataset.ts";
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import type { Backend } from "../../kernels/backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";
import type { MdmConfig } from "../../models/mdm/config.ts";
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import type { Featurizer } from "../../eval/run/generate.ts";
import type { EvalProtocol } from "../../eval/protocol.ts";

/** Width of the stand-in embeddings and text features. */
export const DIM = 8;

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** Sum of per-word Philox vectors: the same text always gives the same row. */
function bagOfWords(texts: readonly string[], dim: number): Float32Array {
  const out = new Float32Array(texts.length * dim); // (N, dim)
  texts.forEach((t, n) => {
    for (const w of t.toLowerCase().split(/\W+/).filter((x) => x !== "")) {
      const rng = new Rng(hash(w), 7);
      for (let k = 0; k < dim; k++) out[n * dim + k] += rng.normal();
    }
  });
  return out;
}

/** Stand-in conditioning features. */
export const standInFeaturizer: Featurizer = {
  name: "stand-in-bow",
  dim: DIM,
  encode: (texts) => bagOfWords(texts, DIM),
};

/**
 * Stand-in evaluator: texts as a bag of words; a motion as the mean over its valid frames of the
 * root channels 0..3 and four ric coordinates (so padding is ignored and motions differ).
 */
export const standInEvaluator: TextMotionEncoder = {
  name: "stand-in-evaluator",
  dim: DIM,
  encodeTexts: (texts) => Promise.resolve(bagOfWords(texts, DIM)),
  encodeMotions: (features, lengths, N, T) => {
    const F = features.length / (N * T);
    const out = new Float32Array(N * DIM); // (N, DIM)
    for (let n = 0; n < N; n++) {
      const L = lengths[n];
      for (let t = 0; t < L; t++) {
        for (let k = 0; k < DIM; k++) out[n * DIM + k] += features[(n * T + t) * F + k] / L;
      }
    }
    return Promise.resolve(out);
  },
};

/** A tiny MDM on the CPU backend (263 features, 8-dim text). */
export function tinyMdm(be: Backend = createCpuBackend(), seed = 3): MdmDenoiser {
  const config: MdmConfig = {
    nfeats: 263,
    latentDim: 16,
    layers: 1,
    ffSize: 32,
    heads: 2,
    textDim: DIM,
    maskFrames: true,
  };
  return MdmDenoiser.random(be, config, seed, { maxBatch: 8, maxFrames: 196 });
}

/** The debug protocol shrunk to batches of 4 (a 20-clip dataset has 6 test items). */
export const TINY_DEBUG: EvalProtocol = {
  replications: 5,
  numSamplesLimit: 8,
  batchSize: 4,
  diversityTimes: 5,
  runMultimodality: false,
  mmNumSamples: 0,
  mmNumRepeats: 0,
  mmNumTimes: 0,
};

/** Writes a 20-clip mini dataset into `dir` (once per directory). */
export async function miniData(dir: string): Promise<string> {
  await makeMiniDataset({ numClips: 20, outputDir: dir, seed: 1 });
  return dir;
}

/** The test split of the mini dataset in `dir`, seeded. */
export function testSplit(dir: string, seed = 5): Promise<HumanMLDataset> {
  return HumanMLDataset.load({ dataset: "humanml", dataRoot: dir, split: "test", seed });
}
