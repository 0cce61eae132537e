/**
 * One GRPO / Flow-GRPO step on the engine (NUMERICS.md §2-§4):
 *
 * 1. Text features of the N = B*G prompts (TextFeaturizer) and a guided rollout of the policy
 *    with the step's plan (`ddpmPlan`: MDM's 50-step sampler; `flowPlan`: the Flow-GRPO SDE),
 *    recording every stochastic transition. Noise: seed `--seed`, stream `ROLLOUT_STREAM + step`.
 * 2. Rewards of the final motions (rewards.ts) and group-normalised advantages
 *    (`groupAdvantages`, group std; a NaN reward gets advantage 0 and stays out of the stats).
 * 3. Policy update over the trained transitions (`trainedSteps`: all stochastic steps unless
 *    `trainSteps` asks for a seeded random subset). For each trained transition x -> x':
 *      - reference x0 (LoRA: the same model with adapters off; else a frozen copy) -> mean_ref
 *        (every transition's first: they do not wait for the rewards);
 *      - policy x0 on the doubled CFG batch -> mean; logp = mean over valid elements of the
 *        Gaussian log-density of x' (`logProbFromSqDist`), logp_old the same from the rollout
 *        (the weights have not changed yet, so the ratio is exactly 1);
 *      - KL per sample = sum_valid (mean - mean_ref)^2 / (2 std^2 count) (Flow-GRPO's
 *        `mean((mean - mean_ref)^2) / (2 std^2)`);
 *      - the loss head (transition_head.ts: clipped surrogate + beta KL, on the device with
 *        WebGPU so nothing is read back per transition) -> dloss/dlogp and dloss/dkl;
 *      - dmean = dlogp (x' - mean) valid / (std^2 count) + dkl (mean - mean_ref) valid /
 *        (std^2 count), dx0hat = coefX0 dmean, through guidance dcond = s dx0hat,
 *        duncond = (1 - s) dx0hat, backward on the doubled batch.
 *    The loss is the MEAN over trained transitions (each one's gradient is scaled by 1/K).
 *    Scheduling, the same gradient: with `transitionBatch` P > 1, P transitions share one
 *    reference call, one policy call and one backward (a GPU's default); with P = 1 and full
 *    fine-tuning the rollout keeps its forwards (`KEPT_FORWARD_BYTES`) and the update
 *    differentiates those instead of running the policy again (bit for bit the same).
 * 4. Gradient-norm clipping (`maxGradNorm`, default 1.0; `grad_norm` logs the norm before it)
 *    and one AdamW update (weight decay 0: the KL term already anchors the policy). The clip's
 *    factor is computed on the engine and applied by AdamW, so the update is queued behind the
 *    backward and the step reads back once after it (statistics and the norm's sums together).
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import type { MdmDenoiser, SavedActivations } from "../../models/mdm/mdm.ts";
import type { SamplingPlan } from "../../diffusion/plan.ts";
import {
  freeGuidedBatch,
  freeRollout,
  guidedBatch,
  guidedX0s,
  type RecordedStep,
  type Rollout,
  rollout,
} from "../../diffusion/sampler.ts";
import { stepMean, validElementMask } from "../../diffusion/transition.ts";
import type { TextFeaturizer } from "../../rewards/encoder.ts";
import type { AdamW } from "../adamw.ts";
import { type Advantages, groupAdvantages } from "../advantages.ts";
import { GradClipper } from "../pretrain/clip_grad_norm.ts";
import type { PromptBatch } from "./prompts.ts";
import type { RewardFn, StepRewards } from "./rewards.ts";
import { type TransitionHead, transitionHead, type UpdateStats } from "./transition_head.ts";

/** Noise stream of step `s`'s rollout: `ROLLOUT_STREAM + s`. */
export const ROLLOUT_STREAM = 0x47520000; // "GR"
/** Stream of the trained-subset draw of step `s`: `SUBSET_STREAM + s`. */
export const SUBSET_STREAM = 0x47530000; // "GS"

/** MDM's default classifier-free guidance scale (its `--guidance_param`). */
export const DEFAULT_GUIDANCE = 2.5;
/**
 * Memory the rollout may keep for its forwards' activations (`RolloutOptions.saveActivations`):
 * the mini model's 9 trained transitions need about 0.1 GB; a larger model keeps as many as fit.
 */
