import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import type { CompositeSample } from "../../datasets/composite/layout.ts";
import { fitDurations, PromptSampler, SEGMENT_JOINER } from "../../train/grpo/prompts.ts";
import { createRewardFn, rewardTextCalls } from "../../train/grpo/rewards.ts";
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import { DEFAULT_MATCHING, denseReward, segmentRanges } from "../../rewards/semantic.ts";
import { tmrCosineScore } from "../../rewards/semantic.ts";
import { assertClose } from "../_util.ts";
import { FakeDataset, testEncoder } from "./_grpo_util.ts";

Deno.test("PromptSampler dataset prompts repeat each prompt group_size times, contiguous", () => {
  const s = new PromptSampler({
    source: "dataset",
    seed: 1,
    kSegments: 1,
    maxMotionLength: 16,
    dataset: new FakeDataset(),
  });
  const b = s.next(2, 3);
  assert.equal(b.texts.length, 6);
  assert.deepEqual(b.texts.slice(0, 3), Array(3).fill(b.prompts[0].text));
  assert.deepEqual(b.texts.slice(3), Array(3).fill(b.prompts[1].text));
  assert.deepEqual([...b.lengths], [12, 12, 12, 14, 14, 14]);
  assert.deepEqual(b.prompts[0].segmentTexts, [b.prompts[0].text]);
});

Deno.test("PromptSampler dense prompts join K captions and fit the maximum length", () => {
  const s = new PromptSampler({
    source: "dense",
    seed: 3,
    kSegments: 3,
    maxMotionLength: 30,
    dataset: new FakeDataset(),
    distractors: 4,
  });
  const b = s.next(2, 2);
  for (const p of b.prompts) {
    assert.equal(p.segmentTexts.length, 3);
    assert.equal(p.text, p.segmentTexts.join(SEGMENT_JOINER));
    assert.equal(p.length, p.durations.reduce((a, c) => a + c, 0));
    assert.ok(p.length <= 30 && p.length >= 3);
    assert.equal(p.distractors.length, 4);
    assert.ok(!p.distractors.includes(p.text));
  }
  assert.deepEqual(fitDurations([20, 20, 20], 30), [10, 10, 10]);
  assert.deepEqual(fitDurations([5, 7], 30), [5, 7]);
});

Deno.test("PromptSampler restore() replays the same prompts", () => {
  const make = () =>
    new PromptSampler({
      source: "dense",
      seed: 9,
      kSegments: 2,
      maxMotionLength: 24,
      dataset: new FakeDataset(),
    });
  const a = make();
  a.next(2, 2);
  const saved = JSON.parse(JSON.stringify(a.state()));
  const want = a.next(2, 2);
  const b = make();
  b.restore(saved);
  assert.deepEqual(b.next(2, 2), want);
});

Deno.test("PromptSampler composite prompts use the file's texts and segment lengths", () => {
  const sample = (texts: string[], lengths: number[]): CompositeSample => ({
    sourceIds: texts.map((_, i) => `id${i}`),
    texts,
    tokens: texts.map(() => []),
    lengths: Int32Array.from(lengths),
    durations: Float64Array.from(lengths, (l) => l / 20),
    motion: new Float32Array(0),
    segmentIds: new Int32Array(0),
    totalLength: lengths.reduce((a, b) => a + b, 0),
    dimPose: 263,
    fps: 20,
    bMatrix: null,
  });
  const s = new PromptSampler({
    source: "composite",
    seed: 2,
    kSegments: 2,
    maxMotionLength: 20,
    dataset: new FakeDataset(),
    composite: [sample(["a walks", "b sits"], [8, 8]), sample(["c runs", "d jumps"], [20, 20])],
  });
  const b = s.next(2, 2);
  const byText = new Map(b.prompts.map((p) => [p.text, p]));
  assert.deepEqual(byText.get("a walks, then b sits")!.durations, [8, 8]);
  assert.deepEqual(byText.get("c runs, then d jumps")!.durations, [10, 10]);
});

