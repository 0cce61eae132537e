import assert from "node:assert/strict";
import { main } from "../../cli/eval_humanml.ts";
import {
  checkModelConditioning,
  conditioningProblem,
  findMiniModel,
} from "../../eval/run/load_assets.ts";
import { readArgsJson } from "../../models/checkpoint/mdm_checkpoint.ts";
import { runEvalHumanml } from "../../eval/run/run_eval_humanml.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { tempDir } from "../_util.ts";
import { miniData } from "./_run_fixture.ts";
import {
  captureMain,
  hasHashedBow,
  tinyDebugRun,
  writeTinyCheckpoint,
} from "./_checkpoint_fixture.ts";
import { writeTrainComposites } from "./_composite_fixture.ts";

const tmp = await tempDir();
const root = await miniData(`${tmp.path}/mini`);
// Point the mini model search at an empty folder first (no evaluator, no text encoder there).
Deno.env.set("MOTION_GRPO_MINI_MODELS", `${tmp.path}/models`);
const noEvaluator = (await findMiniModel("evaluator")) === null;
// CLIP is looked for under MOTION_GRPO_ASSETS: start without it whatever the caller's shell has.
Deno.env.delete("MOTION_GRPO_ASSETS");

Deno.test("eval-humanml stops with one line naming CLIP and the T2M evaluator for official weights", async () => {
  const model = await writeTinyCheckpoint(`${tmp.path}/official`, "clip");
  const r = await captureMain(main, [
    "--model_path",
    model,
    "--eval_mode",
    "debug",
    "--device",
    "cpu",
  ]);
  assert.equal(r.code, 2);
  assert.equal(r.err.length, 1);
  assert.match(
    r.err[0],
    /^Cannot evaluate ".*model000000001\.pt": the CLIP ViT-B\/32 text encoder/,
  );
  assert.match(r.err[0], /MOTION_GRPO_ASSETS is not set; .*clip\/text_model\.onnx/);
  // CLIP-conditioned models are scored by the official evaluator, whatever mini models exist.
  assert.match(
    r.err[0],
    /; the official T2M evaluator .*MOTION_GRPO_ASSETS is not set; .*finest\.tar.*\] was not found$/,
  );
  assert.doesNotMatch(r.err[0], /not available in this version/);
  assert.equal(r.out.length, 0);
});

Deno.test("conditioningProblem() accepts CLIP once MOTION_GRPO_ASSETS holds its files", async () => {
  const model = await writeTinyCheckpoint(`${tmp.path}/official_assets`, "clip");
  const args = await readArgsJson(model);
  assert.match(conditioningProblem(args)!, /MOTION_GRPO_ASSETS is not set/);
  Deno.env.set("MOTION_GRPO_ASSETS", `${tmp.path}/no_assets`);
  try {
    assert.match(conditioningProblem(args)!, /no_assets\/clip\/text_model\.onnx" does not exist/);
    Deno.env.set("MOTION_GRPO_ASSETS", new URL("../golden/text", import.meta.url).pathname);
    assert.equal(conditioningProblem(args), null);
    assert.equal((await checkModelConditioning(model)).text_encoder_type, "clip");
  } finally {
    Deno.env.delete("MOTION_GRPO_ASSETS");
  }
});

Deno.test({
  name: "eval-humanml names only the missing mini evaluator for a hashed_bow model",
  ignore: !hasHashedBow || !noEvaluator,
  fn: async () => {
    const model = await writeTinyCheckpoint(`${tmp.path}/bow`, "hashed_bow");
    const r = await captureMain(main, ["--model_path", model, "--device", "cpu"]);
    assert.equal(r.code, 2);
    assert.equal(r.err.length, 1);
    // A hashed_bow model belongs to the project's own profile: the mini evaluator is needed.
    assert.match(
      r.err[0],
      /^Cannot evaluate "[^"]*": the mini evaluator \[looked for evaluator\/config\.json in .*\] was not found$/,
    );
    assert.doesNotMatch(r.err[0], /CLIP|official/);
  },
});

/** The mini model builder, when models/mini is in this checkout. */
async function miniBuilder() {
  const url = new URL("../../models/mini/build_mini_models.ts", import.meta.url);
  if (!(await Deno.stat(url).then((s) => s.isFile, () => false))) return null;
  const mod = await import(url.href);
  return mod.buildMiniModel as (be: unknown, o: Record<string, unknown>) => Promise<unknown>;
}

const build = await miniBuilder();

Deno.test({
  name: "runEvalHumanml() evaluates a mini-conditioned model with the mini evaluator end to end",
  ignore: build === null,
  fn: async () => {
    const models = `${tmp.path}/built`;
    const be = createCpuBackend();
    const architecture = {
      latentDim: 16,
      ffSize: 32,
      layers: 1,
      heads: 2,
      wordDim: 8,
      maxWords: 12,
      motionFeats: 263,
    };
    for (const role of ["evaluator", "text"]) {
      await build!(be, {
        role,
        dataDir: root,
        outDir: models,
        settings: { steps: 2, batch: 4, warmupSteps: 1 },
        evaluate: false,
        architecture,
      });
    }
    Deno.env.set("MOTION_GRPO_MINI_MODELS", models);
    try {
      const model = await writeTinyCheckpoint(`${tmp.path}/minimdm`, "mini-text-text");
      const lines: string[] = [];
      const base = tinyDebugRun(model, root);
      const r = await runEvalHumanml(base, (l) => lines.push(l));
      assert.equal(r.output, `${tmp.path}/minimdm/eval_debug.json`);
      const json = JSON.parse(await Deno.readTextFile(r.output));
      assert.equal(json.evaluator, "mini-evaluator");
      assert.equal(json.text_featurizer, "mini-text-text");
      assert.equal(json.plan.steps, 4); // args.json diffusion_steps
      for (const row of ["ground_truth", "model"]) {
        for (const k of ["r_precision_top1", "fid", "matching_score", "diversity"]) {
          assert.ok(Number.isFinite(json.summary[row][k].interval), `${row} ${k}`);
        }
      }
      assert.ok(r.table.includes("| model "));
      assert.ok(lines[0].startsWith("device: cpu"));

      const file = `${tmp.path}/composite_k3_test.npy`;
      await writeTrainComposites(root, file, 2);
      const c = await runEvalHumanml({
        ...base,
        use_composite_dataset: true,
        composite_data_path: file,
      }, () => {});
      assert.equal(c.output, `${tmp.path}/minimdm/eval_debug_composite_k3.json`);
      const cj = JSON.parse(await Deno.readTextFile(c.output));
      assert.equal(cj.composite, true);
      assert.ok(Number.isFinite(cj.segment_summary.model.segment_accuracy.mean));
      await assert.rejects(
        runEvalHumanml({
          ...base,
          use_composite_dataset: true,
          composite_data_path: file,
          composite_k_segments: 4,
        }, () => {}),
        /--composite_k_segments 4: sample 0 .* has 3 segments/,
      );
    } finally {
      Deno.env.set("MOTION_GRPO_MINI_MODELS", `${tmp.path}/models`);
    }
  },
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(tmp.path, { recursive: true });
});
