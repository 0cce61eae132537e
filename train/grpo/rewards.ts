/**
 * The reward of a GRPO step (MISSION.md "Rewards"): semantic reward from a frozen text-motion
 * encoder, optional physics reward, and the total `R = beta_s R_sem + beta_p R_phy`.
 *
 * The sampler's motions are normalised features; the encoder takes RAW features, so they are
 * de-normalised first (`raw = x * Std + Mean`, the dataset's statistics). The physics reward
 * takes the normalised features with Mean/Std itself.
 *
 * Semantic score s(text, motion) of the reward type:
 * - tmr `cosine`: `cos/2 + 0.5`; tmr `matching`: distance by `--tmr_similarity_type`, then
 *   `--tmr_normalization` (rewards/semantic.ts);
 * - mdm `matching`: `clip(1 - d/10, 0, 1)`; `r_precision`: rank of the true text among itself and
 *   the prompt's distractor captions (31 in the standard protocol); `combined`: their mean.
 *
 * Global mode: one score between the whole motion (its valid frames) and the prompt's text (the
 * sub-texts joined). Segment-dense mode: the motion is cut by `segmentRanges(durations, length)`,
 * every segment k is scored against every sub-text j, and `R_sem = denseReward(s, alpha)`.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { type TextMotionEncoder, withTextPrefetch } from "../../rewards/encoder.ts";
import { physicsReward } from "../../rewards/physics.ts";
import {
  denseReward,
  type MatchingOptions,
  mdmMatchingScore,
  mdmRPrecisionScore,
  segmentRanges,
  tmrScorer,
} from "../../rewards/semantic.ts";
import { type TotalReward, totalReward } from "../../rewards/total.ts";
import type { SkeletonSpec } from "../../datasets/motion/skeleton.ts";
import type { PromptBatch } from "./prompts.ts";

/** Reward settings (the flags of the same names). */
export interface RewardSettings {
  rewardModelType: "mdm" | "tmr";
  rewardType: string;
  matching: MatchingOptions;
  dense: boolean;
  alpha: number;
  physics: boolean;
  betaS: number;
  betaP: number;
  lambdaSkate: number;
  lambdaJerk: number;
  fps: number;
}

/** Rewards of the N samples of a step. */
export interface StepRewards {
  /** (N) R_sem. */
  sem: Float32Array;
  /** (N) R_phy, null when the physics reward is off. */
  phy: Float32Array | null;
  total: TotalReward;
}

/** Scores the N motions `x0` (normalised, (N, T, F)) of a step's prompts. */
export interface RewardFn {
  (x0: Tensor, batch: PromptBatch, T: number): Promise<StepRewards>;
  /**
   * Starts what does not need the motions: the text embeddings of a later step's `batch`, by the
   * same calls the reward will make; errors surface when the reward is computed.
   */
  prefetch?(batch: PromptBatch): void;
}

/**
 * The text lists the semantic reward of `batch` embeds, one per `encodeTexts` call and in its
 * order (a prefetch makes the same calls: an encoder may round a text differently in another
 * batch).
 */
export function rewardTextCalls(settings: RewardSettings, batch: PromptBatch): string[][] {
  const calls = [ownTexts(settings.dense, batch)], others = distractorTexts(batch);
  return others.length > 0 ? [...calls, others] : calls;
}

/** The prompts' texts (global reward) or their segments' texts (dense reward), in order. */
function ownTexts(dense: boolean, batch: PromptBatch): string[] {
  return dense ? batch.prompts.flatMap((p) => p.segmentTexts) : batch.prompts.map((p) => p.text);
}

/** Every prompt's distractor captions, in order. */
function distractorTexts(batch: PromptBatch): string[] {
  return batch.prompts.flatMap((p) => p.distractors);
}

type Scorer = (text: Float32Array, motion: Float32Array, others: Float32Array[]) => number;

/** The semantic score function of a reward type. */
export function semanticScorer(s: RewardSettings): Scorer {
  if (s.rewardModelType === "tmr") {
    const f = tmrScorer(s.rewardType as "cosine" | "matching", s.matching);
    return (t, m) => f(t, m);
  }
  switch (s.rewardType) {
    case "matching":
      return (t, m) => mdmMatchingScore(t, m);
    case "r_precision":
      return (t, m, o) => mdmRPrecisionScore(t, m, o);
    case "combined":
      return (t, m, o) => 0.5 * mdmMatchingScore(t, m) + 0.5 * mdmRPrecisionScore(t, m, o);
    default:
      throw new RangeError(`Cannot score rewards: unknown MDM --reward_type "${s.rewardType}"`);
  }
}

/**
 * The reward function of a run.
 *
 * @param mean dataset Mean (F)
 * @param std dataset Std (F)
 * @param spec skeleton of the features (needed with the physics reward)
 */