/** TMR cosine reward settings without physics, global or segment-dense. */
function tmrCosine(dense: boolean) {
  return {
    rewardModelType: "tmr" as const,
    rewardType: "cosine",
    matching: DEFAULT_MATCHING,
    dense,
    alpha: 0.5,
    physics: false,
    betaS: 1,
    betaP: 0.1,
    lambdaSkate: 1,
    lambdaJerk: 1,
    fps: 20,
  };
}

Deno.test("createRewardFn() dense mode scores each segment against each sub-text", async () => {
  const be = createCpuBackend();
  const ds = new FakeDataset();
  const enc = testEncoder();
  const reward = createRewardFn(be, enc, tmrCosine(true), ds.mean, ds.std, null);
  const s = new PromptSampler({
    source: "dense",
    seed: 4,
    kSegments: 2,
    maxMotionLength: 24,
    dataset: ds,
  });
  const batch = s.next(1, 2);
  const N = 2, T = 24, F = 263;
  const x = Float32Array.from({ length: N * T * F }, (_, i) => Math.sin(i * 0.37));
  const got = await reward(be.tensor([N, T, F], x), batch, T);
  // Reference: by hand for sample 1.
  const p = batch.prompts[0], i = 1, L = batch.lengths[i];
  const raw = new Float32Array(T * F);
  for (let t = 0; t < T; t++) {
    for (let f = 0; f < F; f++) raw[t * F + f] = x[(i * T + t) * F + f] * ds.std[f] + ds.mean[f];
  }
  const tEmb = await enc.encodeTexts(p.segmentTexts);
  const scores: number[][] = [];
  for (const [a, b] of segmentRanges(p.durations, L)) {
    const m = await enc.encodeMotions(raw.slice(a * F, b * F), [b - a], 1, b - a);
    scores.push(p.segmentTexts.map((_, j) => tmrCosineScore(tEmb.subarray(j * 8, j * 8 + 8), m)));
  }
  assertClose([got.sem[i]], [denseReward(scores, 0.5)], 1e-6, 1e-5, "dense R_sem");
  assert.equal(got.phy, null);
  assertClose([got.total.total[i]], [got.sem[i]], 0, 0, "total = R_sem");
  be.destroy();
});

Deno.test("createRewardFn() prefetch makes the reward's own encodeTexts calls, in order", async () => {
  const be = createCpuBackend();
  const ds = new FakeDataset();
  // An encoder that records its text calls.
  const recording = () => {
    const inner = testEncoder(), calls: string[][] = [];
    const enc: TextMotionEncoder = {
      ...inner,
      encodeTexts: (texts) => (calls.push([...texts]), inner.encodeTexts(texts)),
    };
    return { enc, calls };
  };
  for (const dense of [false, true]) {
    const s = new PromptSampler({
      source: dense ? "dense" : "dataset",
      seed: 4,
      kSegments: dense ? 2 : 1,
      maxMotionLength: 24,
      dataset: ds,
      distractors: 3,
    });
    const batch = s.next(2, 2);
    const N = 4, T = 24, F = 263;
    // The reward's own calls, without a prefetch.
    const direct = recording();
    const want = await createRewardFn(be, direct.enc, tmrCosine(dense), ds.mean, ds.std, null)(
      be.tensor([N, T, F]),
      batch,
      T,
    );
    assert.equal(direct.calls.length, 2, "the prompts' texts, then the distractors");
    assert.deepEqual(direct.calls, rewardTextCalls(tmrCosine(dense), batch));
    // The prefetch makes the same calls, early; the reward takes their results instead of
    // calling again, and gets the same rewards.
    const early = recording();
    const reward = createRewardFn(be, early.enc, tmrCosine(dense), ds.mean, ds.std, null);
    reward.prefetch!(batch);
    assert.deepEqual(early.calls, direct.calls);
    const got = await reward(be.tensor([N, T, F]), batch, T);
    assert.deepEqual(early.calls, direct.calls);
    assert.deepEqual(got.sem, want.sem);
  }
  be.destroy();
});
