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
import { tempDir } from "../_util.ts";
import { TINY_CONFIG, tinyModel } from "./_grpo_util.ts";

const TMR_NONE = {
  tmr_text_encoder_path: null,
  tmr_motion_encoder_path: null,
  tmr_movement_encoder_path: null,
};

Deno.test("resolveRewardEncoder() refuses official TMR and MDM evaluators in one line", async () => {
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
        /^Cannot use --tmr_text_encoder_path .*DistilBERT.*not available/.test(e.message),
    );
    await assert.rejects(
      () => resolveRewardEncoder(be, { reward_model_type: "mdm", ...TMR_NONE }, {}, tmp.path),
      /^GrpoSetupError: Cannot use --reward_model_type mdm: the official T2M evaluator/,
    );
  } finally {
    await tmp.remove();
    be.destroy();
  }
});

Deno.test("resolveTextFeaturizer() builds hashed_bow from args.json and refuses CLIP", async () => {
  const be = createCpuBackend();
  const f = await resolveTextFeaturizer(be, {
    text_featurizer: { name: "hashed_bow", dim: 12, seed: 3 },
  }, "args.json");
  assert.equal(f.dim, 12);
  const a = await f.encode(["a man walks", "a man walks"]);
  assert.equal(a.length, 24);
  assert.deepEqual(a.subarray(0, 12), a.subarray(12));
  await assert.rejects(
    () => resolveTextFeaturizer(be, { text_encoder_type: "clip" }, "m/args.json"),
    /CLIP text features are not available in this version/,
  );
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
