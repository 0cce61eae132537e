import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import type { Backend } from "../../kernels/backend.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { ddpmPlan, flowPlan } from "../../diffusion/plan.ts";
import { T2M } from "../../datasets/motion/skeleton.ts";
import { AdamW } from "../../train/adamw.ts";
import {
  createClipper,
  defaultTransitionBatch,
  grpoStep,
  type GrpoStepContext,
  policyLoss,
  ROLLOUT_STREAM,
} from "../../train/grpo/grpo_step.ts";
import { PromptSampler } from "../../train/grpo/prompts.ts";
import { createRewardFn, type RewardFn } from "../../train/grpo/rewards.ts";
import { DEFAULT_MATCHING } from "../../rewards/semantic.ts";
import { totalReward } from "../../rewards/total.ts";
import { freeRollout, rollout } from "../../diffusion/sampler.ts";
import { assertClose } from "../_util.ts";
import { gpu, GPU_TEST, gpuIgnore } from "../kernels/_webgpu.ts";
import type { WebGpuBackend } from "../../kernels/webgpu_backend.ts";
import { FakeDataset, testEncoder, testFeaturizer, tinyModel } from "./_grpo_util.ts";

interface Setup {
  flow?: boolean;
  lora?: boolean;
  physics?: boolean;
  dense?: boolean;
  reward?: RewardFn;
  refSeed?: number;
  lr?: number;
}

function setup(be: Backend, s: Setup = {}): { ctx: GrpoStepContext; sampler: PromptSampler } {
  const policy = tinyModel(be, s.lora ? "lora" : "full", 1, !!s.lora);
  const reference = s.lora ? null : tinyModel(be, "none", s.refSeed ?? 1);
  const ds = new FakeDataset();
  const plan = s.flow ? flowPlan(cosineTables(10), 4, 0.7) : ddpmPlan(cosineTables(3));
  const reward = s.reward ?? createRewardFn(
    be,
    testEncoder(),
    {
      rewardModelType: "tmr",
      rewardType: "cosine",
      matching: DEFAULT_MATCHING,
      dense: !!s.dense,
      alpha: 0.5,
      physics: !!s.physics,
      betaS: 1,
      betaP: 0.1,
      lambdaSkate: 1,
      lambdaJerk: 1,
      fps: 20,
    },
    ds.mean,
    ds.std,
    T2M,
  );
  const ctx: GrpoStepContext = {
    be,
    policy,
    reference,
    optimizer: new AdamW(be, policy.trainable(), { lr: s.lr ?? 1e-3, weightDecay: 0 }),
    clipper: createClipper(be, policy),
    featurizer: testFeaturizer(),
    reward,
    plan,
    options: {
      groupSize: 2,
      guidance: 2.5,
      seed: 7,
      clipEpsilon: 0.2,
      klBeta: 1,
      learningRate: s.lr ?? 1e-3,
      maxGradNorm: 1,
      trainSteps: null,
      frames: "max",
    },
  };
  const sampler = new PromptSampler({
    source: s.dense ? "dense" : "dataset",
    seed: 7,
    kSegments: s.dense ? 2 : 1,
    maxMotionLength: 24,
    dataset: ds,
  });
  return { ctx, sampler };
}

async function snapshot(be: Backend, ts: { name: string; t: { size: number } }[]) {
  const out = new Map<string, Float32Array>();
  for (const { name, t } of ts) {
    out.set(name, Float32Array.from(await be.read(t as never)));
  }
  return out;
}

function changed(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return true;
  return false;
}

async function twoSteps(s: Setup): Promise<void> {
  const be = createCpuBackend();
  const { ctx, sampler } = setup(be, s);
  const base = [...ctx.policy.params].map(([name, t]) => ({ name, t }));
  const trainable = ctx.policy.trainable().map((p) => ({ name: p.name, t: p.param }));
  const refs = ctx.reference ? [...ctx.reference.params].map(([name, t]) => ({ name, t })) : [];
  const base0 = await snapshot(be, base), train0 = await snapshot(be, trainable);
  const ref0 = await snapshot(be, refs);
  for (let step = 0; step < 2; step++) {
    const { metrics } = await grpoStep(ctx, sampler.next(2, 2), step);
    assert.ok(Number.isFinite(metrics.loss), `loss ${metrics.loss}`);
    assert.ok(Number.isFinite(metrics.grad_norm) && metrics.grad_norm > 0);
    // No update happens between the rollout and the loss: the ratio is exactly 1.
    assert.equal(metrics.mean_ratio, 1);
    assert.equal(metrics.clip_fraction, 0);
    if (step === 0) assert.equal(metrics.kl_penalty, 0); // policy = reference at the start
  }
  const base1 = await snapshot(be, base), train1 = await snapshot(be, trainable);
  const ref1 = await snapshot(be, refs);
  for (const { name } of refs) {
    assert.ok(!changed(ref0.get(name)!, ref1.get(name)!), `reference ${name} changed`);
  }
  for (const { name } of trainable) {
    assert.ok(changed(train0.get(name)!, train1.get(name)!), `${name} did not change`);
  }
  if (s.lora) {
    for (const { name } of base) {
      assert.ok(!changed(base0.get(name)!, base1.get(name)!), `frozen ${name} changed`);
    }
  }
  be.destroy();
}

