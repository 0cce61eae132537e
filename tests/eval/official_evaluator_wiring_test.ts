/**
 * The official T2M evaluator in `eval-humanml`: found under `$MOTION_GRPO_ASSETS` for a
 * CLIP-conditioned model, fed the dataset's tokens, released, and named when missing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  findEvaluator,
  loadEvaluator,
  locateEvaluator,
  UnavailableError,
} from "../../eval/run/load_assets.ts";
import { compositeCaptionTokens, runEvalHumanml } from "../../eval/run/run_eval_humanml.ts";
import { embedBatchTexts } from "../../eval/run/evaluate_model.ts";
import { readArgsJson } from "../../models/checkpoint/mdm_checkpoint.ts";
import { asStateDict, loadTorchFile } from "../../models/checkpoint/torch_pt.ts";
import { padTokens } from "../../datasets/humanml/text.ts";
import type { CompositeSample } from "../../datasets/composite/layout.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { adapterDescription } from "../../kernels/webgpu/device.ts";
import { gpuIgnore } from "../../kernels/webgpu/probe.ts";
import { assertClose, tempDir, withAssets } from "../_util.ts";
import { miniData, TINY_DEBUG } from "./_run_fixture.ts";
import { tinyDebugRun, writeTinyCheckpoint } from "./_checkpoint_fixture.ts";
import { writeTrainComposites } from "./_composite_fixture.ts";

const T2M = new URL("../golden/t2m/", import.meta.url).pathname;
const TEXT = new URL("../golden/text/", import.meta.url).pathname;
const CASES = JSON.parse(await Deno.readTextFile(`${T2M}cases.json`)) as {
  token_cases: string[][];
};
// Golden tolerance as in tests/models/t2m_official_evaluator_test.ts: float32 accumulation
// order differs between onnxruntime and PyTorch.
const ATOL = 1e-5, RTOL = 1e-4;

/**
 * Copies the fixtures into `root` in the layout of models/t2m/assets.ts (and CLIP's of
 * models/text/assets.ts when `clip`).
 */
async function assembleAssets(root: string, parts: { t2m: boolean; clip: boolean }) {
  const copy = async (from: string, to: string) => {
    await Deno.mkdir(join(root, to, ".."), { recursive: true });
    await Deno.copyFile(from, join(root, to));
  };
  if (parts.t2m) {
    await copy(`${T2M}finest.tar`, "t2m/text_mot_match/model/finest.tar");
    for (const f of ["our_vab_data.npy", "our_vab_words.pkl", "our_vab_idx.pkl"]) {
      await copy(`${T2M}glove/${f}`, `glove/${f}`);
    }
    await copy(`${T2M}t2m_mean.npy`, "dataset/t2m_mean.npy");
    await copy(`${T2M}t2m_std.npy`, "dataset/t2m_std.npy");
  }
  if (parts.clip) {
    for (const f of ["text_model.onnx", "tokenizer.json"]) {
      await copy(`${TEXT}clip/${f}`, `clip/${f}`);
    }
  }
  return root;
}

/**
 * A tiny CLIP-conditioned MDM (the fixture CLIP gives 16 features); text_encoder_type is absent,
 * as in every official MDM args.json: CLIP.
 */
function clipCheckpoint(dir: string): Promise<string> {
  return writeTinyCheckpoint(dir, "clip", {
    textDim: 16,
    omitTextEncoderType: true,
    extraArgs: { clip_dim: 16 },
  });
}

const tmp = await tempDir();
const full = await assembleAssets(`${tmp.path}/assets`, { t2m: true, clip: true });
const clipOnly = await assembleAssets(`${tmp.path}/clip_only`, { t2m: false, clip: true });
const model = await clipCheckpoint(`${tmp.path}/official`);
const data = await miniData(`${tmp.path}/mini`);
const run = tinyDebugRun(model, data);

