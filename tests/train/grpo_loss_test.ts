/**
 * The clipped GRPO loss: hand-computed values, gradient vs finite differences, the ratio-1
 * identity, and the device loss head (WGSL) against the host head.
 */
import assert from "node:assert/strict";
import type { Backend } from "../../kernels/backend.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { GRPO_STATS, grpoLoss as grpoLossHost, GrpoStat } from "../../kernels/grpo_loss/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import type { SamplingStep } from "../../diffusion/plan.ts";
import {
  deviceTransitionHead,
  hostTransitionHead,
  type TransitionHeadSetup,
} from "../../train/grpo/transition_head.ts";
import { assertClose } from "../_util.ts";
import { gpu, GPU_TEST, gpuIgnore } from "../kernels/_webgpu.ts";

const cpu = createCpuBackend();

Deno.test("grpoLoss() gives the hand-computed loss, gradient and diagnostics", () => {
  // eps 0.2, beta 0.5. Per sample (A, ratio): (1, 1) unclipped; (1, 1.5) clamp active;
  // (-1, 1.5) outside the range but unclipped wins; (-1, 0.5) clamp active; (1, 0.9) inside.
  const A = [1, 1, -1, -1, 1];
  const ratio = [1, 1.5, 1.5, 0.5, 0.9];
  const N = 5;
  const logpOld = [0.3, -1, 2, 0, 0.5];
  const logp = logpOld.map((o, i) => o + Math.log(ratio[i]));
  const kl = [0.1, 0.2, 0.3, 0.4, 0.5];
  const f32 = (x: number[]) => Float32Array.from(x);
  const s = new Float64Array(GRPO_STATS), dlogp = new Float32Array(N);
  grpoLossHost(s, dlogp, f32(logp), f32(logpOld), f32(A), f32(kl), N, {
    clipEpsilon: 0.2,
    klBeta: 0.5,
  });
  const policy = (-1 - 1.2 + 1.5 + 0.8 - 0.9) / N;
  const approx = ratio.reduce((a, r) => a + (r - 1) - Math.log(r), 0) / N;
  // Inputs are float32: atol 1e-6, rtol 1e-5.
  const at = (k: keyof typeof GrpoStat) => s[GrpoStat[k]];
  assertClose(
    [at("loss"), at("policyLoss"), at("klMean"), at("meanRatio"), at("approxKl")],
    [policy + 0.5 * 0.3, policy, 0.3, 5.4 / N, approx],
    1e-6,
    1e-5,
    "stats",
  );
  assert.equal(at("clipFraction"), 0.6);
  assert.equal(at("activeClipFraction"), 0.4);
  assert.equal(at("dkl"), 0.1);
  assertClose(dlogp, [-0.2, 0, 0.3, 0, -0.18], 1e-6, 1e-5, "dlogp");
});

Deno.test("grpoLoss() at ratio 1 equals -mean(A) + beta mean(kl)", () => {
  const N = 64, rng = new Rng(1, 3);
  const logp = Float64Array.from({ length: N }, () => rng.normal());
  const A = Float64Array.from({ length: N }, () => 2 * rng.normal());
  const kl = Float64Array.from({ length: N }, () => rng.uniform());
  const stats = new Float64Array(GRPO_STATS), dlogp = new Float64Array(N);
  grpoLossHost(stats, dlogp, logp, logp, A, kl, N, { clipEpsilon: 0.1, klBeta: 0.3 });
  const meanA = A.reduce((a, x) => a + x, 0) / N, meanKl = kl.reduce((a, x) => a + x, 0) / N;
  assertClose([stats[GrpoStat.loss]], [-meanA + 0.3 * meanKl], 1e-12, 1e-12, "loss");
  assertClose(dlogp, A.map((a) => -a / N), 1e-15, 1e-12, "dlogp");
  assert.equal(stats[GrpoStat.clipFraction], 0);
  assert.equal(stats[GrpoStat.approxKl], 0);
});

