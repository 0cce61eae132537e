/**
 * MDM denoiser on the CPU backend against PyTorch (tools/make_golden.py): outputs, every named
 * parameter gradient, determinism, state-dict round trip, config parsing.
 */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";
import { loadMdm } from "../../models/mdm/load.ts";
import { mdmConfigFromArgs, mdmParamShapes } from "../../models/mdm/config.ts";
import { assertClose } from "../_util.ts";
import {
  assertSame,
  f32,
  FIXTURE_B as B,
  FIXTURE_T as T,
  fixtureConfig,
  fixtureInput,
  fixtureWeights,
  goldenPath,
  readFixture,
} from "./_mdm_fixture.ts";

const CASES = [
  { id: "a", what: "HumanML3D shapes, every frame attended" },
  { id: "b", what: "KIT shapes, mask_frames with lengths 20/13/7" },
];

for (const { id, what } of CASES) {
  Deno.test(`MdmDenoiser.forward() matches PyTorch (${what})`, async () => {
    const be = createCpuBackend();
    const cfg = await fixtureConfig(id);
    const fx = await readFixture(`mdm_${id}.safetensors`);
    const model = MdmDenoiser.fromStateDict(be, await fixtureWeights(id), cfg, {
      maxBatch: B,
      maxFrames: T,
    });
    const out = await be.read(model.forward(fixtureInput(be, fx, cfg.nfeats), B, T));
    assertClose(out, f32(fx, "output"), 1e-5, 1e-4, `mdm_${id} output`);
  });

  Deno.test(`MdmDenoiser.backward() matches every PyTorch parameter gradient (${what})`, async () => {
    const be = createCpuBackend();
    const cfg = await fixtureConfig(id);
    const fx = await readFixture(`mdm_${id}.safetensors`);
    const model = MdmDenoiser.fromStateDict(be, await fixtureWeights(id), cfg, {
      training: "full",
      maxBatch: B,
      maxFrames: T,
    });
    const input = fixtureInput(be, fx, cfg.nfeats);
    const r = be.tensor([B, T, cfg.nfeats], f32(fx, "R"));
    model.zeroGrad();
    const out = await be.read(model.forward(input, B, T));
    let loss = 0;
    const rh = f32(fx, "R");
    for (let i = 0; i < out.length; i++) loss += out[i] * rh[i];
    assertClose([loss], f32(fx, "loss"), 1e-4, 1e-5, "loss");
    model.backward(r);
    assert.equal(model.grads.size, mdmParamShapes(cfg).size);
    for (const [name, grad] of model.grads) {
      assertClose(await be.read(grad), f32(fx, `grad.${name}`), 1e-5, 1e-3, `grad ${name}`);
    }
    // Gradients accumulate: a second backward without zeroGrad doubles them.
    const once = await be.read(model.grads.get("embed_text.weight")!);
    model.backward(r);
    const twice = await be.read(model.grads.get("embed_text.weight")!);
    assertClose(twice, once.map((v) => 2 * v), 1e-6, 1e-6, "accumulated gradient");
  });
}

Deno.test("MdmDenoiser is bit-identical across two runs with the same seed", async () => {
  const cfg = { ...(await fixtureConfig("a")), maskFrames: true };
  const fx = await readFixture("mdm_a.safetensors");
  const run = async () => {
    const be = createCpuBackend();
    const model = MdmDenoiser.random(be, cfg, 7, { training: "full", maxBatch: B, maxFrames: T });
    const input = { ...fixtureInput(be, fx, cfg.nfeats), lengths: new Int32Array([20, 11, 3]) };
    const out = await be.read(model.forward(input, B, T));
    model.zeroGrad();
    model.backward(be.tensor([B, T, cfg.nfeats], f32(fx, "R")));
    return { out, grad: await be.read(model.grads.get("input_process.poseEmbedding.weight")!) };
  };
  const first = await run(), second = await run();
  assertSame(second.out, first.out, "output");
  assertSame(second.grad, first.grad, "gradient");
  assert.ok(first.out.some((v) => v !== 0));
});

