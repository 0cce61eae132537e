/** Loading TMR's files, the one-token (vae false) encoder, and retrieval scores. */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { loadTmrEncoder, loadTmrStats } from "../../models/tmr/load.ts";
import { tmrScoreMatrix } from "../../models/tmr/score.ts";
import { assertClose } from "../_util.ts";
import {
  readTmrFixture,
  tf32,
  TMR_B as B,
  TMR_T_TEXT as T,
  tmrGoldenPath,
} from "./_tmr_fixture.ts";

Deno.test("loadTmrEncoder() infers a one-token encoder that matches PyTorch", async () => {
  const be = createCpuBackend(), fx = await readTmrFixture();
  const enc = await loadTmrEncoder(be, tmrGoldenPath("tmr_single.pt"), {
    training: true,
    maxBatch: B,
    maxFrames: T,
  });
  assert.deepEqual(enc.config, {
    nfeats: 12,
    latentDim: 32,
    ffSize: 64,
    layers: 1,
    heads: 4,
    vae: false,
  });
  assert.equal(enc.tokenCount, 1);
  const C = 32;
  enc.zeroGrad();
  const out = enc.forward(
    be.tensor([B, T, 12], tf32(fx, "single.x")),
    tf32(fx, "text.lengths"),
    B,
    T,
  );
  assert.equal(out.logvar, null);
  assertClose((await be.read(out.mu)).subarray(0, B * C), tf32(fx, "single.mu"), 1e-5, 1e-4, "mu");
  const dmu = be.tensor([B, C], tf32(fx, "R.single_mu"));
  assert.throws(() => enc.backward(dmu, { dlogvar: dmu }), /dlogvar given but vae is false/);
  enc.backward(dmu);
  for (const [name, grad] of enc.grads) {
    assertClose(await be.read(grad), tf32(fx, `grad.single.${name}`), 1e-5, 1e-3, name);
  }
  enc.destroy();
  be.destroy();
});

Deno.test("loadTmrStats() reads TMR's mean.pt and std.pt", async () => {
  const fx = await readTmrFixture();
  const stats = await loadTmrStats(tmrGoldenPath("stats"));
  assertClose(stats.mean, tf32(fx, "motion.mean"), 0, 0, "mean");
  assertClose(stats.std, tf32(fx, "motion.std"), 0, 0, "std");
  await assert.rejects(() => loadTmrStats(tmrGoldenPath("missing_dir")));
});

Deno.test("tmrScoreMatrix() gives TMR's cos / 2 + 0.5", () => {
  const x = [1, 0, 0, 2], y = [3, 0, -1, 0, 1, 1];
  const s = tmrScoreMatrix(x, y, 2);
  assertClose(s, [1, 0, 0.5 + Math.SQRT1_2 / 2, 0.5, 0.5, 0.5 + Math.SQRT1_2 / 2], 1e-12, 0, "s");
  assertClose(
    tmrScoreMatrix(x, y, 2, true),
    [1, -1, Math.SQRT1_2, 0, 0, Math.SQRT1_2],
    1e-12,
    0,
    "cos",
  );
  assert.throws(() => tmrScoreMatrix([1, 2, 3], y, 2), /not whole rows of 2/);
});
