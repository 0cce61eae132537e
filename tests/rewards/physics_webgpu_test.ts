/** The WGSL physics kernel against its CPU twin (skipped without a WebGPU adapter). */
import assert from "node:assert/strict";
import { T2M } from "../../datasets/motion/skeleton.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { physicsReward } from "../../rewards/physics.ts";
import { assertClose } from "../_util.ts";
import { cpu, gpu, GPU_TEST, gpuIgnore } from "../kernels/_webgpu.ts";
import { miniFeatures } from "./_physics_clips.ts";

const F = T2M.nfeats;

/** B=3 clips of T=40 frames: planted, sliding and a noisy walk, normalised by made-up stats. */
function batch(): { x: Float32Array; mean: Float32Array; std: Float32Array } {
  const B = 3, T = 40;
  const rng = new Rng(3, 4);
  const mean = Float32Array.from({ length: F }, () => 0.1 * rng.normal());
  const std = Float32Array.from({ length: F }, () => 0.5 + rng.uniform());
  const x = new Float32Array(B * T * F); // (B, T, F)
  const clips = [miniFeatures(0, "walk", 0), miniFeatures(1, "walk", 0.5), miniFeatures(2, "run")];
  for (let b = 0; b < B; b++) {
    const src = clips[b].features;
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < F; c++) {
        const noise = b === 2 ? 0.01 * rng.normal() : 0;
        x[(b * T + t) * F + c] = (src[t * F + c] - mean[c]) / std[c] + noise;
      }
    }
  }
  return { x, mean, std };
}

Deno.test({
  ...GPU_TEST,
  name: "physicsReward() on WebGPU matches the CPU twin, padding and NaN included",
  ignore: gpuIgnore,
  async fn() {
    const g = await gpu();
    const { x, mean, std } = batch();
    const shape = [3, 40, F];
    const lengths = [40, 33, 25];
    const run = async (be: typeof cpu, data: Float32Array) => {
      const t = be.tensor(shape, data), m = be.tensor([F], mean), s = be.tensor([F], std);
      const r = await physicsReward(be, t, m, s, lengths, T2M);
      be.free(t);
      be.free(m);
      be.free(s);
      return r;
    };
    const want = await run(cpu, x);
    const got = await run(g, x);
    // float32 on the GPU, float64 in the twin: atol 1e-4, rtol 1e-3.
    assertClose(got.reward, want.reward, 1e-4, 1e-3, "reward");
    assertClose(got.skate, want.skate, 1e-4, 1e-3, "skate");
    assertClose(got.jerk, want.jerk, 1e-4, 1e-3, "jerk");
    assert.ok(want.reward[0] > want.reward[1], "the sliding walk scores lower");

    // NaN in the padding of sample 1 changes nothing; NaN in sample 2's valid frames gives NaN.
    const bad = x.slice();
    bad[(1 * 40 + 35) * F + 5] = NaN;
    bad[(2 * 40 + 3) * F + 0] = NaN;
    const gotBad = await run(g, bad);
    assertClose(gotBad.reward.subarray(0, 2), want.reward.subarray(0, 2), 1e-4, 1e-3, "kept");
    assert.ok(Number.isNaN(gotBad.reward[2]) && Number.isNaN(gotBad.jerk[2]));
    assert.equal(gotBad.nonFinite, 1);
  },
});
