/**
 * Pretraining learns (the loss on a fixed evaluation batch drops over 30 steps), and cropping a
 * batch to its longest clip leaves a frame-masked model's prediction on valid frames unchanged.
 */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";
import { HashedBagOfWords } from "../../train/pretrain/hashed_bag_of_words.ts";
import { PretrainStepper } from "../../train/pretrain/pretrain_step.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { frameMaskHost } from "../../diffusion/sampler.ts";
import { assertClose } from "../_util.ts";
import { TINY, tinyMiniDataset } from "./_pretrain_fixture.ts";

Deno.test("PretrainStepper.step() lowers the loss of a tiny MDM in 30 steps", async () => {
  const data = await tinyMiniDataset();
  try {
    const be = createCpuBackend();
    const load = (seed: number) =>
      HumanMLDataset.load({ dataset: "humanml", dataRoot: data, split: "train", seed });
    const train = await load(1), held = await load(2);
    const B = 8;
    const evalBatch = held.nextBatch(B);
    const featurizer = new HashedBagOfWords(16, 0);
    const config = { nfeats: 263, ...TINY, textDim: 16, maskFrames: true };
    const model = MdmDenoiser.random(be, config, 3, { maxBatch: B, training: "full" });
    const stepper = new PretrainStepper(model, cosineTables(50), featurizer, {
      condMaskProb: 0.1,
      lr: 3e-3,
      weightDecay: 0,
      gradClip: 1,
      emaDecay: 0.9,
      seed: 4,
      lossReduction: "mdm",
      maxBatch: B,
      maxFrames: 196,
    });
    const before = await stepper.evalLoss(evalBatch, 9);
    assert.equal(await stepper.evalLoss(evalBatch, 9), before, "evaluation is deterministic");
    const losses: number[] = [];
    for (let s = 0; s < 30; s++) losses.push((await stepper.step(train.nextBatch(B))).loss);
    const after = await stepper.evalLoss(evalBatch, 9);
    assert.equal(stepper.stepCount, 30);
    assert.ok(losses.every(Number.isFinite), "every training loss is finite");
    assert.ok(after < 0.8 * before, `eval loss ${before.toFixed(4)} -> ${after.toFixed(4)}`);
    stepper.free();
    model.destroy();
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("cropping to the longest clip keeps a frame-masked MDM's valid predictions", async () => {
  const be = createCpuBackend();
  const B = 2, F = 263, D = 8, Tpad = 40, T = 24;
  const lengths = new Int32Array([24, 13]);
  const config = { nfeats: F, ...TINY, textDim: D, maskFrames: true };
  const model = MdmDenoiser.random(be, config, 5, { maxBatch: B, maxFrames: Tpad });
  const rng = new Rng(6, 0);
  const xPad = Float32Array.from({ length: B * Tpad * F }, () => rng.normal()); // (B, Tpad, F)
  const xCrop = new Float32Array(B * T * F); // (B, T, F)
  for (let b = 0; b < B; b++) {
    xCrop.set(xPad.subarray(b * Tpad * F, (b * Tpad + T) * F), b * T * F);
  }
  const text = be.tensor([B, D], Float32Array.from({ length: B * D }, () => rng.normal()));
  const run = async (x: Float32Array, TT: number) => {
    const out = model.forward(
      {
        x: be.tensor([B, TT, F], x),
        timesteps: new Int32Array([3, 40]),
        text,
        condMask: new Float32Array([1, 1]),
        frameMask: be.tensor([B, TT], frameMaskHost(lengths, B, TT)),
        lengths,
      },
      B,
      TT,
    );
    return Float32Array.from((await be.read(out)).subarray(0, B * TT * F));
  };
  const pad = await run(xPad, Tpad), crop = await run(xCrop, T);
  for (let b = 0; b < B; b++) {
    const n = lengths[b] * F;
    assertClose(
      crop.subarray(b * T * F, b * T * F + n),
      pad.subarray(b * Tpad * F, b * Tpad * F + n),
      1e-5,
      1e-5,
      `sample ${b}`,
    );
  }
  model.destroy();
});