Deno.test("grpoLoss() gradients match central finite differences", () => {
  const N = 40, rng = new Rng(2, 3), eps = 0.2, beta = 0.7;
  const logpOld = Float64Array.from({ length: N }, () => rng.normal());
  // log ratios in [-0.5, 0.5], kept 0.01 away from the clamp edges so that h does not cross them.
  const logp = logpOld.map((o) => {
    let lr = 0;
    do lr = rng.uniform() - 0.5; while (
      Math.abs(Math.exp(lr) - (1 + eps)) < 0.01 || Math.abs(Math.exp(lr) - (1 - eps)) < 0.01
    );
    return o + lr;
  });
  const A = Float64Array.from({ length: N }, () => rng.normal());
  const kl = Float64Array.from({ length: N }, () => rng.uniform());
  const p = { clipEpsilon: eps, klBeta: beta };
  const stats = new Float64Array(GRPO_STATS), dlogp = new Float64Array(N);
  grpoLossHost(stats, dlogp, logp, logpOld, A, kl, N, p);
  const lossAt = (lp: Float64Array, k: Float64Array) => {
    const s = new Float64Array(GRPO_STATS);
    grpoLossHost(s, new Float64Array(N), lp, logpOld, A, k, N, p);
    return s[GrpoStat.loss];
  };
  const h = 1e-6;
  const fd = new Float64Array(N), fdKl = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const up = logp.slice(), dn = logp.slice();
    up[i] += h;
    dn[i] -= h;
    fd[i] = (lossAt(up, kl) - lossAt(dn, kl)) / (2 * h);
    const ku = kl.slice(), kd = kl.slice();
    ku[i] += h;
    kd[i] -= h;
    fdKl[i] = (lossAt(logp, ku) - lossAt(logp, kd)) / (2 * h);
  }
  // float64 central differences with h = 1e-6: atol 1e-8, rtol 1e-5.
  assertClose(dlogp, fd, 1e-8, 1e-5, "dloss/dlogp");
  assertClose(fdKl, new Float64Array(N).fill(stats[GrpoStat.dkl]), 1e-8, 1e-5, "dloss/dkl");
  assert.ok(stats[GrpoStat.activeClipFraction] > 0, "some samples have the clamp active");
  assert.ok(dlogp.some((g) => g === 0) && dlogp.some((g) => g !== 0));
});

/** Random squared distances of one transition around their expectation (std^2 per element). */
function distances(rng: Rng, count: Float64Array, std: number, spread: number) {
  const around = (c: number) => c * std * std * (1 + spread * (rng.uniform() - 0.5));
  return {
    sq: Float32Array.from(count, around),
    sqRef: Float32Array.from(count, around),
    sqOld: Float32Array.from(count, around),
    klSq: Float32Array.from(count, (c) => 0.01 * around(c)),
  };
}

/** Runs `steps` transitions through the head of `be`; the row scales of the last, the stats. */
async function runHead(
  be: Backend,
  head: (s: TransitionHeadSetup) => ReturnType<typeof hostTransitionHead>,
  setup: Omit<TransitionHeadSetup, "be">,
  steps: { d: ReturnType<typeof distances>; st: SamplingStep }[],
) {
  const h = head({ ...setup, be });
  const N = setup.lengths.length;
  try {
    for (const { d, st } of steps) {
      const t = (x: Float32Array) => be.tensor([N], x);
      const args = { sq: t(d.sq), sqRef: t(d.sqRef), sqOld: t(d.sqOld), klSq: t(d.klSq) };
      await h.add(args, st);
      for (const x of Object.values(args)) be.free(x);
    }
    return {
      stats: (await h.stats()).stats,
      rowLogp: await be.read(h.rowLogp),
      rowKl: await be.read(h.rowKl),
    };
  } finally {
    h.free();
  }
}

Deno.test({
  ...GPU_TEST,
  name: "the device GRPO loss head (WGSL) matches the host head over several transitions",
  ignore: gpuIgnore,
  async fn() {
    const g = await gpu();
    const N = 300, T = 7, F = 5; // several samples per thread, not a multiple of 256
    const rng = new Rng(4, 3);
    const lengths = Int32Array.from({ length: N }, () => 1 + Math.floor(rng.uniform() * T));
    const count = Float64Array.from(lengths, (l) => l * F);
    const advantages = Float32Array.from({ length: N }, () => rng.normal());
    const setup = { lengths, count, advantages, T, K: 3, clipEpsilon: 0.1, klBeta: 0.04 };
    const steps = [0.3, 0.05, 0.01].map((std, i) => ({
      // the first transition at ratio ~1 (sq = sqOld), the others spread over the clamp edges
      d: distances(rng, count, std, i === 0 ? 0.01 : 0.8),
      st: { modelT: i, inputScale: 1, coefX0: 0.5, coefX: 0.5, std },
    }));
    steps[0].d.sq = steps[0].d.sqOld;
    const want = await runHead(cpu, hostTransitionHead, setup, steps);
    const got = await runHead(g, deviceTransitionHead, setup, steps);
    const keys = Object.keys(want.stats) as (keyof typeof want.stats)[];
    // float32 tree sums against float64 sums: atol 1e-5, rtol 1e-4.
    assertClose(keys.map((k) => got.stats[k]), keys.map((k) => want.stats[k]), 1e-5, 1e-4, "stats");
    // per-frame scales, float32 both: atol 1e-9 (the scales are ~1e-3 .. 1e2), rtol 1e-4.
    assertClose(got.rowLogp, want.rowLogp, 1e-9, 1e-4, "rowLogp");
    assertClose(got.rowKl, want.rowKl, 1e-9, 1e-4, "rowKl");
    assert.ok(want.stats.clipFraction > 0.1 && want.stats.clipFraction < 0.9);
    assert.ok(want.rowLogp.some((v) => v === 0) && want.rowLogp.some((v) => v !== 0));
    // sample 0's last frame is padding exactly when it is shorter than T
    assert.equal(got.rowKl[T - 1] === 0, lengths[0] < T);
  },
});
