/**
 * The physics penalty's CPU twin against `recoverFromRic` and the formulas written out on the
 * host, hand-computable clips, the calibration (planted vs sliding walks), padding and NaN.
 */
import assert from "node:assert/strict";
import { recoverFromRic } from "../../datasets/motion/recover.ts";
import { KIT, T2M } from "../../datasets/motion/skeleton.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { physicsPenalty } from "../../kernels/physics/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { physicsParams, physicsReward } from "../../rewards/physics.ts";
import { assertClose } from "../_util.ts";
import { miniFeatures } from "./_physics_clips.ts";

const F = T2M.nfeats;
const be = createCpuBackend();

/** Skate and jerk from `recoverFromRic` joints with the documented formulas, in float64. */
function hostTerms(joints: Float32Array, L: number, J: number, fps: number): [number, number] {
  const p = physicsParams(T2M);
  let num = 0, den = 0;
  for (const f of p.feet) {
    const y = (t: number) => joints[(t * J + f) * 3 + 1];
    let low = Infinity;
    for (let t = 0; t < L; t++) low = Math.min(low, y(t));
    for (let t = 0; t + 1 < L; t++) {
      const h = Math.max(y(t), y(t + 1)) - low;
      const w = 1 / (1 + Math.exp((h - p.contactHeight) / p.contactWidth));
      const a = (t * J + f) * 3, b = a + J * 3;
      num += w * fps * Math.hypot(joints[b] - joints[a], joints[b + 2] - joints[a + 2]);
      den += w;
    }
  }
  let jerk = 0;
  for (let t = 0; t + 3 < L; t++) {
    for (let j = 0; j < J; j++) {
      let s = 0;
      for (let c = 0; c < 3; c++) {
        const at = (k: number) => joints[((t + k) * J + j) * 3 + c];
        const d3 = at(3) - 3 * at(2) + 3 * at(1) - at(0);
        s += d3 * d3;
      }
      jerk += Math.sqrt(s) * fps ** 3;
    }
  }
  return [num / den, jerk / ((L - 3) * J)];
}

Deno.test("physicsPenalty() matches recoverFromRic() and the host formulas", () => {
  const { features, T } = miniFeatures(0, "walk", 0.3);
  // Normalise by made-up statistics and add noise, so that de-normalisation is exercised too.
  const rng = new Rng(11, 1);
  const mean = Float32Array.from({ length: F }, () => 0.1 * rng.normal());
  const std = Float32Array.from({ length: F }, () => 0.5 + rng.uniform());
  const x = new Float32Array(T * F); // (T, F) normalised
  const raw = new Float32Array(T * F); // (T, F) what the reward sees after de-normalising
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < F; c++) {
      const i = t * F + c;
      x[i] = (features[i] - mean[c]) / std[c] + 0.002 * rng.normal();
      raw[i] = x[i] * std[c] + mean[c];
    }
  }
  const p = physicsParams(T2M);
  const out = new Float64Array(4);
  physicsPenalty(out, x, mean, std, [T], 1, T, F, p);
  const [skate, jerk] = hostTerms(recoverFromRic(raw, T, T2M), T, T2M.joints, 20);
  // recoverFromRic rounds positions (metres) to float32; the third difference amplifies that by
  // 8 fps^3: atol 1e-3, rtol 1e-4.
  assertClose([out[1], out[2]], [skate, jerk], 1e-3, 1e-4, "skate, jerk");
  assertClose([out[0]], [Math.exp(-skate / 0.5 - jerk / 1000)], 1e-5, 1e-4, "reward");
  assert.equal(out[3], 0);
});

