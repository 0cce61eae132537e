/**
 * Held-out reward: the training reward of the current policy on a FIXED set of prompts from the
 * test split, with FIXED rollout noise, so that successive evaluations differ only by the
 * weights. The training curve (`mean_reward`) mixes the policy's progress with the spread between
 * the random prompts of each step (in the mini profile that spread is larger than a few hundred
 * steps of progress); this curve does not, and paired differences between two evaluations are
 * the policy's change alone.
 *
 * - Prompts: `count` prompts drawn once from the test split (the sampler of the training run in
 *   the same mode: dataset captions, on-the-fly K-segment prompts, ...) with the run's seed on the
 *   stream `HELD_OUT_STREAM`; one sample per prompt (group 1).
 * - Rollouts: the training plan and guidance, noise stream `HELD_OUT_STREAM` (every evaluation
 *   of a run uses the same noise), in chunks of at most `maxBatch` prompts (the models' planned
 *   batch: CFG doubles it).
 * - Result: the mean total reward (NaN rewards left out and counted), its 95% interval over
 *   prompts, and the per-prompt rewards (for paired comparisons).
 * @module
 */
import type { Backend } from "../../kernels/backend.ts";
import type { MdmDenoiser } from "../../models/mdm/mdm.ts";
import type { SamplingPlan } from "../../diffusion/plan.ts";
import { freeRollout, rollout } from "../../diffusion/sampler.ts";
import { runOverlapped } from "../../diffusion/overlap.ts";
import type { TextFeaturizer } from "../../rewards/encoder.ts";
import { type PromptBatch, PromptSampler, type PromptSamplerOptions } from "./prompts.ts";
import type { RewardFn } from "./rewards.ts";
import { rolloutFrames } from "./grpo_step.ts";

/** Noise and prompt stream of the held-out evaluation (distinct from every training stream). */
export const HELD_OUT_STREAM = 0x48450000; // "HE"

/** The fixed prompts of a run's held-out evaluation, in chunks. */
export interface HeldOutSet {
  chunks: PromptBatch[];
  count: number;
  /** Text features of each chunk, (n, D), computed at the first evaluation (prompts are fixed). */
  features?: Float32Array[];
}

/** Draws `count` prompts (group 1) in chunks of at most `chunk`. */
export function drawHeldOut(
  options: PromptSamplerOptions,
  count: number,
  chunk: number,
): HeldOutSet {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot evaluate on ${count} held-out prompts: need >= 1`);
  }
  const sampler = new PromptSampler({ ...options, seed: (options.seed ^ HELD_OUT_STREAM) >>> 0 });
  const chunks: PromptBatch[] = [];
  for (let left = count; left > 0; left -= chunk) {
    chunks.push(sampler.next(Math.min(chunk, left), 1));
  }
  return { chunks, count };
}

/** Result of one held-out evaluation. */
export interface HeldOutReward {
  mean: number;
  /** Half-width of the 95% interval over prompts (1.96 std / sqrt(n)). */
  interval: number;
  /** (count) total reward per prompt, NaN where the reward was not finite. */
  perPrompt: Float64Array;
  nonFinite: number;
}

/** What an evaluation needs (the trainer's own objects). */
export interface HeldOutContext {
  be: Backend;
  policy: MdmDenoiser;
  featurizer: TextFeaturizer;
  reward: RewardFn;
  plan: SamplingPlan;
  guidance: number;
  seed: number;
  frames: "max" | number;
}

/** The policy's reward on the held-out set (see the module doc). */
export async function heldOutReward(ctx: HeldOutContext, set: HeldOutSet): Promise<HeldOutReward> {
  const { be, policy } = ctx;
  const perPrompt = new Float64Array(set.count);
  let at = 0;
  // Chunks overlapped (`runOverlapped`): chunk c + 1's rollout runs while the host scores chunk
  // c. The same calls in the same order: the same rewards.
  await runOverlapped(set.chunks, {
    queue: async (batch, c) => {
      const N = batch.texts.length, T = rolloutFrames(ctx.frames, batch.lengths);
      set.features ??= [];
      set.features[c] ??= await ctx.featurizer.encode(batch.texts);
      const text = be.tensor([N, policy.textDim], set.features[c]); // (N, D)
      // Each chunk has its own stream, so a chunk's noise does not depend on the chunk size.
      const r = rollout(policy, text, batch.lengths, N, T, {
        plan: ctx.plan,
        guidance: ctx.guidance,
        seed: ctx.seed,
        stream: (HELD_OUT_STREAM + 1 + c) >>> 0,
        record: false,
      });
      return {
        read: async () => {
          try {
            return await ctx.reward(r.x0, batch, T);
          } finally {
            freeRollout(be, r);
            be.free(text);
          }
        },
      };
    },
    finish: (batch, rewards) => {
      for (let i = 0; i < batch.texts.length; i++) perPrompt[at++] = rewards.total.total[i];
    },
  });
  return summarize(perPrompt);
}

/** Mean, 95% interval and non-finite count of per-prompt rewards. */
export function summarize(perPrompt: Float64Array): HeldOutReward {
  let n = 0, sum = 0, sq = 0;
  for (const v of perPrompt) {
    if (!Number.isFinite(v)) continue;
    n++;
    sum += v;
  }
  const mean = n > 0 ? sum / n : NaN;
  for (const v of perPrompt) if (Number.isFinite(v)) sq += (v - mean) ** 2;
  const std = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  return {
    mean,
    interval: n > 0 ? 1.96 * std / Math.sqrt(n) : NaN,
    perPrompt,
    nonFinite: perPrompt.length - n,
  };
}
