/** TmrEncoder on the cpu backend against PyTorch (tools/make_golden_tmr.py). */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { float32Tensor, type StateDict } from "../../models/checkpoint/state_dict.ts";
import { inferTmrConfig, TMR_MOTION_CONFIG, tmrParamShapes } from "../../models/tmr/config.ts";
import { TmrEncoder } from "../../models/tmr/encoder.ts";
import { assertClose } from "../_util.ts";
import {
  readTmrFixture,
  tf32,
  TMR_B as B,
  TMR_FIXTURE_CONFIGS,
  TMR_T_MOTION,
  TMR_T_TEXT,
  tmrFixtureWeights,
} from "./_tmr_fixture.ts";

const SIDES = [
  { side: "motion" as const, T: TMR_T_MOTION },
  { side: "text" as const, T: TMR_T_TEXT },
];

Deno.test("TmrEncoder.forward() matches PyTorch's mu and logvar (motion and text)", async () => {
  const be = createCpuBackend(), fx = await readTmrFixture();
  for (const { side, T } of SIDES) {
    const cfg = TMR_FIXTURE_CONFIGS[side];
    // Default plan (batch 1): the call re-plans to (B, T).
    const enc = TmrEncoder.fromStateDict(be, await tmrFixtureWeights(side), cfg);
    const x = be.tensor([B, T, cfg.nfeats], tf32(fx, `${side}.x`));
    const out = enc.forward(x, tf32(fx, `${side}.lengths`), B, T);
    const C = cfg.latentDim;
    assertClose(
      (await be.read(out.mu)).subarray(0, B * C),
      tf32(fx, `${side}.mu`),
      1e-5,
      1e-4,
      `${side} mu`,
    );
    assertClose(
      (await be.read(out.logvar!)).subarray(0, B * C),
      tf32(fx, `${side}.logvar`),
      1e-5,
      1e-4,
      `${side} logvar`,
    );
    enc.destroy();
  }
  be.destroy();
});

Deno.test("TmrEncoder.backward() matches PyTorch's parameter and input gradients", async () => {
  const be = createCpuBackend(), fx = await readTmrFixture();
  for (const { side, T } of SIDES) {
    const cfg = TMR_FIXTURE_CONFIGS[side], C = cfg.latentDim;
    const enc = TmrEncoder.fromStateDict(be, await tmrFixtureWeights(side), cfg, {
      training: true,
      maxBatch: B,
      maxFrames: T,
    });
    enc.zeroGrad();
    const x = be.tensor([B, T, cfg.nfeats], tf32(fx, `${side}.x`));
    enc.forward(x, tf32(fx, `${side}.lengths`), B, T);
    const dx = side === "motion" ? be.tensor([B, T, cfg.nfeats]) : null;
    enc.backward(be.tensor([B, C], tf32(fx, `loss.dmu_${side}`)), {
      dlogvar: be.tensor([B, C], tf32(fx, `R.${side}_logvar`)),
      dx,
    });
    assert.equal(enc.grads.size, tmrParamShapes(cfg).size);
    for (const [name, grad] of enc.grads) {
      assertClose(
        await be.read(grad),
        tf32(fx, `grad.${side}.${name}`),
        1e-5,
        1e-3,
        `${side} ${name}`,
      );
    }
    if (dx) assertClose(await be.read(dx), tf32(fx, "grad.motion.input"), 1e-5, 1e-3, "d input");
    enc.destroy();
  }
  be.destroy();
});

Deno.test("TmrEncoder.backward() without training gives the input gradient alone", async () => {
  const be = createCpuBackend(), fx = await readTmrFixture();
  const cfg = TMR_FIXTURE_CONFIGS.motion, C = cfg.latentDim, T = TMR_T_MOTION;
  const enc = TmrEncoder.fromStateDict(be, await tmrFixtureWeights("motion"), cfg, {
    maxBatch: B,
    maxFrames: T,
  });
  const x = be.tensor([B, T, cfg.nfeats], tf32(fx, "motion.x"));
  enc.forward(x, tf32(fx, "motion.lengths"), B, T);
  const dmu = be.tensor([B, C], tf32(fx, "loss.dmu_motion"));
  assert.throws(() => enc.backward(dmu), /without training and no dx/);
  const dx = be.tensor([B, T, cfg.nfeats]);
  enc.backward(dmu, { dlogvar: be.tensor([B, C], tf32(fx, "R.motion_logvar")), dx });
  assert.equal(enc.grads.size, 0);
  assertClose(await be.read(dx), tf32(fx, "grad.motion.input"), 1e-5, 1e-3, "d input");
  enc.destroy();
  be.destroy();
});

