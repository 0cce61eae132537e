/**
 * onnxruntime-web's WebGPU backend on the engine's device. Skipped without an adapter and, by
 * default, on software adapters (llvmpipe): ORT's WebGPU kernels do work there (set
 * MOTION_GRPO_ORT_WEBGPU_SOFTWARE=1 to run them, ~10 s of shader compilation), but it adds little
 * over the WASM goldens.
 */
import assert from "node:assert/strict";
import { adapterDescription } from "../../kernels/webgpu/device.ts";
import { gpuIgnore } from "../../kernels/webgpu/probe.ts";
import { asStateDict, loadStateDictFile, loadTorchFile } from "../../models/checkpoint/torch_pt.ts";
import { toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { GraphBuilder } from "../../onnx/graph.ts";
import { createSession, type OnnxValue } from "../../onnx/session.ts";
import { convertT2mEvaluator, loadT2mEvaluator } from "../../onnx/t2m_evaluator.ts";
import { tmrEncoderToOnnx } from "../../onnx/tmr_encoder.ts";
import { ClipTextFeaturizer } from "../../models/text/clip_text.ts";
import { DistilBertFeaturizer } from "../../models/text/distilbert.ts";
import { assertClose } from "../_util.ts";
import { goldenFiles, readTextGolden } from "../models/_text_fixture.ts";

const GOLDEN = new URL("../golden/onnx/", import.meta.url).pathname;

const adapter = await adapterDescription();
const allowSoftware = Deno.env.get("MOTION_GRPO_ORT_WEBGPU_SOFTWARE") === "1";
const ignore = gpuIgnore || (adapter?.isSoftwareAdapter === true && !allowSoftware);
if (gpuIgnore) console.warn("session_webgpu_test: skipped, no WebGPU adapter");
else if (ignore) {
  console.warn(
    `session_webgpu_test: skipped on software adapter "${adapter?.description}" ` +
      "(set MOTION_GRPO_ORT_WEBGPU_SOFTWARE=1 to run)",
  );
}

Deno.test({
  name: "createSession() on WebGPU runs MatMul + LeakyRelu like the WASM backend",
  ignore,
  async fn() {
    const g = new GraphBuilder("mm");
    g.input("x", "float32", ["N", 3]);
    g.initializer("w", new Float32Array([1, -2, 3, 4, -5, 6]), [3, 2]);
    g.node("LeakyRelu", [g.op("MatMul", ["x", "w"])], ["y"], { alpha: 0.25 });
    g.output("y", "float32", ["N", 2]);
    const s = await createSession(g.toBytes(), { device: "webgpu" });
    try {
      assert.equal(s.device, "webgpu");
      const { y } = await s.run({
        x: { data: new Float32Array([1, 0, 2, 0, 1, 1]), dims: [2, 3] },
      });
      // rows: [1,0,2]·w = [1-10, -2+12] = [-9, 10]; [0,1,1]·w = [3-5, 4+6] = [-2, 10]
      assertClose(y.data as Float32Array, [-2.25, 10, -0.5, 10], 1e-6, 1e-6, "y");
    } finally {
      await s.release();
    }
  },
});

Deno.test({
  name: "convertT2mEvaluator() motion graph on WebGPU matches PyTorch",
  ignore,
  async fn() {
    const { motion } = convertT2mEvaluator(await loadT2mEvaluator(`${GOLDEN}t2m_evaluator.tar`));
    const ioPath = `${GOLDEN}t2m_evaluator_io.pt`;
    const io = asStateDict(await loadTorchFile(ioPath), ioPath);
    const feed = (k: string): OnnxValue => {
      const t = io.get(k)!;
      return { data: t.dtype === "int64" ? t.data as BigInt64Array : toFloat32(t), dims: t.shape };
    };
    const s = await createSession(motion, { device: "webgpu" });
    try {
      const r = await s.run({ motion: feed("motion"), lengths: feed("motion_lengths") });
      assertClose(
        r.embedding.data as Float32Array,
        feed("motion_embedding").data as Float32Array,
        1e-5,
        1e-4,
        `motion embedding on ${adapter?.description}`,
      );
    } finally {
      await s.release();
    }
  },
});

Deno.test({
  name: "tmrEncoderToOnnx() on WebGPU matches PyTorch",
  ignore,
  async fn() {
    const sd = await loadStateDictFile(`${GOLDEN}tmr_encoder.pt`);
    const ioPath = `${GOLDEN}tmr_encoder_io.pt`;
    const io = asStateDict(await loadTorchFile(ioPath), ioPath);
    const x = io.get("x")!, lengths = io.get("lengths")!;
    const s = await createSession(tmrEncoderToOnnx(sd), { device: "webgpu" });
    try {
      const r = await s.run({
        x: { data: toFloat32(x), dims: x.shape },
        lengths: { data: lengths.data as BigInt64Array, dims: lengths.shape },
      });
      assertClose(r.mu.data as Float32Array, toFloat32(io.get("mu")!), 1e-5, 1e-4, "mu");
    } finally {
      await s.release();
    }
  },
});

Deno.test({
  name: "CLIP and DistilBERT text towers on WebGPU match PyTorch, also when their runs overlap",
  ignore,
  async fn() {
    const golden = await readTextGolden();
    const clip = await ClipTextFeaturizer.load({ files: goldenFiles("clip"), device: "webgpu" });
    const bert = await DistilBertFeaturizer.load({
      files: goldenFiles("distilbert"),
      maxLength: golden.distilbert.max_length,
      device: "webgpu",
    });
    try {
      const clipTexts = golden.clip.cases.map((c) => c.text), D = golden.clip.dim;
      const bertTexts = golden.distilbert.cases.map((c) => c.text), W = golden.distilbert.dim;
      const emb = await clip.encode(clipTexts); // (n, D)
      const hidden = await bert.features(bertTexts); // (n, L, W)
      // float32 on the GPU vs float32 PyTorch: atol 1e-5 + rtol 1e-4.
      golden.clip.cases.forEach((c, k) => {
        assertClose(emb.subarray(k * D, (k + 1) * D), c.text_embeds, 1e-5, 1e-4, c.text);
      });
      golden.distilbert.cases.forEach((c, k) => {
        const at = k * hidden.L * W;
        assertClose(hidden.x.subarray(at, at + c.ids.length * W), c.last_hidden_state, 1e-5, 1e-4);
      });
      // Overlapping runs (a prefetch beside a reward) wait for each other: the same bits.
      const fresh = await ClipTextFeaturizer.load({ files: goldenFiles("clip"), device: "webgpu" });
      try {
        const [again, hiddenAgain] = await Promise.all([
          fresh.encode(clipTexts),
          bert.features(bertTexts),
        ]);
        assert.deepEqual(again, emb);
        assert.deepEqual(hiddenAgain.x, hidden.x);
      } finally {
        await fresh.release();
      }
    } finally {
      await clip.release();
      await bert.release();
    }
  },
});