export const KEPT_FORWARD_BYTES = 256 * 1024 ** 2;

/** Default gradient-norm clip. */
export const DEFAULT_MAX_GRAD_NORM = 1.0;

/** Hyper-parameters of a step. */
export interface GrpoStepOptions {
  groupSize: number;
  /** CFG scale s; 1 = conditional only. */
  guidance: number;
  seed: number;
  clipEpsilon: number;
  klBeta: number;
  learningRate: number;
  /** Global gradient-norm clip; <= 0 or Infinity disables it. */
  maxGradNorm: number;
  /** Trained transitions per step: null = every stochastic step, else a seeded random subset. */
  trainSteps: number | null;
  /** Frames of a rollout: `"max"` = the longest prompt (exact for masked models), or a count. */
  frames: "max" | number;
  /**
   * Trained transitions per denoiser call (default 1): P transitions of a step run as one
   * forward and one backward on a batch P times larger, which keeps a GPU busier. The gradient
   * is the same sum; its float32 rounding depends on P (deterministic for a given P).
   */
  transitionBatch?: number;
}

/** What a step works with; built once by the trainer. */
export interface GrpoStepContext {
  be: Backend;
  /** Trained model ("full" or "lora"). */
  policy: MdmDenoiser;
  /** Frozen reference; null = the policy with adapters off (LoRA). */
  reference: MdmDenoiser | null;
  optimizer: AdamW;
  clipper: GradClipper;
  featurizer: TextFeaturizer;
  reward: RewardFn;
  plan: SamplingPlan;
  options: GrpoStepOptions;
}

/**
 * Trained transitions per denoiser call when not set (`--transition_batch 0`). On WebGPU, as
 * many as keep the call at most 32 samples (4 for the official 4 prompts x CFG 2: an H100 step
 * 1.06 -> 0.78 s, GPU memory 0.9 -> 2.7 GB), so larger groups do not multiply the memory; on the
 * CPU 1 (nothing to gain there, and one transition at a time keeps its recorded results).
 */
export function defaultTransitionBatch(be: Backend, samplesPerCall: number): number {
  if (be.kind !== "webgpu") return 1;
  return Math.max(1, Math.min(4, Math.floor(32 / samplesPerCall)));
}

/** Creates the gradient clipper of a policy. */
export function createClipper(be: Backend, policy: MdmDenoiser): GradClipper {
  return new GradClipper(be, policy.trainable());
}

/** Metrics of one step (seed names, plus diagnostics). */
export type GrpoStepMetrics = Record<string, number>;

/** Positions in the plan of the transitions a step trains. */
export function trainedSteps(
  r: Rollout,
  trainSteps: number | null,
  seed: number,
  step: number,
): RecordedStep[] {
  const all = r.steps;
  if (trainSteps === null || trainSteps >= all.length) return all;
  if (!Number.isInteger(trainSteps) || trainSteps < 1) {
    throw new RangeError(`Cannot train ${trainSteps} transitions per step: need >= 1`);
  }
  const idx = new Rng(seed, (SUBSET_STREAM + step) >>> 0).shuffle(all.map((_, i) => i));
  return idx.slice(0, trainSteps).sort((a, b) => a - b).map((i) => all[i]);
}

/**
 * Computes the policy loss over `steps` of `r` and, when `backward` is true, accumulates its
 * gradient into the policy (call `zeroGrad()` first). Exposed for gradient checks; the arguments
 * are `queuePolicyLoss`'s.
 */
export async function policyLoss(
  ...args: Parameters<typeof queuePolicyLoss>
): Promise<UpdateStats> {
  return await (await queuePolicyLoss(...args)).stats;
}

/**
 * `policyLoss` up to its read-back: resolves once every dispatch is queued and the read-back of
 * the statistics has started (`stats` then arrives on its own). On Deno the read-back's start
 * waits for the GPU to finish; its result comes 10 ms later, time in which the caller can queue
 * the next work (kernels/webgpu/runtime.ts).
 * `advantages` may still be on its way (the rewards' read-back): every reference forward and the
 * first block's policy forward, which do not need it, are queued before it is awaited, so that a
 * GPU works through them while the host waits for the read-back and computes the rewards.
 * `afterBackward` queues work on the finished gradient; its result comes back in the same
 * read-back as the statistics.
 */