Deno.test("grpoStep() normal_grpo full fine-tuning: two steps update every parameter", async () => {
  await twoSteps({ physics: true });
});

Deno.test("grpoStep() flow_grpo full fine-tuning: two steps update every parameter", async () => {
  await twoSteps({ flow: true, dense: true });
});

Deno.test("grpoStep() LoRA: adapters change, base weights stay", async () => {
  await twoSteps({ lora: true });
});

Deno.test("grpoStep() flow_grpo LoRA: adapters change, base weights stay", async () => {
  await twoSteps({ lora: true, flow: true, physics: true });
});

Deno.test("grpoStep() gives a NaN reward advantage 0 without poisoning the batch", async () => {
  const be = createCpuBackend();
  const reward: RewardFn = (_x0, batch) => {
    const N = batch.texts.length;
    const sem = Float32Array.from({ length: N }, (_, i) => (i === 1 ? NaN : 0.1 * i));
    return Promise.resolve({
      sem,
      phy: null,
      total: totalReward(sem, null, { betaS: 1, betaP: 0 }),
    });
  };
  const { ctx, sampler } = setup(be, { reward });
  const { metrics, advantages } = await grpoStep(ctx, sampler.next(2, 2), 0);
  assert.equal(advantages[1], 0);
  assert.equal(advantages[0], 0); // its group has one finite reward: no spread
  assert.ok(advantages[2] < 0 && advantages[3] > 0);
  assert.equal(metrics.non_finite_rewards, 1);
  assert.equal(metrics.zero_std_groups, 1);
  assert.ok(Number.isFinite(metrics.loss) && Number.isFinite(metrics.grad_norm));
  for (const p of ctx.policy.trainable()) {
    for (const v of await be.read(p.param)) assert.ok(Number.isFinite(v), `${p.name} not finite`);
  }
  be.destroy();
});

/** A recorded rollout of `ctx`'s policy on 1 prompt x 2 samples, and its batch and text. */
async function recordedRollout(
  ctx: GrpoStepContext,
  sampler: PromptSampler,
  saveActivations?: { maxBytes: number },
) {
  const batch = sampler.next(1, 2);
  const N = 2, T = Math.max(...batch.lengths);
  const text = ctx.be.tensor([N, 16], await ctx.featurizer.encode(batch.texts));
  const r = rollout(ctx.policy, text, batch.lengths, N, T, {
    plan: ctx.plan,
    guidance: ctx.options.guidance,
    seed: 7,
    stream: ROLLOUT_STREAM,
    record: true,
    saveActivations,
  });
  return { batch, N, T, text, r };
}

Deno.test("policyLoss() gradient matches finite differences of the whole loss", async () => {
  const be = createCpuBackend();
  // A reference different from the policy makes the KL term and its gradient non-zero.
  const { ctx, sampler } = setup(be, { refSeed: 2 });
  const { batch, T, text, r } = await recordedRollout(ctx, sampler);
  const adv = Float32Array.of(3, -3);
  ctx.policy.zeroGrad();
  const base = await policyLoss(ctx, r, r.steps, text, batch.lengths, adv, T, true);
  assert.ok(base.klPenalty > 0);
  // The largest gradient entry of three tensors at different depths.
  const names = [
    "output_process.poseFinal.bias",
    "seqTransEncoder.layers.0.linear1.weight",
    "embed_text.weight",
  ];
  for (const name of names) {
    const p = ctx.policy.trainable().find((q) => q.name === name)!;
    const grad = await be.read(p.grad);
    let index = 0;
    for (let i = 0; i < grad.length; i++) if (Math.abs(grad[i]) > Math.abs(grad[index])) index = i;
    const analytic = grad[index];
    const h = 1e-2;
    const orig = (await be.read(p.param))[index];
    const at = async (v: number) => {
      be.write(p.param, Float32Array.of(v), index);
      return (await policyLoss(ctx, r, r.steps, text, batch.lengths, adv, T, false)).loss;
    };
    const numeric = ((await at(orig + h)) - (await at(orig - h))) / (2 * h);
    be.write(p.param, Float32Array.of(orig), index);
    assertClose([analytic], [numeric], 2e-4, 5e-2, `d loss / d ${name}[${index}]`);
    assert.ok(Math.abs(analytic) > 1e-4, `${name} gradient too small to check: ${analytic}`);
  }
  be.destroy();
});

