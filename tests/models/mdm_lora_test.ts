/**
 * LoRA on the MDM denoiser (CPU backend): against a hand-built PyTorch LoRA (outputs, gradients of
 * every A and B), disabled adapters = the base model bit for bit, merged weights = adapters.
 */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { LORA_TARGETS } from "../../models/mdm/lora.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";
import { assertClose } from "../_util.ts";
import {
  assertSame,
  f32,
  FIXTURE_B as B,
  FIXTURE_T as T,
  fixtureAdapterNames,
  fixtureConfig,
  fixtureInput,
  fixtureWeights,
  loraFixtureModel,
  readFixture,
} from "./_mdm_fixture.ts";

async function loraModel() {
  const be = createCpuBackend();
  // No maxBatch/maxFrames: the first forward re-plans, adapters' buffers included.
  return { be, ...(await loraFixtureModel(be, {})) };
}

Deno.test("MDM LoRA forward and adapter gradients match a hand-built PyTorch LoRA", async () => {
  const { be, cfg, fx, model, input } = await loraModel();
  model.zeroGrad();
  const out = await be.read(model.forward(input, B, T));
  assertClose(out.subarray(0, B * T * cfg.nfeats), f32(fx, "output"), 1e-5, 1e-4, "LoRA output");
  model.backward(be.tensor([B, T, cfg.nfeats], f32(fx, "R")));
  assert.equal(model.grads.size, 0, "base weights are frozen: no base gradients");
  const trainable = model.trainable();
  assert.equal(trainable.length, cfg.layers * LORA_TARGETS.length * 2);
  const names = fixtureAdapterNames(cfg.layers, "grad.lora");
  for (const p of trainable) {
    assertClose(await be.read(p.grad), f32(fx, names.get(p.name)!), 1e-5, 1e-3, p.name);
  }
});

Deno.test("MDM with adapters disabled is the base model bit for bit", async () => {
  const { be, cfg, model, input } = await loraModel();
  const base = MdmDenoiser.fromStateDict(be, await fixtureWeights("a"), cfg, {
    maxBatch: B,
    maxFrames: T,
  });
  const n = B * T * cfg.nfeats;
  const ref = (await be.read(base.forward(input, B, T))).slice(0, n);
  model.setAdaptersEnabled(false);
  assertSame((await be.read(model.forward(input, B, T))).subarray(0, n), ref, "disabled");
  assert.throws(() => model.backward(be.tensor([B, T, cfg.nfeats])), /adapters disabled/);
  model.setAdaptersEnabled(true);
  const on = await be.read(model.forward(input, B, T));
  assert.ok(on.some((v, i) => v !== ref[i]), "the adapters change the output");
});

Deno.test("MDM LoRA merged into the weights gives the adapters' output", async () => {
  const { be, cfg, model, input } = await loraModel();
  const n = B * T * cfg.nfeats;
  const withAdapters = (await be.read(model.forward(input, B, T))).slice(0, n);
  const merged = MdmDenoiser.fromStateDict(be, await model.toStateDict(), cfg, {
    maxBatch: B,
    maxFrames: T,
  });
  const out = await be.read(merged.forward(input, B, T));
  assertClose(out.subarray(0, n), withAdapters, 1e-5, 1e-4, "merged output");
  // Unmerged save keeps the base weights.
  const plain = await model.toStateDict(false);
  const w = "seqTransEncoder.layers.0.linear1.weight";
  assertSame(plain.get(w)!.data as Float32Array, await be.read(model.params.get(w)!), w);
});

Deno.test("fresh LoRA adapters (B = 0) leave the model unchanged and are seeded", async () => {
  const be = createCpuBackend();
  const cfg = await fixtureConfig("a");
  const fx = await readFixture("mdm_a.safetensors");
  const weights = await fixtureWeights("a");
  const make = (seed: number) =>
    MdmDenoiser.fromStateDict(be, weights, cfg, {
      training: "lora",
      lora: { rank: 2, alpha: 4, seed },
      maxBatch: B,
      maxFrames: T,
    });
  const base = MdmDenoiser.fromStateDict(be, weights, cfg, { maxBatch: B, maxFrames: T });
  const input = fixtureInput(be, fx, cfg.nfeats);
  const ref = (await be.read(base.forward(input, B, T))).slice();
  const a = make(5), b = make(5), c = make(6);
  assertSame(await be.read(a.forward(input, B, T)), ref, "fresh adapters");
  const aA = (await a.loraStateDict()).get("seqTransEncoder.layers.1.linear2.lora_A.weight")!;
  const bA = (await b.loraStateDict()).get("seqTransEncoder.layers.1.linear2.lora_A.weight")!;
  const cA = (await c.loraStateDict()).get("seqTransEncoder.layers.1.linear2.lora_A.weight")!;
  assert.deepEqual(aA.shape, [2, cfg.ffSize]);
  assertSame(aA.data as Float32Array, bA.data as Float32Array, "same seed");
  assert.ok((aA.data as Float32Array).some((v, i) => v !== cA.data[i]), "seeds differ");
  const bound = 1 / Math.sqrt(cfg.ffSize);
  assert.ok((aA.data as Float32Array).every((v) => Math.abs(v) <= bound && v !== 0));
});