export async function queuePolicyLoss(
  ctx: GrpoStepContext,
  r: Rollout,
  steps: readonly RecordedStep[],
  text: Tensor, // (N, D)
  lengths: Int32Array, // (N)
  advantages: Float32Array | Promise<Float32Array>, // (N)
  T: number,
  backward: boolean,
  afterBackward: GradientReadback | null = null,
): Promise<{ stats: Promise<UpdateStats> }> {
  const { be, policy, reference } = ctx, o = ctx.options;
  const N = lengths.length, F = policy.nfeats, n = N * T * F, K = steps.length, s = o.guidance;
  const P = Math.max(1, Math.min(o.transitionBatch ?? 1, K)); // transitions per denoiser call
  const g = guidedBatch(policy, text, lengths, N, T, s, P);
  const gRef = reference ? guidedBatch(reference, text, lengths, N, T, s, P) : g;
  let head = null as TransitionHead | null; // made once the advantages are known
  const headNow = async () => {
    if (head !== null) return head;
    be.submit(); // the forwards queued so far run while the advantages arrive
    return head = transitionHead({
      be,
      lengths,
      count: r.count,
      advantages: await advantages,
      T,
      K,
      clipEpsilon: o.clipEpsilon,
      klBeta: o.klBeta,
    });
  };
  const w = be.tensor([N, T * F], validElementMask(lengths, N, T, F)); // (N, T*F)
  const x0s = Array.from({ length: P }, () => be.tensor([N, T, F])); // per block
  const meanRefs = steps.map(() => be.tensor([N, T, F])); // per trained transition
  const mean = be.tensor([N, T, F]), dmean = be.tensor([N, T, F]), dkl = be.tensor([N, T, F]);
  const dout = be.tensor([P * g.B2, T, F]), half = be.tensor([N, T, F]);
  const sq = be.tensor([N]), sqRef = be.tensor([N]), klSq = be.tensor([N]);
  // blocks of P transitions: their records, inputs x, steps and x0 outputs
  const blocks = Array.from({ length: Math.ceil(K / P) }, (_, b) => {
    const chunk = steps.slice(b * P, b * P + P);
    const xs = chunk.map((rec) => rec.x), sts = chunk.map((rec) => rec.step);
    return { chunk, xs, sts, outs: x0s.slice(0, chunk.length) };
  });
  try {
    // Every reference forward first: they need neither the advantages nor the policy's saved
    // activations (a LoRA reference is the policy itself: its forward must precede the policy's).
    if (!reference) policy.setAdaptersEnabled(false);
    try {
      blocks.forEach(({ chunk, xs, sts, outs }, b) => {
        guidedX0s(reference ?? policy, gRef, outs, xs, sts, s, N, T);
        chunk.forEach((rec, j) => stepMean(be, meanRefs[b * P + j], x0s[j], rec.x, rec.step, n));
      });
    } finally {
      if (!reference) policy.setAdaptersEnabled(true);
    }
    for (const [b, { chunk, xs, sts, outs }] of blocks.entries()) {
      // The rollout's own forward at this transition, when it kept it (same weights, input and
      // batch: the same activations, bit for bit), else the forward again.
      const kept = P === 1 && backward ? chunk[0].saved ?? null : null;
      if (kept === null) guidedX0s(policy, g, outs, xs, sts, s, N, T);
      const head = await headNow();
      for (const [j, rec] of chunk.entries()) {
        const st = rec.step, meanRef = meanRefs[b * P + j];
        stepMean(be, mean, kept?.x0hat ?? x0s[j], rec.x, st, n);
        be.rowSumSqDiff(sq, rec.sample, mean, w, N, T * F);
        be.rowSumSqDiff(sqRef, rec.sample, meanRef, w, N, T * F);
        be.rowSumSqDiff(klSq, mean, meanRef, w, N, T * F);
        await head.add({ sq, sqRef, sqOld: rec.sqDist, klSq }, st);
        if (!backward) continue;

        // dmean = rowLogp (x' - mean) + rowKl (mean - mean_ref), per frame (transition_head.ts)
        be.axpby(dmean, rec.sample, 1, mean, -1, n);
        be.scaleRows(dmean, dmean, head.rowLogp, N * T, F);
        be.axpby(dkl, mean, 1, meanRef, -1, n);
        be.scaleRows(dkl, dkl, head.rowKl, N * T, F);
        be.axpby(dmean, dmean, 1, dkl, 1, n);
        // x0hat = s cond + (1 - s) uncond, mean = coefX0 x0hat + coefX x (x is a constant
        // sample); block j of dout is [dcond; duncond] of transition j.
        const c0 = st.coefX0, at = j * g.B2 * T * F;
        // (s * c0, (1 - s) * c0) with guidance, else c0 alone
        const scales = g.B2 > N ? [s * c0, (1 - s) * c0] : [c0];
        scales.forEach((scale, h) => {
          be.axpby(half, dmean, Math.fround(scale), dmean, 0, n);
          be.copy(dout, half, n, at + h * n, 0);
        });
      }
      if (kept) {
        policy.attachActivations(kept.activations as SavedActivations);
        be.free(kept.x0hat);
        chunk[0].saved = null;
      }
      if (backward) policy.backward(dout);
    }
    const reading = (await headNow()).stats(afterBackward?.queue() ?? null);
    const stats = reading.then(({ stats, extra }) => {
      if (extra !== null) afterBackward?.receive(extra);
      return stats;
    });
    stats.catch(() => {}); // a failure is thrown where it is awaited
    return { stats };
  } finally {
    freeGuidedBatch(be, g);
    if (gRef !== g) freeGuidedBatch(be, gRef);
    head?.free();
    for (const t of [w, ...x0s, ...meanRefs, mean, dmean, dkl, dout, half, sq, sqRef, klSq]) {
      be.free(t);
    }
  }
}

