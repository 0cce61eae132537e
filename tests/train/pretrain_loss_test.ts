/**
 * MDM's masked x0 loss: value against a float64 reference, gradient against finite differences,
 * and gradient clipping and the weight EMA on hand-made values.
 */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import {
  allocMaskedMseScratch,
  frameLossWeights,
  type LossReduction,
  maskedMse,
} from "../../train/pretrain/loss.ts";
import { GradClipper } from "../../train/pretrain/clip_grad_norm.ts";
import { WeightEma } from "../../train/pretrain/ema.ts";
import { assertClose } from "../_util.ts";

const be = createCpuBackend();
const B = 3, T = 4, F = 5, n = B * T * F;
const lengths = new Int32Array([4, 2, 3]);

function toy(): { pred: Float32Array; target: Float32Array } {
  const rng = new Rng(11, 1);
  const pred = Float32Array.from({ length: n }, () => rng.normal());
  const target = Float32Array.from({ length: n }, () => rng.normal());
  return { pred, target };
}

function reference(pred: Float32Array, target: Float32Array, reduction: LossReduction): number {
  let total = 0, count = 0;
  const per: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < lengths[b] * F; i++) {
      s += (pred[b * T * F + i] - target[b * T * F + i]) ** 2;
    }
    per.push(s / (lengths[b] * F));
    total += s;
    count += lengths[b] * F;
  }
  return reduction === "mdm" ? per.reduce((a, x) => a + x, 0) / B : total / count;
}

Deno.test("maskedMse() equals the per-sample then batch mean over valid frames", async () => {
  const { pred, target } = toy();
  const scratch = allocMaskedMseScratch(be, B, T);
  for (const red of ["mdm", "pooled"] as const) {
    const w = frameLossWeights(lengths, B, T, F, red);
    const loss = await maskedMse(
      be,
      null,
      be.tensor([B, T, F], pred),
      be.tensor([B, T, F], target),
      w,
      scratch,
      B,
      T,
      F,
    );
    assertClose([loss], [reference(pred, target, red)], 1e-6, 1e-6, `loss (${red})`);
  }
  const mdm = frameLossWeights(lengths, B, T, F, "mdm");
  assert.equal(mdm[1 * T + 2], 0, "padding has weight 0");
});

Deno.test("maskedMse() gradient matches central finite differences", async () => {
  const { pred, target } = toy();
  const scratch = allocMaskedMseScratch(be, B, T);
  const w = frameLossWeights(lengths, B, T, F, "mdm");
  const tTarget = be.tensor([B, T, F], target), tPred = be.tensor([B, T, F], pred);
  const dpred = be.tensor([B, T, F]);
  await maskedMse(be, dpred, tPred, tTarget, w, scratch, B, T, F);
  const grad = await be.read(dpred);
  const fd = new Float64Array(n);
  const h = 1e-2;
  for (let i = 0; i < n; i++) {
    const p = Float32Array.from(pred);
    p[i] = pred[i] + h;
    be.write(tPred, p);
    const up = await maskedMse(be, null, tPred, tTarget, w, scratch, B, T, F);
    p[i] = pred[i] - h;
    be.write(tPred, p);
    const down = await maskedMse(be, null, tPred, tTarget, w, scratch, B, T, F);
    fd[i] = (up - down) / (2 * h);
  }
  // The loss is quadratic, so central differences are exact up to float32 rounding of the sums.
  assertClose(grad, fd, 2e-5, 1e-3, "dloss/dx0hat");
  assert.equal(grad[(1 * T + 3) * F], 0, "padded frames get no gradient");
  assert.ok(grad.some((g) => Math.abs(g) > 1e-3), "the gradient is not trivially zero");
});

Deno.test("GradClipper.clip() measures the global norm and rescales above the limit", async () => {
  const mk = (v: number[]) => ({
    name: String(v),
    param: be.tensor([v.length]),
    grad: be.tensor([v.length], v),
  });
  const params = [mk([3, 0]), mk([0, 4, 0])];
  const clipper = new GradClipper(be, params);
  assertClose([await clipper.clip(params, 10)], [5], 1e-6, 0, "norm, no clipping");
  assertClose(await be.read(params[0].grad), [3, 0], 0, 0, "unchanged below the limit");
  assertClose([await clipper.clip(params, 1)], [5], 1e-6, 0, "norm before clipping");
  assertClose(await be.read(params[1].grad), [0, 0.8, 0], 1e-6, 0, "scaled to norm 1");
});

Deno.test("WeightEma.update() averages with the decay from the initial weights", async () => {
  const p = { name: "w", param: be.tensor([2], [1, 2]), grad: be.tensor([2]) };
  const ema = new WeightEma(be, [p], 0.9);
  be.write(p.param, new Float32Array([11, 12]));
  ema.update();
  assertClose(await be.read(ema.avg[0]), [2, 3], 1e-6, 0, "0.9 * old + 0.1 * new");
  const sd = await ema.stateDict();
  assert.deepEqual([...sd.keys()], ["w"]);
});