export function createRewardFn(
  be: Backend,
  encoder: TextMotionEncoder,
  settings: RewardSettings,
  mean: Float32Array, // (F)
  std: Float32Array, // (F)
  spec: SkeletonSpec | null,
): RewardFn {
  const F = mean.length;
  const score = semanticScorer(settings);
  const enc = withTextPrefetch(encoder); // a later step's text calls can run early
  const meanT = be.tensor([F], mean), stdT = be.tensor([F], std);
  if (settings.physics && spec === null) {
    throw new TypeError(`Cannot use --use_physics_reward: no skeleton has ${F} features`);
  }
  const reward = async (x0: Tensor, batch: PromptBatch, T: number): Promise<StepRewards> => {
    const N = batch.texts.length;
    const x = await be.read(x0); // (N, T, F) normalised
    const raw = new Float32Array(N * T * F); // (N, T, F)
    for (let r = 0; r < N * T; r++) {
      for (let f = 0; f < F; f++) raw[r * F + f] = x[r * F + f] * std[f] + mean[f];
    }
    const sem = settings.dense
      ? await denseSemantic(enc, score, settings.alpha, raw, batch, T, F)
      : await globalSemantic(enc, score, raw, batch, T);
    let phy: Float32Array | null = null;
    if (settings.physics) {
      const p = await physicsReward(be, x0, meanT, stdT, batch.lengths, spec!, {
        fps: settings.fps,
        lambdaSkate: settings.lambdaSkate,
        lambdaJerk: settings.lambdaJerk,
      });
      phy = p.reward;
    }
    const total = totalReward(sem, phy, {
      betaS: settings.betaS,
      betaP: settings.physics ? settings.betaP : 0,
    });
    return { sem, phy, total };
  };
  const prefetch = (batch: PromptBatch) => {
    for (const call of rewardTextCalls(settings, batch)) enc.prefetchTexts(call);
  };
  return Object.assign(reward, { prefetch });
}

/** Rows `[i*D, (i+1)*D)` of a row-major matrix. */
function rows(m: Float32Array, n: number, D: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => m.subarray(i * D, (i + 1) * D));
}

async function distractorEmbeddings(
  encoder: TextMotionEncoder,
  batch: PromptBatch,
): Promise<Float32Array[][]> {
  const all = distractorTexts(batch);
  if (all.length === 0) return batch.prompts.map(() => []);
  const emb = rows(await encoder.encodeTexts(all), all.length, encoder.dim);
  let at = 0;
  return batch.prompts.map((p) => {
    const out = emb.slice(at, at + p.distractors.length);
    at += p.distractors.length;
    return out;
  });
}

async function globalSemantic(
  encoder: TextMotionEncoder,
  score: Scorer,
  raw: Float32Array, // (N, T, F)
  batch: PromptBatch,
  T: number,
): Promise<Float32Array> {
  const N = batch.texts.length, G = batch.groupSize, D = encoder.dim;
  const textEmb = rows(
    await encoder.encodeTexts(ownTexts(false, batch)),
    batch.prompts.length,
    D,
  );
  const motionEmb = rows(await encoder.encodeMotions(raw, batch.lengths, N, T), N, D);
  const others = await distractorEmbeddings(encoder, batch);
  const sem = new Float32Array(N); // (N)
  for (let i = 0; i < N; i++) {
    const p = Math.floor(i / G);
    sem[i] = score(textEmb[p], motionEmb[i], others[p]);
  }
  return sem;
}

async function denseSemantic(
  encoder: TextMotionEncoder,
  score: Scorer,
  alpha: number,
  raw: Float32Array, // (N, T, F)
  batch: PromptBatch,
  T: number,
  F: number,
): Promise<Float32Array> {
  const N = batch.texts.length, G = batch.groupSize, D = encoder.dim;
  // Segments of every sample, cut by the prompt's durations rescaled to the sample's length.
  const segs: { sample: number; start: number; end: number }[] = [];
  const firstSeg = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const p = batch.prompts[Math.floor(i / G)];
    firstSeg[i] = segs.length;
    for (const [start, end] of segmentRanges(p.durations, batch.lengths[i])) {
      segs.push({ sample: i, start, end });
    }
  }
  const M = segs.length;
  const Ts = Math.max(...segs.map((s) => s.end - s.start));
  const segFeat = new Float32Array(M * Ts * F); // (M, Ts, F)
  const segLen = new Int32Array(M);
  segs.forEach((s, m) => {
    segLen[m] = s.end - s.start;
    segFeat.set(raw.subarray((s.sample * T + s.start) * F, (s.sample * T + s.end) * F), m * Ts * F);
  });
  const motionEmb = rows(await encoder.encodeMotions(segFeat, segLen, M, Ts), M, D);
  const subTexts = ownTexts(true, batch);
  const subEmb = rows(await encoder.encodeTexts(subTexts), subTexts.length, D);
  const firstText: number[] = [];
  let at = 0;
  for (const p of batch.prompts) {
    firstText.push(at);
    at += p.segmentTexts.length;
  }
  const others = await distractorEmbeddings(encoder, batch);
  const sem = new Float32Array(N); // (N)
  for (let i = 0; i < N; i++) {
    const pi = Math.floor(i / G), K = batch.prompts[pi].segmentTexts.length;
    const s: number[][] = [];
    for (let k = 0; k < K; k++) {
      const row: number[] = [];
      for (let j = 0; j < K; j++) {
        row.push(score(subEmb[firstText[pi] + j], motionEmb[firstSeg[i] + k], others[pi]));
      }
      s.push(row);
    }
    sem[i] = denseReward(s, alpha);
  }
  return sem;
}