/** Work queued on the finished gradient whose result is read back with the step's statistics. */
export interface GradientReadback {
  /** Queues the work; returns the tensor to read. */
  queue(): Tensor;
  /** Receives the tensor's host copy. */
  receive(host: Float32Array): void;
}

/** Frames of a step's rollout. */
export function rolloutFrames(frames: "max" | number, lengths: Int32Array): number {
  return frames === "max" ? Math.max(...lengths) : frames;
}

/** Everything a step produced besides the metrics (tests inspect it). */
export interface GrpoStepResult {
  metrics: GrpoStepMetrics;
  rewards: StepRewards;
  advantages: Float32Array;
}

/**
 * Runs GRPO step `step` (0-based) on `batch`: rollout, rewards, advantages, one optimiser update.
 * `hostWork` is started once the rollout and the update's first forwards are queued: host work
 * that does not wait for them (the next step's text features) runs while the GPU works and the
 * step waits for its rewards' read-back.
 */
export async function grpoStep(
  ctx: GrpoStepContext,
  batch: PromptBatch,
  step: number,
  hostWork?: () => void,
): Promise<GrpoStepResult> {
  return await (await startGrpoStep(ctx, batch, step, hostWork)).result;
}

/** A step whose work is all queued, its optimiser update included. */
export interface StartedGrpoStep {
  /** The metrics, once the statistics' read-back arrives. */
  result: Promise<GrpoStepResult>;
}

/**
 * `grpoStep` up to its last read-back: resolves once the whole step, optimiser update included,
 * is queued and the read-back of its statistics has started. The next step can be started before
 * `result` is awaited, so that a GPU runs it while the statistics arrive (the trainer does so
 * between checkpoints). The gradient-norm clip's factor stays on the engine
 * (`GradClipper.queueScale`), so the update does not wait for the norm.
 */