Deno.test("MdmDenoiser.toStateDict() round-trips through fromStateDict()", async () => {
  const be = createCpuBackend();
  const cfg = await fixtureConfig("b");
  const fx = await readFixture("mdm_b.safetensors");
  const model = MdmDenoiser.fromStateDict(be, await fixtureWeights("b"), cfg);
  const sd = await model.toStateDict();
  assert.deepEqual(sd.get("sequence_pos_encoder.pe")!.shape, [5000, 1, cfg.latentDim]);
  const copy = MdmDenoiser.fromStateDict(be, sd, cfg);
  const input = fixtureInput(be, fx, cfg.nfeats);
  // predictX0 on a smaller plan re-plans once and must give the same numbers as forward.
  const out = be.tensor([B, T, cfg.nfeats]);
  copy.predictX0(out, input, B, T);
  const n = B * T * cfg.nfeats;
  assertSame(await be.read(out), (await be.read(model.forward(input, B, T))).subarray(0, n), "out");
});

Deno.test("MdmDenoiser frame mask as a tensor equals the mask from lengths", async () => {
  const be = createCpuBackend();
  const cfg = await fixtureConfig("b");
  const fx = await readFixture("mdm_b.safetensors");
  const model = MdmDenoiser.fromStateDict(be, await fixtureWeights("b"), cfg, { maxBatch: B });
  const input = fixtureInput(be, fx, cfg.nfeats);
  const n = B * T * cfg.nfeats;
  const byLengths = (await be.read(model.forward(input, B, T))).slice(0, n);
  const mask = new Float32Array(B * T);
  input.lengths!.forEach((len, b) => mask.fill(1, b * T, b * T + len));
  const frameMask = be.tensor([B, T], mask);
  const byTensor = await be.read(model.forward({ ...input, lengths: null, frameMask }, B, T));
  assertSame(byTensor.subarray(0, n), byLengths, "output");
});

Deno.test("mdmConfigFromArgs() reads MDM's args.json fields and rejects others", () => {
  const cfg = mdmConfigFromArgs({ dataset: "kit", latent_dim: 256, layers: 4, mask_frames: true });
  assert.deepEqual(cfg, {
    nfeats: 251,
    latentDim: 256,
    layers: 4,
    ffSize: 1024,
    heads: 4,
    textDim: 512,
    maskFrames: true,
  });
  assert.throws(
    () => mdmConfigFromArgs({ dataset: "babel" }, "x/args.json"),
    /x\/args\.json.*babel/,
  );
  assert.throws(() => mdmConfigFromArgs({ arch: "trans_dec" }), /trans_dec/);
  assert.throws(() => mdmConfigFromArgs({ latent_dim: 66, heads: 4 }), /divisible/);
});

Deno.test("MdmDenoiser.fromStateDict() names the missing or misshapen key", async () => {
  const be = createCpuBackend();
  const cfg = await fixtureConfig("a");
  const full = await fixtureWeights("a");
  const sd = new Map(full);
  sd.delete("embed_text.bias");
  assert.throws(
    () => MdmDenoiser.fromStateDict(be, sd, cfg, {}, "m.pt"),
    /m\.pt.*embed_text\.bias/,
  );
  assert.throws(
    () => MdmDenoiser.fromStateDict(be, full, { ...cfg, nfeats: 251 }),
    /poseEmbedding\.weight has shape \[64,263\]/,
  );
});

Deno.test("loadMdm() reads args.json and the EMA weights of a checkpoint", async () => {
  const be = createCpuBackend();
  const fx = await readFixture("mdm_a.safetensors");
  const model = await loadMdm(be, goldenPath("mdm_a.pt"), {
    argsPath: goldenPath("mdm_a_args.json"),
    maxBatch: B,
    maxFrames: T,
  });
  assert.equal(model.nfeats, 263);
  const out = await be.read(model.forward(fixtureInput(be, fx, 263), B, T));
  assertClose(out, f32(fx, "output"), 1e-5, 1e-4, "output");
});
