/**
 * The held-out reward (train/grpo/held_out.ts), and the end-to-end direction of GRPO: on a reward
 * the policy can easily raise, a few steps raise it on fixed prompts and noise.
 */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { ddpmPlan } from "../../diffusion/plan.ts";
import { AdamW } from "../../train/adamw.ts";
import { createClipper, grpoStep, type GrpoStepContext } from "../../train/grpo/grpo_step.ts";
import { drawHeldOut, heldOutReward, summarize } from "../../train/grpo/held_out.ts";
import { PromptSampler, type PromptSamplerOptions } from "../../train/grpo/prompts.ts";
import type { RewardFn } from "../../train/grpo/rewards.ts";
import { FakeDataset, testFeaturizer, tinyModel } from "./_grpo_util.ts";

/** Reward = mean over valid frames of feature 0 of the generated (normalised) motion. */
function feature0Reward(be: Backend, sign: number): RewardFn {
  return async (x0: Tensor, batch, T) => {
    const x = await be.read(x0), F = x0.size / (batch.texts.length * T);
    const total = new Float32Array(batch.texts.length);
    for (let n = 0; n < total.length; n++) {
      const L = batch.lengths[n];
      let s = 0;
      for (let t = 0; t < L; t++) s += x[(n * T + t) * F];
      total[n] = sign * s / L;
    }
    return {
      sem: total,
      phy: null,
      total: { total, flags: new Uint8Array(total.length), nonFiniteSem: 0, nonFinitePhy: 0 },
    };
  };
}

function context(be: Backend, reward: RewardFn, lr: number): GrpoStepContext {
  const policy = tinyModel(be, "full", 1);
  return {
    be,
    policy,
    reference: tinyModel(be, "none", 1),
    optimizer: new AdamW(be, policy.trainable(), { lr, weightDecay: 0 }),
    clipper: createClipper(be, policy),
    featurizer: testFeaturizer(),
    reward,
    plan: ddpmPlan(cosineTables(4)),
    options: {
      groupSize: 8,
      guidance: 2.5,
      seed: 3,
      clipEpsilon: 0.2,
      klBeta: 0.01,
      learningRate: lr,
      maxGradNorm: 1,
      trainSteps: null,
      frames: "max",
    },
  };
}

const SAMPLER: Omit<PromptSamplerOptions, "dataset"> = {
  source: "dataset",
  seed: 5,
  kSegments: 1,
  maxMotionLength: 24,
};

Deno.test("summarize() gives the mean, the 95% interval over prompts and skips NaN", () => {
  const s = summarize(Float64Array.from([1, 2, 3, NaN]));
  assert.equal(s.mean, 2);
  assert.equal(s.nonFinite, 1);
  // std of [1, 2, 3] (n - 1) = 1; 1.96 / sqrt(3)
  assert.ok(Math.abs(s.interval - 1.96 / Math.sqrt(3)) < 1e-12);
});

Deno.test("drawHeldOut() is fixed by the seed and rejects an empty set", () => {
  const a = drawHeldOut({ ...SAMPLER, dataset: new FakeDataset() }, 5, 2);
  const b = drawHeldOut({ ...SAMPLER, dataset: new FakeDataset() }, 5, 2);
  assert.deepEqual(a.chunks.map((c) => c.texts.length), [2, 2, 1]);
  assert.deepEqual(a.chunks.map((c) => c.texts), b.chunks.map((c) => c.texts));
  assert.throws(() => drawHeldOut({ ...SAMPLER, dataset: new FakeDataset() }, 0, 2), /need >= 1/);
});

Deno.test("GRPO raises an easy reward on fixed held-out prompts and noise, and lowers its negative", async () => {
  for (const sign of [1, -1]) {
    const be = createCpuBackend();
    const reward = feature0Reward(be, sign);
    const ctx = context(be, reward, 3e-4);
    const set = drawHeldOut({ ...SAMPLER, dataset: new FakeDataset() }, 8, 8);
    const evalCtx = {
      be,
      policy: ctx.policy,
      featurizer: ctx.featurizer,
      reward,
      plan: ctx.plan,
      guidance: 2.5,
      seed: 3,
      frames: "max" as const,
    };
    const before = await heldOutReward(evalCtx, set);
    const again = await heldOutReward(evalCtx, set);
    assert.deepEqual(again.perPrompt, before.perPrompt, "evaluation is deterministic");
    const sampler = new PromptSampler({ ...SAMPLER, seed: 6, dataset: new FakeDataset() });
    // Group 8: with 4 samples per prompt the advantages of this tiny model are too noisy to
    // show a direction within a test's budget of steps.
    for (let step = 0; step < 30; step++) await grpoStep(ctx, sampler.next(2, 8), step);
    const after = await heldOutReward(evalCtx, set);
    // Paired over the same prompts and noise: (nearly) every prompt's reward should rise.
    let rose = 0;
    for (let i = 0; i < set.count; i++) if (after.perPrompt[i] > before.perPrompt[i]) rose++;
    assert.ok(
      after.mean > before.mean && rose >= 6,
      `sign ${sign}: held-out reward ${before.mean} -> ${after.mean}, ${rose}/8 prompts rose`,
    );
    ctx.optimizer.free();
    ctx.clipper.free();
    ctx.policy.destroy();
    ctx.reference!.destroy();
    be.destroy();
  }
});
