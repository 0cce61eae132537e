/**
 * Contrastive training of a mini text–motion encoder pair (TMR architecture): each step draws a
 * batch of (caption, motion) pairs from the train clips (a random caption per clip, the public
 * loader's random crop, cut to `maxFrames`), encodes the captions' word features and the
 * motions, and minimises TMR's symmetric InfoNCE between the two mu batches, with the other
 * pairs of identical caption filtered out as negatives. AdamW with linear warm-up and cosine
 * decay updates both encoders.
 *
 * Deterministic: the initial weights come from `Rng(seed, INIT_STREAM)`, the epoch order from
 * `Rng(seed, SHUFFLE_STREAM + epoch)` and the caption/crop draws from `Rng(seed, DRAW_STREAM)`;
 * the cpu backend computes in a fixed order, so the same seed gives bit-identical weights on the
 * same machine.
 * @module
 */
import type { Backend } from "../../kernels/backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { cropWindow } from "../../datasets/humanml/crop.ts";
import { AdamW } from "../../train/adamw.ts";
import type { StateDict } from "../checkpoint/state_dict.ts";
import { tmrInfoNce } from "../tmr/contrastive.ts";
import { TmrEncoder } from "../tmr/encoder.ts";
import { initTmrStateDict } from "./_init.ts";
import { loadMiniTrainData, type MiniClip, type MiniTrainData } from "./_data.ts";
import {
  type MiniArchitecture,
  miniMotionConfig,
  miniTextConfig,
  type MiniTrainSettings,
} from "./config.ts";
import { WordFeaturizer } from "./word_featurizer.ts";

const INIT_STREAM = 0x494e; // "IN"
const DRAW_STREAM = 0x4452; // "DR"
const SHUFFLE_STREAM = 0x53480000; // "SH" << 16, plus the epoch

/** Options of {@linkcode trainMiniPair}. */
export interface TrainMiniPairOptions {
  /** The mini dataset folder (HumanML3D layout with `manifest.json`). */
  dataDir: string;
  architecture: MiniArchitecture;
  settings: MiniTrainSettings;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Steps between progress lines (default 50). */
  logEvery?: number;
  /** Already loaded training data (skips loading; must match `dataDir` and the settings). */
  data?: MiniTrainData;
}

/** The trained pair and its record. */
export interface TrainedMiniPair {
  text: StateDict;
  motion: StateDict;
  mean: Float32Array; // (F)
  std: Float32Array; // (F)
  /** Loss of every step. */
  losses: number[];
  /** The dataset's `manifest.json` key. */
  dataKey: string;
  wallSeconds: number;
}