Deno.test("eval-humanml names MOTION_GRPO_ASSETS and the evaluator's paths when they are missing", async () => {
  const oneLine = (pattern: RegExp) => (e: Error) => {
    assert.ok(e instanceof UnavailableError, String(e));
    assert.ok(!e.message.includes("\n"), e.message);
    assert.doesNotMatch(e.message, /not available in this version/);
    assert.match(e.message, pattern);
    return true;
  };
  // Nothing set: CLIP and the evaluator are both named, with the variable.
  await withAssets(null, () =>
    assert.rejects(
      runEvalHumanml(run, () => {}),
      oneLine(
        /^Cannot evaluate ".*model000000001\.pt": the CLIP .*MOTION_GRPO_ASSETS is not set.* was not found; the official T2M evaluator .*\[MOTION_GRPO_ASSETS is not set; .*t2m\/text_mot_match\/model\/finest\.tar, glove\/ and dataset\/t2m_mean\.npy.*\] was not found$/,
      ),
    ));
  // CLIP present, the evaluator missing: only the evaluator, with the folder and the path.
  await withAssets(clipOnly, () =>
    assert.rejects(
      runEvalHumanml(run, () => {}),
      oneLine(
        /^Cannot evaluate "[^"]*": the official T2M evaluator \(finest\.tar with GloVe\) \[the evaluator checkpoint not found \(MOTION_GRPO_ASSETS=.*clip_only; expected t2m\/text_mot_match\/model\/finest\.tar or .*\)\] was not found$/,
      ),
    ));
  // KIT-ML needs its own evaluator.
  const args = await readArgsJson(model);
  await withAssets(full, () =>
    assert.rejects(
      locateEvaluator(args, "kit"),
      /^UnavailableError: Cannot evaluate: the official T2M evaluator .*expected kit\/text_mot_match\/model\/finest\.tar/,
    ));
});