Deno.test("TmrEncoder.forward() ignores padded frames", async () => {
  const be = createCpuBackend(), fx = await readTmrFixture();
  const cfg = TMR_FIXTURE_CONFIGS.text, T = TMR_T_TEXT, F = cfg.nfeats, C = cfg.latentDim;
  const enc = TmrEncoder.fromStateDict(be, await tmrFixtureWeights("text"), cfg, { maxBatch: B });
  const lengths = tf32(fx, "text.lengths");
  const host = tf32(fx, "text.x");
  const a = Float32Array.from(
    (await be.read(enc.forward(be.tensor([B, T, F], host), lengths, B, T).mu)).subarray(0, B * C),
  );
  const changed = Float32Array.from(host);
  for (let b = 0; b < B; b++) {
    for (let t = lengths[b]; t < T; t++) changed.fill(1e3, (b * T + t) * F, (b * T + t + 1) * F);
  }
  const c = (await be.read(enc.forward(be.tensor([B, T, F], changed), lengths, B, T).mu)).subarray(
    0,
    B * C,
  );
  assertClose(c, a, 0, 0, "mu with other padding");
  // Without lengths every frame is attended: the output must change.
  const d = (await be.read(enc.forward(be.tensor([B, T, F], changed), null, B, T).mu)).subarray(
    0,
    B * C,
  );
  assert.ok(d.some((v, i) => Math.abs(v - a[i]) > 1e-3), "unmasked padding changes mu");
  enc.destroy();
  be.destroy();
});

Deno.test("TmrEncoder.toStateDict() round-trips TMR's keys, order and values", async () => {
  const be = createCpuBackend();
  const sd = await tmrFixtureWeights("motion");
  const enc = TmrEncoder.fromStateDict(be, sd, TMR_FIXTURE_CONFIGS.motion);
  const back = await enc.toStateDict();
  assert.deepEqual([...back.keys()].sort(), [...sd.keys()].sort());
  assert.deepEqual([...back.keys()], [...tmrParamShapes(TMR_FIXTURE_CONFIGS.motion).keys()]);
  for (const [k, t] of sd) {
    assertClose(back.get(k)!.data as Float32Array, t.data as Float32Array, 0, 0, k);
  }
  enc.destroy();
  be.destroy();
});

Deno.test("inferTmrConfig() reads the sizes from the weights", async () => {
  const sd = await tmrFixtureWeights("text");
  assert.deepEqual(inferTmrConfig(sd), TMR_FIXTURE_CONFIGS.text);
  const full = new Map(
    [...tmrParamShapes(TMR_MOTION_CONFIG)].map((
      [k, s],
    ) => [k, float32Tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s)]),
  );
  assert.deepEqual(inferTmrConfig(full), TMR_MOTION_CONFIG);
});

Deno.test("TmrEncoder.fromStateDict() names the missing, misshapen or unexpected key", async () => {
  const be = createCpuBackend();
  const sd = await tmrFixtureWeights("motion");
  const cfg = TMR_FIXTURE_CONFIGS.motion;
  const without: StateDict = new Map(sd);
  without.delete("seqTransEncoder.layers.1.norm2.bias");
  assert.throws(
    () => TmrEncoder.fromStateDict(be, without, cfg, {}, "m.pt"),
    /Cannot load TMR encoder from "m.pt": missing key seqTransEncoder.layers.1.norm2.bias/,
  );
  const bad: StateDict = new Map(sd);
  bad.set("tokens", float32Tensor(new Float32Array(32), [1, 32]));
  assert.throws(
    () => TmrEncoder.fromStateDict(be, bad, cfg, {}, "m.pt"),
    /tokens has shape \[1,32\], expected \[2,32\]/,
  );
  const extra: StateDict = new Map(sd);
  extra.set("seqTransEncoder.layers.2.norm1.weight", float32Tensor(new Float32Array(32), [32]));
  assert.throws(
    () => TmrEncoder.fromStateDict(be, extra, cfg, {}, "m.pt"),
    /unexpected key seqTransEncoder.layers.2.norm1.weight/,
  );
  be.destroy();
});