Deno.test("physicsPenalty() gives 1 for a still pose and exp(-v/s) for a gliding one", () => {
  for (const spec of [T2M, KIT]) {
    const nf = spec.nfeats, T = 30, J = spec.joints;
    const unit = spec.name === "kit" ? 1000 : 1; // KIT features are in millimetres
    const x = new Float32Array(T * nf); // (T, nf), mean 0, std 1: raw values
    for (let t = 0; t < T; t++) {
      x[t * nf + 3] = 0.9 * unit;
      // Every joint on the floor (y = 0) at a fixed root-relative place.
      for (let j = 1; j < J; j++) x[t * nf + 4 + 3 * (j - 1)] = 0.1 * j * unit;
    }
    const mean = new Float32Array(nf), std = new Float32Array(nf).fill(1);
    const p = physicsParams(spec);
    const still = new Float64Array(4);
    physicsPenalty(still, x, mean, std, [T], 1, T, nf, p);
    assert.deepEqual([...still], [1, 0, 0, 0], `${spec.name} still`);
    // Glide at 0.05 m per frame along the root's z (no yaw): every foot moves at 0.05 * fps m/s
    // with a constant contact weight, and constant velocity has no jerk.
    for (let t = 0; t < T; t++) x[t * nf + 2] = 0.05 * unit;
    const glide = new Float64Array(4);
    physicsPenalty(glide, x, mean, std, [T], 1, T, nf, p);
    const v = 0.05 * spec.fps;
    // The features hold 0.05 rounded to float32: atol 1e-7, rtol 1e-6.
    assertClose(glide, [Math.exp(-v / 0.5), v, 0, 0], 1e-7, 1e-6, `${spec.name} glide`);
  }
});

Deno.test("physicsReward() scores planted walks well and sliding walks clearly lower", async () => {
  const mean = be.tensor([F]), std = be.tensor([F], new Float32Array(F).fill(1));
  for (let i = 0; i < 3; i++) {
    const r: number[] = [];
    for (const slide of [0, 0.3, 1]) {
      const { features, T } = miniFeatures(i, "walk", slide);
      const res = await physicsReward(be, be.tensor([1, T, F], features), mean, std, [T], T2M);
      r.push(res.reward[0]);
    }
    assert.ok(r[0] > 0.7, `planted walk ${i} scores ${r[0]}, expected > 0.7`);
    assert.ok(r[1] < r[0] - 0.1, `walk ${i} sliding 30% scores ${r[1]} vs planted ${r[0]}`);
    assert.ok(r[2] < r[1] - 0.1, `walk ${i} sliding 100% scores ${r[2]} vs 30% ${r[1]}`);
  }
});

Deno.test("physicsReward() ignores padding frames and reports NaN features as NaN", async () => {
  const { features, T } = miniFeatures(1, "walk", 0);
  const L = 30, Tp = 40, B = 3;
  const x = new Float32Array(B * Tp * F); // (B, Tp, F)
  const rng = new Rng(5, 2);
  for (let b = 0; b < B; b++) {
    x.set(features.subarray(0, L * F), b * Tp * F);
    // Padding: garbage in sample 0, NaN in sample 1.
    for (let i = L * F; i < Tp * F; i++) x[b * Tp * F + i] = b === 1 ? NaN : 50 * rng.normal();
  }
  // Sample 2: one NaN inside its valid frames.
  x[2 * Tp * F + 10 * F + 20] = NaN;
  assert.ok(T >= L);
  const mean = be.tensor([F]), std = be.tensor([F], new Float32Array(F).fill(1));
  const res = await physicsReward(be, be.tensor([B, Tp, F], x), mean, std, [L, L, L], T2M);
  const ref = await physicsReward(
    be,
    be.tensor([1, L, F], features.subarray(0, L * F)),
    mean,
    std,
    [L],
    T2M,
  );
  assert.equal(res.reward[0], ref.reward[0]);
  assert.equal(res.jerk[1], ref.jerk[0]);
  assert.ok(Number.isNaN(res.reward[2]) && Number.isNaN(res.skate[2]));
  assert.equal(res.nonFinite, 1);
});

Deno.test("physicsReward() rejects features of the wrong width", async () => {
  const x = be.tensor([1, 4, 10]), m = be.tensor([10]), s = be.tensor([10]);
  await assert.rejects(() => physicsReward(be, x, m, s, [4], T2M), RangeError);
});