Deno.test({
  ...GPU_TEST,
  name: "policyLoss() and grpoStep() on WebGPU (device loss head) match the CPU",
  ignore: gpuIgnore,
  async fn() {
    const g = await gpu();
    const run = async (be: Backend) => {
      const { ctx, sampler } = setup(be, { refSeed: 2 });
      const { batch, T, text, r } = await recordedRollout(ctx, sampler);
      ctx.policy.zeroGrad();
      const stats = await policyLoss(ctx, r, r.steps, text, batch.lengths, adv, T, true);
      const grads = new Map<string, Float32Array>();
      for (const p of ctx.policy.trainable()) grads.set(p.name, await be.read(p.grad));
      const step = await grpoStep(ctx, sampler.next(2, 2), 0);
      return { stats, grads, step: step.metrics };
    };
    const adv = Float32Array.of(3, -3);
    const want = await run(createCpuBackend()), got = await run(g);
    const keys = Object.keys(want.stats) as (keyof typeof want.stats)[];
    // float32 rollouts on two engines, then float32 vs float64 heads: atol 1e-4, rtol 1e-3.
    assertClose(keys.map((k) => got.stats[k]), keys.map((k) => want.stats[k]), 1e-4, 1e-3, "stats");
    assert.ok(want.stats.klPenalty > 0);
    for (const [name, w] of want.grads) {
      const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // relative to the tensor's largest entry: atol 1e-3 of it
      assertClose(got.grads.get(name)!, w, 1e-3 * scale, 1e-3, `grad ${name}`);
    }
    // A step on the device: the ratio is 1 up to float32 rounding, the update finite.
    assert.ok(Math.abs(got.step.mean_ratio - 1) < 1e-6, `mean_ratio ${got.step.mean_ratio}`);
    assert.equal(got.step.clip_fraction, 0);
    assert.ok(Number.isFinite(got.step.loss) && got.step.grad_norm > 0);
    assertClose([got.step.grad_norm], [want.step.grad_norm], 1e-4, 1e-2, "grad_norm");
  },
});

Deno.test("policyLoss() over blocks of transitions equals one transition at a time", async () => {
  // Blocks of 2 and 3 (a partial last block), with a reference model, with LoRA (the reference
  // is the policy with adapters off: it shares the guided batch), and without guidance.
  const cases: [string, Setup, number][] = [
    ["reference, blocks of 2", { refSeed: 2 }, 1],
    ["flow + LoRA, blocks of 3", { flow: true, lora: true }, 1],
    ["no guidance, blocks of 2", { refSeed: 2 }, 0],
  ];
  for (const [label, s, guided] of cases) {
    const run = async (P: number) => {
      const be = createCpuBackend();
      const { ctx, sampler } = setup(be, s);
      ctx.options.transitionBatch = P;
      if (!guided) ctx.options.guidance = 1;
      const { batch, T, text, r } = await recordedRollout(ctx, sampler);
      ctx.policy.zeroGrad();
      const adv = Float32Array.of(3, -3);
      const stats = await policyLoss(ctx, r, r.steps, text, batch.lengths, adv, T, true);
      const grads = new Map<string, Float32Array>();
      for (const p of ctx.policy.trainable()) grads.set(p.name, await be.read(p.grad));
      be.destroy();
      return { stats, grads, K: r.steps.length };
    };
    const one = await run(1), many = await run(label.includes("3") ? 3 : 2);
    assert.ok(one.K >= 2, `${label}: several transitions`);
    const keys = Object.keys(one.stats) as (keyof typeof one.stats)[];
    // the same float64 head on the same float32 distances: equal up to the products' rounding
    assertClose(keys.map((k) => many.stats[k]), keys.map((k) => one.stats[k]), 1e-6, 1e-5, label);
    for (const [name, want] of one.grads) {
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // weight gradients summed over the tokens of several transitions at once: atol 1e-5 of
      // the tensor's largest entry, rtol 1e-4
      assertClose(many.grads.get(name)!, want, 1e-5 * scale, 1e-4, `${label}: grad ${name}`);
      assert.ok(scale > 0 || name.includes("lora"), `${label}: ${name} has a gradient`);
    }
  }
});

