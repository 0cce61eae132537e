import assert from "node:assert/strict";
import { join } from "node:path";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { saveTorchStateDict } from "../../models/checkpoint/torch_pt.ts";
import { loadGrpoModels } from "../../train/grpo/load_models.ts";
import {
  GrpoSetupError,
  resolveRewardEncoder,
  resolveTextFeaturizer,
} from "../../train/grpo/reward_models.ts";
import { assertClose, tempDir, withAssets } from "../_util.ts";
import { asStateDict, loadTorchFile } from "../../models/checkpoint/torch_pt.ts";
import type { OfficialT2mEvaluator } from "../../models/t2m/official_evaluator.ts";
import { TINY_CONFIG, tinyModel } from "./_grpo_util.ts";

const TMR_NONE = {
  tmr_text_encoder_path: null,
  tmr_motion_encoder_path: null,
  tmr_movement_encoder_path: null,
};

const TEXT_ASSETS = new URL("../golden/text", import.meta.url).pathname;

Deno.test("resolveRewardEncoder() names missing official TMR and T2M evaluator files in one line", async () => {
  const be = createCpuBackend();
  const tmp = await tempDir();
  try {
    const p = (n: string) => join(tmp.path, n);
    await assert.rejects(
      () =>
        resolveRewardEncoder(
          be,
          {
            reward_model_type: "tmr",
            tmr_text_encoder_path: p("text_encoder.pt"),
            tmr_motion_encoder_path: p("motion_encoder.pt"),
            tmr_movement_encoder_path: p("motion_decoder.pt"),
          },
          {},
          tmp.path,
        ),
      (e: Error) =>
        e instanceof GrpoSetupError && !e.message.includes("\n") &&
        /^Cannot use --tmr_text_encoder_path .*motion_encoder\.pt" does not exist/.test(e.message),
    );
    // Official TMR weights with their statistics, but no DistilBERT: names the variable.
    const tmr = `${TEXT_ASSETS}/tmr`;
    await withAssets(null, () =>
      assert.rejects(
        () =>
          resolveRewardEncoder(
            be,
            {
              reward_model_type: "tmr",
              tmr_text_encoder_path: `${tmr}/text_encoder.pt`,
              tmr_motion_encoder_path: `${tmr}/motion_encoder.pt`,
              tmr_movement_encoder_path: null,
            },
            {},
            tmp.path,
          ),
        (e: Error) =>
          e instanceof GrpoSetupError && !e.message.includes("\n") &&
          /DistilBERT .*MOTION_GRPO_ASSETS is not set.*distilbert\/model\.onnx/.test(e.message),
      ));
    // An official (CLIP) model needs the official evaluator: named with the variable.
    await withAssets(null, () =>
      assert.rejects(
        () => resolveRewardEncoder(be, { reward_model_type: "mdm", ...TMR_NONE }, {}, tmp.path),
        (e: Error) =>
          e instanceof GrpoSetupError && !e.message.includes("\n") &&
          /^Cannot use --reward_model_type mdm with an official \(CLIP\) model: the official T2M evaluator was not found: MOTION_GRPO_ASSETS is not set; .*t2m\/text_mot_match\/model\/finest\.tar, glove\/ and dataset\/t2m_mean\.npy/
            .test(e.message),
      ));
  } finally {
    await tmp.remove();
    be.destroy();
  }
});

Deno.test("resolveRewardEncoder() loads official TMR weights with DistilBERT from MOTION_GRPO_ASSETS", async () => {
  const be = createCpuBackend();
  const tmr = `${TEXT_ASSETS}/tmr`;
  const enc = await withAssets(TEXT_ASSETS, () =>
    resolveRewardEncoder(be, {
      reward_model_type: "tmr",
      tmr_text_encoder_path: `${tmr}/text_encoder.pt`,
      tmr_motion_encoder_path: `${tmr}/motion_encoder.pt`,
      tmr_movement_encoder_path: `${tmr}/motion_decoder.pt`,
    }, { text_encoder_type: "clip" }));
  assert.match(enc.name, /^tmr\+distilbert@sha256:[0-9a-f]{64}$/);
  assert.equal(enc.dim, 32);
  const mu = await enc.encodeTexts(["a man walks forward."]);
  assert.equal(mu.length, 32);
  assert.ok(mu.every(Number.isFinite));
  be.destroy();
});

