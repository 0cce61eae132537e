import assert from "node:assert/strict";
import { DistilBertFeaturizer } from "../../models/text/distilbert.ts";
import { loadOfficialTmrEncoder } from "../../models/text/official_tmr.ts";
import { TextAssetError } from "../../models/text/assets.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { assertClose } from "../_util.ts";
import { onnxDeviceFor } from "../../onnx/session.ts";
import { withTextPrefetch } from "../../rewards/encoder.ts";
import { goldenFiles, readTextGolden, TEXT_GOLDEN_DIR } from "./_text_fixture.ts";

const golden = await readTextGolden();
const files = goldenFiles("distilbert");
const maxLength = golden.distilbert.max_length;

Deno.test("DistilBertFeaturizer reproduces PyTorch's last_hidden_state of every token", async () => {
  const f = await DistilBertFeaturizer.load({ files, maxLength });
  try {
    const cases = golden.distilbert.cases, W = golden.distilbert.dim;
    assert.equal(f.dim, W);
    assert.match(f.name, /^distilbert@sha256:[0-9a-f]{64}$/);
    // Batched in a different order than the fixture (other padding): valid rows must not move.
    const order = [2, 4, 0, 3, 1];
    const out = await f.features(order.map((i) => cases[i].text));
    assert.deepEqual([...out.lengths], order.map((i) => cases[i].ids.length));
    assert.equal(out.L, maxLength);
    order.forEach((i, k) => {
      const n = cases[i].ids.length;
      assert.deepEqual(f.tokenize(cases[i].text), cases[i].ids, cases[i].text);
      const rows = out.x.subarray(k * out.L * W, (k * out.L + n) * W); // (n, W)
      // float32 ORT vs float32 PyTorch: atol 1e-5 + rtol 1e-4.
      assertClose(rows, cases[i].last_hidden_state, 1e-5, 1e-4, cases[i].text);
      const pad = out.x.subarray((k * out.L + n) * W, (k + 1) * out.L * W);
      assert.ok(pad.every((v) => v === 0), `padding rows of ${cases[i].text} are zero`);
    });
    // Alone (no padding at all) gives the same rows.
    const alone = await f.features([cases[0].text]);
    assertClose(alone.x, cases[0].last_hidden_state, 1e-5, 1e-4, "alone");
  } finally {
    await f.release();
  }
});

Deno.test("loadOfficialTmrEncoder() chains DistilBERT into TMR's text encoder and normalises motions", async () => {
  const be = createCpuBackend();
  const tmr = `${TEXT_GOLDEN_DIR}/tmr`;
  const enc = await loadOfficialTmrEncoder(be, {
    textEncoder: `${tmr}/text_encoder.pt`,
    motionEncoder: `${tmr}/motion_encoder.pt`,
  }, { files, maxLength });
  try {
    const g = golden.tmr, D = 32;
    assert.equal(enc.dim, D);
    const texts = golden.distilbert.cases.map((c) => c.text);
    const mu = await enc.encodeTexts(texts); // (5, D)
    // ORT features then the engine's encoder vs PyTorch end to end: atol 1e-5 + rtol 1e-4.
    assertClose(mu, g.text_mu, 1e-5, 1e-4, "text mu");
    const again = await enc.encodeTexts([texts[3], texts[3]]); // memo
    assert.deepEqual(again.subarray(0, D), mu.subarray(3 * D, 4 * D));
    assert.deepEqual(again.subarray(D), mu.subarray(3 * D, 4 * D));
    // A prefetch in flight (withTextPrefetch): the same call takes its result, the same mu.
    const other = withTextPrefetch(
      await loadOfficialTmrEncoder(be, {
        textEncoder: `${tmr}/text_encoder.pt`,
        motionEncoder: `${tmr}/motion_encoder.pt`,
      }, { files, maxLength }),
    );
    try {
      other.prefetchTexts([texts[0], texts[4]]);
      assert.deepEqual(
        await other.encodeTexts([texts[0], texts[4]]),
        Float32Array.from([
          ...mu.subarray(0, D),
          ...mu.subarray(4 * D, 5 * D),
        ]),
      );
    } finally {
      await other.release!();
    }
    const N = g.motion_lengths.length, T = g.motion_frames;
    const motion = await enc.encodeMotions(Float32Array.from(g.motion_raw), g.motion_lengths, N, T);
    assertClose(motion, g.motion_mu, 1e-5, 1e-4, "motion mu");
  } finally {
    await enc.release();
  }
});

Deno.test("loadOfficialTmrEncoder() names the folders searched when mean.pt/std.pt are missing", async () => {
  const be = createCpuBackend();
  const dir = await Deno.makeTempDir();
  const saved = Deno.env.get("MOTION_GRPO_ASSETS");
  try {
    Deno.env.delete("MOTION_GRPO_ASSETS");
    await Deno.mkdir(`${dir}/w`);
    for (const n of ["text_encoder.pt", "motion_encoder.pt"]) {
      await Deno.copyFile(`${TEXT_GOLDEN_DIR}/tmr/${n}`, `${dir}/w/${n}`);
    }
    await assert.rejects(
      () =>
        loadOfficialTmrEncoder(be, {
          textEncoder: `${dir}/w/text_encoder.pt`,
          motionEncoder: `${dir}/w/motion_encoder.pt`,
        }, { files, maxLength }),
      (e: Error) =>
        e instanceof TextAssetError && e.message.includes(`"${dir}/w", "${dir}"`) &&
        /mean\.pt and std\.pt/.test(e.message) && /MOTION_GRPO_ASSETS is not set/.test(e.message),
    );
  } finally {
    if (saved !== undefined) Deno.env.set("MOTION_GRPO_ASSETS", saved);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("onnxDeviceFor() puts frozen networks on WebGPU beside WebGPU, on WASM beside the CPU", () => {
  assert.equal(onnxDeviceFor({ kind: "cpu" }), "wasm");
  assert.equal(onnxDeviceFor({ kind: "webgpu" }), "webgpu");
});