Deno.test("defaultTransitionBatch() keeps a GPU call at most 32 samples, 1 on the CPU", () => {
  const gpuLike = { kind: "webgpu" } as Backend;
  assert.equal(defaultTransitionBatch(createCpuBackend(), 8), 1);
  assert.equal(defaultTransitionBatch(gpuLike, 8), 4); // official: 4 prompts x CFG 2
  assert.equal(defaultTransitionBatch(gpuLike, 2), 4);
  assert.equal(defaultTransitionBatch(gpuLike, 16), 2);
  assert.equal(defaultTransitionBatch(gpuLike, 64), 1);
});

Deno.test("policyLoss() on the rollout's kept forwards equals running them again, bit for bit", async () => {
  const run = async (maxBytes: number | null) => {
    const be = createCpuBackend();
    const { ctx, sampler } = setup(be, { refSeed: 2 });
    const base = be.memory().liveBytes;
    const keep = maxBytes === null ? undefined : { maxBytes };
    const { batch, T, text, r } = await recordedRollout(ctx, sampler, keep);
    const kept = r.steps.filter((s) => s.saved).length;
    ctx.policy.zeroGrad();
    const stats = await policyLoss(
      ctx,
      r,
      r.steps,
      text,
      batch.lengths,
      Float32Array.of(3, -3),
      T,
      true,
    );
    const grads = new Map<string, Float32Array>();
    for (const p of ctx.policy.trainable()) grads.set(p.name, await be.read(p.grad));
    assert.ok(r.steps.every((s) => !s.saved), "every kept forward was used");
    freeRollout(be, r);
    const leftover = be.memory().liveBytes - base;
    be.destroy();
    return { stats, grads, kept, steps: r.steps.length, leftover };
  };
  const again = await run(null), all = await run(1 << 30), some = await run(1);
  assert.equal(again.kept, 0);
  assert.equal(all.kept, all.steps);
  assert.equal(some.kept, 0); // a 1-byte budget keeps nothing
  // nothing kept is left behind once the rollout is freed (a leak would be a plan per step)
  assert.ok(all.leftover <= again.leftover, `${all.leftover} > ${again.leftover} bytes`);
  assert.deepEqual(all.stats, again.stats);
  for (const [name, g] of again.grads) assert.deepEqual(all.grads.get(name), g, name);
});

Deno.test("policyLoss() queues every reference forward and one policy forward before it awaits the advantages", async () => {
  const run = async (be: Backend, deferred: boolean) => {
    const { ctx, sampler } = setup(be, { refSeed: 2 });
    ctx.options.transitionBatch = 1;
    const { batch, T, text, r } = await recordedRollout(ctx, sampler);
    const forwards = { policy: 0, reference: 0 };
    for (const [model, key] of [[ctx.policy, "policy"], [ctx.reference!, "reference"]] as const) {
      const forward = model.forward.bind(model);
      model.forward = (...a) => (forwards[key]++, forward(...a));
    }
    const adv = Float32Array.of(3, -3);
    let release = () => {};
    const advantages = deferred ? new Promise<Float32Array>((ok) => release = () => ok(adv)) : adv;
    ctx.policy.zeroGrad();
    const submitted = be.kind === "webgpu" ? (be as WebGpuBackend).runtime.submissions : 0;
    const pending = policyLoss(ctx, r, r.steps, text, batch.lengths, advantages, T, true);
    const before = { ...forwards };
    if (deferred) {
      // one reference call per transition, then the first policy call, submitted on a GPU
      assert.ok(r.steps.length >= 2, "several transitions");
      assert.deepEqual(before, { policy: 1, reference: r.steps.length });
      if (be.kind === "webgpu") {
        assert.ok((be as WebGpuBackend).runtime.submissions > submitted, "submitted");
      }
      await new Promise((ok) => setTimeout(ok, 10));
      assert.deepEqual(forwards, before, "nothing more runs before the advantages arrive");
      release();
    }
    const stats = await pending;
    const grads = await be.readMany(ctx.policy.trainable().map((p) => p.grad));
    return { stats, grads, forwards };
  };
  const cpu = async (deferred: boolean) => {
    const be = createCpuBackend();
    try {
      return await run(be, deferred);
    } finally {
      be.destroy();
    }
  };
  const onGpu = async (deferred: boolean) => run(await gpu(), deferred);
  for (const side of gpuIgnore ? [cpu] : [cpu, onGpu]) {
    const now = await side(false), later = await side(true);
    assert.deepEqual(later.forwards, now.forwards);
    // the same work in the same order: the same bits
    assert.deepEqual(later.stats, now.stats);
    assert.deepEqual(later.grads, now.grads);
  }
});