export async function startGrpoStep(
  ctx: GrpoStepContext,
  batch: PromptBatch,
  step: number,
  hostWork?: () => void,
): Promise<StartedGrpoStep> {
  const { be, policy } = ctx, o = ctx.options;
  const N = batch.texts.length, D = policy.textDim;
  const T = rolloutFrames(o.frames, batch.lengths);
  const feats = await ctx.featurizer.encode(batch.texts); // (N, D)
  if (feats.length !== N * D) {
    throw new RangeError(
      `Cannot run a GRPO step: the text featurizer "${ctx.featurizer.name}" gives ` +
        `${feats.length / N} features per text, the model takes ${D}`,
    );
  }
  const text = be.tensor([N, D], feats);
  policy.setAdaptersEnabled(true);
  // The rollout keeps its forwards for the update when one forward per transition is trained
  // and nothing else runs on the policy in between (a LoRA reference is the policy itself).
  const keep = (o.transitionBatch ?? 1) === 1 && policy.training === "full" && ctx.reference;
  const r = rollout(policy, text, batch.lengths, N, T, {
    plan: ctx.plan,
    guidance: o.guidance,
    seed: o.seed,
    stream: (ROLLOUT_STREAM + step) >>> 0,
    record: true,
    saveActivations: keep ? { maxBytes: KEPT_FORWARD_BYTES } : undefined,
  });
  try {
    // The rewards' read-back is queued behind the rollout; `policyLoss` queues the update's first
    // forwards before it waits for the advantages (the GPU is not idle during the read-back).
    const scored = ctx.reward(r.x0, batch, T).then((rewards) => ({
      rewards,
      ...groupAdvantages(rewards.total.total, { groupSize: o.groupSize }),
    }));
    scored.catch(() => {}); // a failure is thrown where it is awaited, below
    // Started now, it runs once the step first waits: in policyLoss, after its forwards are queued
    // and submitted.
    hostWork?.();
    const steps = trainedSteps(r, o.trainSteps, o.seed, step);
    policy.zeroGrad();
    const params = policy.trainable();
    // The clip factor and the update are queued behind the backward; the gradient norm's sums
    // come back in the statistics' read-back: one GPU round trip per update, after it.
    let gradNorm = NaN;
    const advantages = scored.then((a) => a.advantages);
    advantages.catch(() => {});
    const queued = await queuePolicyLoss(ctx, r, steps, text, batch.lengths, advantages, T, true, {
      queue: () => {
        const { sums, scale } = ctx.clipper.queueScale(params, o.maxGradNorm);
        ctx.optimizer.step(o.learningRate, scale);
        return sums;
      },
      receive: (sums) => gradNorm = GradClipper.norm(sums, params.length),
    });
    const result = Promise.all([queued.stats, scored]).then(([u, scoredNow]) =>
      stepResult(u, scoredNow, gradNorm, steps.length, T, o.learningRate)
    );
    result.catch(() => {}); // a failure is thrown where it is awaited
    return { result };
  } finally {
    freeRollout(be, r);
    be.free(text);
  }
}

/** The metrics of a finished step. */
function stepResult(
  u: UpdateStats,
  scored: Advantages & { rewards: StepRewards },
  gradNorm: number,
  trained: number,
  T: number,
  learningRate: number,
): GrpoStepResult {
  const { rewards, advantages: adv, diagnostics: d } = scored;
  const metrics: GrpoStepMetrics = {
    loss: u.loss,
    policy_loss: u.policyLoss,
    kl_penalty: u.klPenalty,
    mean_reward: d.meanReward,
    std_reward: d.stdReward,
    min_reward: d.minReward,
    max_reward: d.maxReward,
    mean_advantage: d.meanAdvantage,
    std_advantage: d.stdAdvantage,
    mean_log_prob_current: u.logpCurrent,
    mean_log_prob_ref: u.logpRef,
    mean_ratio: u.meanRatio,
    grad_norm: gradNorm,
    learning_rate: learningRate,
    clip_fraction: u.clipFraction,
    approx_kl: u.approxKl,
    zero_std_groups: d.zeroStdGroups,
    non_finite_rewards: d.nonFinite,
    r_sem: finiteMean(rewards.sem),
    trained_transitions: trained,
    frames: T,
  };
  if (rewards.phy) metrics.r_phy = finiteMean(rewards.phy);
  return { metrics, rewards, advantages: adv };
}

/** Mean of the finite entries (NaN when there are none). */
function finiteMean(x: ArrayLike<number>): number {
  let s = 0, n = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) {
      s += x[i];
      n++;
    }
  }
  return n > 0 ? s / n : NaN;
}