Deno.test("the official evaluator is found for a CLIP model and embeds the dataset's tokens exactly", async () => {
  const args = await readArgsJson(model);
  assert.equal(args.text_encoder_type, "clip");
  const where = await withAssets(full, () => locateEvaluator(args, "humanml"));
  assert.equal(where.profile, "official");
  if (where.profile !== "official") return;
  assert.equal(where.files.evaluatorPath, `${full}/t2m/text_mot_match/model/finest.tar`);
  assert.equal(where.files.meanPath, `${full}/dataset/t2m_mean.npy`);
  // A mini-conditioned model keeps the mini profile (whatever MOTION_GRPO_ASSETS holds).
  const mini = await withAssets(
    full,
    () => findEvaluator({ ...args, text_encoder_type: "mini-text" }, "humanml"),
  );
  if ("location" in mini) assert.equal(mini.location.profile, "mini");
  else assert.match(mini.problem, /^the mini evaluator \[looked for evaluator\/config\.json/);

  const be = createCpuBackend();
  const ev = await loadEvaluator(where, be);
  try {
    const ref = asStateDict(await loadTorchFile(`${T2M}reference.pt`), "reference.pt");
    const expected = ref.get("text_embedding")!; // (B, D)
    assert.equal(ev.name, "t2m-evaluator");
    assert.equal(ev.dim, expected.shape[1]);
    // A loader batch: padded tokens and sentence lengths; captions that are in no map.
    const padded = CASES.token_cases.map((t) => padTokens(t, 20));
    const batch = {
      captions: CASES.token_cases.map((_, i) => `unknown caption ${i}`),
      tokens: padded.map((p) => p.tokens),
      sentLens: Int32Array.from(padded, (p) => p.sentLen),
    };
    const got = await embedBatchTexts(ev, batch);
    assertClose(got, expected.data as Float32Array, ATOL, RTOL, "batch text embedding");
    // The captions themselves are refused (no tokens known, policy "error").
    await assert.rejects(ev.encodeTexts(batch.captions), /Cannot tokenise caption "unknown/);
  } finally {
    await ev.release?.();
    be.destroy();
  }
});

Deno.test("compositeCaptionTokens() keeps sub-text tokens and joins them with then/ADV", () => {
  const sample = {
    texts: ["a person walks forward.", "a person jumps"],
    tokens: [["a/DET", "person/NOUN", "walk/VERB", "forward/ADV"], [
      "a/DET",
      "person/NOUN",
      "jump/VERB",
    ]],
  } as unknown as CompositeSample;
  const map = compositeCaptionTokens([sample]);
  assert.deepEqual(map.get("a person walks forward."), sample.tokens[0]);
  assert.deepEqual(map.get("a person walks forward then a person jumps"), [
    "a/DET",
    "person/NOUN",
    "walk/VERB",
    "forward/ADV",
    "then/ADV",
    "a/DET",
    "person/NOUN",
    "jump/VERB",
  ]);
});

Deno.test("runEvalHumanml() scores a CLIP-conditioned model with the official evaluator end to end", async () => {
  const lines: string[] = [];
  const r = await withAssets(full, () => runEvalHumanml(run, (l) => lines.push(l)));
  const json = JSON.parse(await Deno.readTextFile(r.output));
  assert.equal(json.evaluator, "t2m-evaluator");
  assert.match(json.text_featurizer, /^clip@sha256:[0-9a-f]{64}$/);
  for (const row of ["ground_truth", "model"]) {
    for (const k of ["r_precision_top1", "fid", "matching_score", "diversity"]) {
      assert.ok(Number.isFinite(json.summary[row][k].mean), `${row} ${k}`);
    }
  }
  assert.ok(lines.some((l) => l.includes("evaluator: t2m-evaluator (") && l.includes(full)));
  // The mini captions are in no caption map and the policy is "error": the run above used the
  // batches' tokens. The composite run looks every text up in the composite file's tokens.
  const file = `${tmp.path}/composite_k3_test.npy`;
  await writeTrainComposites(data, file, 2);
  const c = await withAssets(full, () =>
    runEvalHumanml({
      ...run,
      use_composite_dataset: true,
      composite_data_path: file,
      composite_k_segments: 3,
      protocol: { ...TINY_DEBUG, replications: 1 },
    }, () => {}));
  const cj = JSON.parse(await Deno.readTextFile(c.output));
  assert.equal(cj.evaluator, "t2m-evaluator");
  assert.ok(Number.isFinite(cj.segment_summary.model.segment_accuracy.mean));
});

// WebGPU: skipped without an adapter and on software adapters, as in
// tests/models/t2m_official_evaluator_test.ts.
const adapter = await adapterDescription();
const webgpuIgnore = gpuIgnore ||
  (adapter?.isSoftwareAdapter === true &&
    Deno.env.get("MOTION_GRPO_ORT_WEBGPU_SOFTWARE") !== "1");

Deno.test({
  name: "runEvalHumanml() on WebGPU runs the official evaluator beside the WebGPU backend",
  ignore: webgpuIgnore,
  async fn() {
    const once = async (
      device: typeof run.device | { kind: "webgpu"; index: number },
      name: string,
    ) => {
      const r = await withAssets(
        full,
        () => runEvalHumanml({ ...run, device, output: `${tmp.path}/${name}.json` }, () => {}),
      );
      return JSON.parse(await Deno.readTextFile(r.output));
    };
    const cpu = await once({ kind: "cpu" }, "cpu");
    const gpu = await once({ kind: "webgpu", index: 0 }, "gpu");
    assert.match(gpu.run.device, /^webgpu/);
    assert.equal(gpu.evaluator, "t2m-evaluator");
    // The ground-truth row depends only on the evaluator (same batches, same seed): ORT's
    // WebGPU kernels reduce in other orders in float32, so 1e-3 relative (+1e-3 absolute).
    for (const k of ["matching_score", "diversity", "fid"]) {
      const a = cpu.summary.ground_truth[k].mean, b = gpu.summary.ground_truth[k].mean;
      assert.ok(Math.abs(a - b) <= 1e-3 + 1e-3 * Math.abs(a), `${k}: cpu ${a}, webgpu ${b}`);
    }
    for (const k of ["r_precision_top1", "fid", "matching_score"]) {
      assert.ok(Number.isFinite(gpu.summary.model[k].mean), `model ${k}`);
    }
  },
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(tmp.path, { recursive: true });
});
