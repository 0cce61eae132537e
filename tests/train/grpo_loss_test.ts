/**
 * The clipped GRPO loss: hand-computed values, gradient vs finite differences, the ratio-1
 * identity, and the WGSL kernel against the CPU twin.
 */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { GRPO_STATS, grpoLoss as grpoLossHost, GrpoStat } from "../../kernels/grpo_loss/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { grpoLoss } from "../../train/grpo_loss.ts";
import { assertClose } from "../_util.ts";
import { gpu, GPU_TEST, gpuIgnore } from "../kernels/_webgpu.ts";

const cpu = createCpuBackend();

Deno.test("grpoLoss() gives the hand-computed loss, gradient and diagnostics", async () => {
  // eps 0.2, beta 0.5. Per sample (A, ratio): (1, 1) unclipped; (1, 1.5) clamp active;
  // (-1, 1.5) outside the range but unclipped wins; (-1, 0.5) clamp active; (1, 0.9) inside.
  const A = [1, 1, -1, -1, 1];
  const ratio = [1, 1.5, 1.5, 0.5, 0.9];
  const N = 5;
  const logpOld = [0.3, -1, 2, 0, 0.5];
  const logp = logpOld.map((o, i) => o + Math.log(ratio[i]));
  const kl = [0.1, 0.2, 0.3, 0.4, 0.5];
  const t = (x: number[]) => cpu.tensor([N], x);
  const dlogp = cpu.tensor([N]);
  const s = await grpoLoss(cpu, dlogp, t(logp), t(logpOld), t(A), t(kl), N, {
    clipEpsilon: 0.2,
    klBeta: 0.5,
  });
  const policy = (-1 - 1.2 + 1.5 + 0.8 - 0.9) / N;
  const approx = ratio.reduce((a, r) => a + (r - 1) - Math.log(r), 0) / N;
  // Inputs are float32: atol 1e-6, rtol 1e-5.
  assertClose(
    [s.loss, s.policyLoss, s.klPenalty, s.meanRatio, s.approxKl, s.clipFraction],
    [policy + 0.5 * 0.3, policy, 0.15, 5.4 / N, approx, 0.6],
    1e-6,
    1e-5,
    "stats",
  );
  assert.equal(s.activeClipFraction, 0.4);
  assert.equal(s.dkl, 0.1);
  assertClose(await cpu.read(dlogp), [-0.2, 0, 0.3, 0, -0.18], 1e-6, 1e-5, "dlogp");
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

Deno.test({
  ...GPU_TEST,
  name: "grpoLoss() on WebGPU matches the CPU twin",
  ignore: gpuIgnore,
  async fn() {
    const g = await gpu();
    const N = 1000; // several samples per thread, not a multiple of 256
    const rng = new Rng(4, 3);
    const logpOld = Float32Array.from({ length: N }, () => rng.normal());
    const logp = logpOld.map((o) => o + 0.6 * (rng.uniform() - 0.5));
    const A = Float32Array.from({ length: N }, () => rng.normal());
    const kl = Float32Array.from({ length: N }, () => 0.01 * rng.uniform());
    const p = { clipEpsilon: 0.1, klBeta: 0.04 };
    const run = async (be: typeof cpu) => {
      const dlogp = be.tensor([N]);
      const args = [logp, logpOld, A, kl].map((x) => be.tensor([N], x));
      const s = await grpoLoss(be, dlogp, args[0], args[1], args[2], args[3], N, p);
      return { s, d: await be.read(dlogp) };
    };
    const want = await run(cpu), got = await run(g);
    const keys = Object.keys(want.s) as (keyof typeof want.s)[];
    // float32 tree sums against float64 sums: atol 1e-6, rtol 1e-4.
    assertClose(keys.map((k) => got.s[k]), keys.map((k) => want.s[k]), 1e-6, 1e-4, "stats");
    assertClose(got.d, want.d, 1e-8, 1e-5, "dlogp");
    assert.ok(want.s.clipFraction > 0.2 && want.s.clipFraction < 0.9);
  },
});