/** The learning rate of step `s` (0-based): linear warm-up, then cosine decay. */
export function miniLearningRate(s: number, t: MiniTrainSettings): number {
  if (s < t.warmupSteps) return (t.lr * (s + 1)) / t.warmupSteps;
  const span = Math.max(1, t.steps - t.warmupSteps);
  const p = Math.min(1, (s - t.warmupSteps) / span);
  return t.lr * (t.minLrRatio + (1 - t.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** Trains one encoder pair on the cpu-or-gpu backend `be`; see the module doc. */
export async function trainMiniPair(
  be: Backend,
  opts: TrainMiniPairOptions,
): Promise<TrainedMiniPair> {
  const t0 = performance.now();
  const arch = opts.architecture, s = opts.settings;
  for (const [k, v] of Object.entries({ steps: s.steps, batch: s.batch, maxFrames: s.maxFrames })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Cannot train mini encoders: ${k} must be a positive integer, got ${v}`);
    }
  }
  const data = opts.data ?? await loadMiniTrainData(opts.dataDir, s.subset, s.stdFloor);
  if (data.F !== arch.motionFeats) {
    throw new RangeError(
      `Cannot train mini encoders on "${opts.dataDir}": motions have ${data.F} features, ` +
        `the architecture expects ${arch.motionFeats}`,
    );
  }
  const B = Math.min(s.batch, data.clips.length), F = data.F, C = arch.latentDim;
  const maxT = Math.min(s.maxFrames, Math.max(...data.clips.map((c) => c.length)));
  const initRng = new Rng(s.seed, INIT_STREAM);
  const textCfg = miniTextConfig(arch), motionCfg = miniMotionConfig(arch);
  const textSd = initTmrStateDict(textCfg, initRng);
  const motionSd = initTmrStateDict(motionCfg, initRng);
  const text = TmrEncoder.fromStateDict(be, textSd, textCfg, {
    maxBatch: B,
    maxFrames: arch.maxWords,
    training: true,
  });
  const motion = TmrEncoder.fromStateDict(be, motionSd, motionCfg, {
    maxBatch: B,
    maxFrames: maxT,
    training: true,
  });
  const named = [
    ...text.trainable().map((p) => ({ ...p, name: `text.${p.name}` })),
    ...motion.trainable().map((p) => ({ ...p, name: `motion.${p.name}` })),
  ];
  const opt = new AdamW(be, named, { lr: s.lr, weightDecay: s.weightDecay });
  const words = new WordFeaturizer(arch.wordDim, arch.maxWords);
  const xText = be.tensor([B * arch.maxWords * arch.wordDim]); // (B, L, Dw)
  const xMotion = be.tensor([B * maxT * F]); // (B, T, F)
  const dmuText = be.tensor([B * C]); // (B, C)
  const dmuMotion = be.tensor([B * C]); // (B, C)
  const draw = new Rng(s.seed, DRAW_STREAM);
  const sampler = new EpochSampler(data.clips.length, s.seed);
  const losses: number[] = [];
  const logEvery = opts.logEvery ?? 50;
  try {
    for (let step = 0; step < s.steps; step++) {
      const batch = drawBatch(data.clips, sampler.next(B), draw, F, maxT);
      const wf = words.featurize(batch.captions);
      be.write(xText, wf.x);
      be.write(xMotion, batch.x);
      text.zeroGrad();
      motion.zeroGrad();
      const tMu = (await be.read(text.forward(xText, wf.lengths, B, wf.L).mu)).slice(0, B * C);
      const mMu = (await be.read(motion.forward(xMotion, batch.lengths, B, batch.T).mu))
        .slice(0, B * C);
      const r = tmrInfoNce(tMu, mMu, B, C, {
        temperature: s.temperature,
        threshold: s.threshold,
        sentEmb: s.threshold ? batch.groups : null,
        sentDim: B,
      });
      if (!Number.isFinite(r.loss)) {
        throw new RangeError(`Cannot train mini encoders: the loss is ${r.loss} at step ${step}`);
      }
      losses.push(r.loss);
      be.write(dmuText, Float32Array.from(r.dx));
      be.write(dmuMotion, Float32Array.from(r.dy));
      text.backward(dmuText);
      motion.backward(dmuMotion);
      opt.step(miniLearningRate(step, s));
      if (opts.log && ((step + 1) % logEvery === 0 || step + 1 === s.steps)) {
        const recent = losses.slice(-logEvery);
        const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
        const sec = (performance.now() - t0) / 1000;
        opts.log(`step ${step + 1}/${s.steps} loss ${mean.toFixed(4)} (${sec.toFixed(1)} s)`);
      }
    }
    return {
      text: await text.toStateDict(),
      motion: await motion.toStateDict(),
      mean: data.mean,
      std: data.std,
      losses,
      dataKey: data.key,
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    for (const t of [xText, xMotion, dmuText, dmuMotion]) be.free(t);
    text.destroy();
    motion.destroy();
  }
}

/** Shuffled passes over n indices without replacement; a pass reshuffles when it runs out. */
class EpochSampler {
  #epoch = 0;
  #cursor = 0;
  #order: number[];
  constructor(readonly n: number, readonly seed: number) {
    this.#order = this.#shuffle();
  }
  next(B: number): number[] {
    if (this.#cursor + B > this.n) {
      this.#epoch++;
      this.#cursor = 0;
      this.#order = this.#shuffle();
    }
    const out = this.#order.slice(this.#cursor, this.#cursor + B);
    this.#cursor += B;
    return out;
  }
  #shuffle(): number[] {
    const order = Array.from({ length: this.n }, (_, i) => i);
    return new Rng(this.seed, (SHUFFLE_STREAM + this.#epoch) >>> 0).shuffle(order);
  }
}

interface DrawnBatch {
  x: Float32Array; // (B, T, F) normalised, zero after each length
  lengths: Int32Array; // (B)
  T: number;
  captions: string[];
  /** (B, B) one-hot caption identity: rows of identical captions are equal. */
  groups: Float32Array;
}

/** A random caption and crop per picked clip, crops longer than maxT cut to a random window. */
function drawBatch(
  clips: readonly MiniClip[],
  picks: readonly number[],
  rng: Rng,
  F: number,
  maxT: number,
): DrawnBatch {
  const B = picks.length;
  const crops = picks.map((i) => {
    const c = clips[i];
    const caption = rng.pick(c.captions);
    let { start, length } = cropWindow(c.length, rng);
    if (length > maxT) {
      start += rng.int(length - maxT + 1);
      length = maxT;
    }
    return { clip: c, caption, start, length };
  });
  const T = Math.max(...crops.map((c) => c.length));
  const x = new Float32Array(B * T * F); // (B, T, F)
  const lengths = new Int32Array(B); // (B)
  const groups = new Float32Array(B * B); // (B, B)
  const groupOf = new Map<string, number>();
  crops.forEach((c, b) => {
    x.set(c.clip.motion.subarray(c.start * F, (c.start + c.length) * F), b * T * F);
    lengths[b] = c.length;
    if (!groupOf.has(c.caption)) groupOf.set(c.caption, groupOf.size);
    groups[b * B + groupOf.get(c.caption)!] = 1;
  });
  return { x, lengths, T, captions: crops.map((c) => c.caption), groups };
}