const T2M = new URL("../golden/t2m/", import.meta.url).pathname;

/** Copies the T2M evaluator fixtures into `root` in MDM's layout (models/t2m/assets.ts). */
async function t2mAssets(root: string): Promise<string> {
  const copy = async (from: string, to: string) => {
    await Deno.mkdir(join(root, to, ".."), { recursive: true });
    await Deno.copyFile(join(T2M, from), join(root, to));
  };
  await copy("finest.tar", "t2m/text_mot_match/model/finest.tar");
  for (const f of ["our_vab_data.npy", "our_vab_words.pkl", "our_vab_idx.pkl"]) {
    await copy(`glove/${f}`, `glove/${f}`);
  }
  await copy("t2m_mean.npy", "dataset/t2m_mean.npy");
  await copy("t2m_std.npy", "dataset/t2m_std.npy");
  return root;
}

Deno.test("resolveRewardEncoder() loads the official T2M evaluator for a CLIP model with the dataset's caption tokens", async () => {
  const be = createCpuBackend();
  const tmp = await tempDir();
  try {
    const assets = await t2mAssets(join(tmp.path, "assets"));
    // A dataset root whose texts/ give the golden token lists to plain captions.
    const cases = JSON.parse(await Deno.readTextFile(`${T2M}cases.json`)) as {
      token_cases: string[][];
    };
    const dataDir = join(tmp.path, "HumanML3D");
    await Deno.mkdir(join(dataDir, "texts"), { recursive: true });
    await Deno.writeTextFile(
      join(dataDir, "texts", "000000.txt"),
      cases.token_cases.map((t, i) => `golden caption ${i}#${t.join(" ")}#0.0#0.0\n`).join(""),
    );
    const flags = {
      reward_model_type: "mdm" as const,
      ...TMR_NONE,
      dataset: "humanml" as const,
      data_dir: dataDir,
    };
    const enc = await withAssets(assets, () => resolveRewardEncoder(be, flags, {}, tmp.path));
    try {
      const ref = asStateDict(await loadTorchFile(`${T2M}reference.pt`), "reference.pt");
      const expected = ref.get("text_embedding")!; // (B, D)
      assert.equal(enc.name, "t2m-evaluator");
      assert.equal(enc.dim, expected.shape[1]);
      // Captions of the dataset get its tokens: the PyTorch evaluator's embeddings.
      // Golden tolerance as in tests/models/t2m_official_evaluator_test.ts (ORT vs PyTorch).
      const got = await enc.encodeTexts(cases.token_cases.map((_, i) => `Golden Caption ${i}`));
      assertClose(got, expected.data as Float32Array, 1e-5, 1e-4, "caption embeddings");
      // A generated prompt is approximated (warned once), not refused.
      const approx = await enc.encodeTexts(["a person cartwheels twice"]);
      assert.equal(approx.length, enc.dim);
      assert.ok(approx.every(Number.isFinite));
      assert.equal((enc as OfficialT2mEvaluator).tokenizer.approximated, 1);
      const T = 12, F = 263;
      const motions = Float32Array.from({ length: 2 * T * F }, (_, i) => Math.sin(i * 0.01));
      const m = await enc.encodeMotions(motions, [8, 12], 2, T);
      assert.equal(m.length, 2 * enc.dim);
      assert.ok(m.every(Number.isFinite));
    } finally {
      await (enc as OfficialT2mEvaluator).release();
    }
    // KIT-ML needs its own evaluator; the error names the folder and the path expected.
    await withAssets(assets, () =>
      assert.rejects(
        () => resolveRewardEncoder(be, { ...flags, dataset: "kit" }, {}, tmp.path),
        (e: Error) =>
          e instanceof GrpoSetupError && !e.message.includes("\n") &&
          /evaluator was not found: the evaluator checkpoint not found \(MOTION_GRPO_ASSETS=.*assets; expected kit\/text_mot_match\/model\/finest\.tar/
            .test(e.message),
      ));
    // A model of the project's own profile keeps the mini evaluator (none in tmp.path).
    await withAssets(assets, () =>
      assert.rejects(
        () =>
          resolveRewardEncoder(
            be,
            flags,
            { text_featurizer: { name: "hashed_bow", dim: 16 } },
            tmp.path,
          ),
        /^GrpoSetupError: Cannot use --reward_model_type mdm: the mini evaluator ".*evaluator\/config\.json" does not exist/,
      ));
  } finally {
    await tmp.remove();
    be.destroy();
  }
});

Deno.test("resolveTextFeaturizer() loads CLIP from MOTION_GRPO_ASSETS and checks width and SHA-256", async () => {
  const be = createCpuBackend();
  await withAssets(null, () =>
    assert.rejects(
      () => resolveTextFeaturizer(be, { text_encoder_type: "clip" }, "m/args.json"),
      (e: Error) =>
        e instanceof GrpoSetupError && !e.message.includes("\n") &&
        /^Cannot condition .*"m\/args\.json".*MOTION_GRPO_ASSETS is not set.*clip\/text_model\.onnx/
          .test(e.message),
    ));
  await withAssets(TEXT_ASSETS, async () => {
    // The fixture's tiny CLIP gives 16 features; MDM's default width is 512.
    await assert.rejects(
      () => resolveTextFeaturizer(be, { text_encoder_type: "clip" }, "m/args.json"),
      /it gives 16 features, the model takes 512 \(clip_dim\)/,
    );
    const f = await resolveTextFeaturizer(be, { clip_dim: 16 }, "m/args.json");
    assert.match(f.name, /^clip@sha256:[0-9a-f]{64}$/);
    assert.equal((await f.encode(["a man walks", "a man walks"])).length, 32);
    await assert.rejects(
      () =>
        resolveTextFeaturizer(be, {
          clip_dim: 16,
          text_featurizer: { name: "clip", dim: 16, sha256: "0".repeat(64) },
        }, "m/args.json"),
      /the model was trained with 0{64}/,
    );
  });
  be.destroy();
});

Deno.test("resolveTextFeaturizer() builds hashed_bow from args.json", async () => {
  const be = createCpuBackend();
  const f = await resolveTextFeaturizer(be, {
    text_featurizer: { name: "hashed_bow", dim: 12, seed: 3 },
  }, "args.json");
  assert.equal(f.dim, 12);
  const a = await f.encode(["a man walks", "a man walks"]);
  assert.equal(a.length, 24);
  assert.deepEqual(a.subarray(0, 12), a.subarray(12));
  be.destroy();
});

Deno.test("loadGrpoModels() shares the base for LoRA and loads a frozen copy otherwise", async () => {
  const be = createCpuBackend();
  const tmp = await tempDir();
  try {
    const path = join(tmp.path, "model.pt");
    await saveTorchStateDict(path, await tinyModel(be, "none").toStateDict());
    await Deno.writeTextFile(
      join(tmp.path, "args.json"),
      JSON.stringify({
        latent_dim: 32,
        layers: 1,
        ff_size: 64,
        heads: 2,
        mask_frames: true,
        diffusion_steps: 3,
        text_encoder_type: "hashed_bow",
        text_featurizer: { name: "hashed_bow", dim: 16, seed: 5 },
      }),
    );
    const flags = {
      model_path: path,
      ref_model_path: null,
      use_lora: true,
      lora_r: 2,
      lora_alpha: 4,
      seed: 1,
    };
    const lora = await loadGrpoModels(be, flags, 4, 24);
    assert.equal(lora.reference, null);
    assert.equal(lora.policy.training, "lora");
    assert.equal(lora.diffusionSteps, 3);
    assert.deepEqual(lora.config, TINY_CONFIG);
    const full = await loadGrpoModels(be, { ...flags, use_lora: false }, 4, 24);
    assert.equal(full.policy.training, "full");
    assert.equal(full.reference?.training, "none");
    const withRef = await loadGrpoModels(be, { ...flags, ref_model_path: path }, 4, 24);
    assert.equal(withRef.reference?.training, "none");
  } finally {
    await tmp.remove();
    be.destroy();
  }
});
