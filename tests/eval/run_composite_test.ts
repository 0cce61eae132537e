import assert from "node:assert/strict";
import { ddpmPlan } from "../../diffusion/plan.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { readComposite } from "../../datasets/composite/layout.ts";
import { evaluateComposite, joinSubTexts } from "../../eval/run/evaluate_composite.ts";
import { evaluationJson, evaluationTable } from "../../eval/run/result_json.ts";
import { assertClose, tempDir } from "../_util.ts";
import {
  miniData,
  standInEvaluator,
  standInFeaturizer,
  TINY_DEBUG,
  tinyMdm,
} from "./_run_fixture.ts";
import { writeTrainComposites } from "./_composite_fixture.ts";

const tmp = await tempDir();
const root = await miniData(`${tmp.path}/mini`);
const file = `${tmp.path}/composite_k3_train.npy`;
const train = await writeTrainComposites(root, file, 1);
const samples = await readComposite(file);

async function run(seed: number) {
  return await evaluateComposite({
    model: tinyMdm(),
    featurizer: standInFeaturizer,
    evaluator: standInEvaluator,
    samples,
    mean: train.mean,
    std: train.std,
    protocol: { ...TINY_DEBUG, replications: 2 },
    guidance: 2.5,
    seed,
    plan: ddpmPlan(cosineTables(3)),
  });
}

const result = await run(4);

Deno.test("joinSubTexts() joins sub-texts with 'then' and drops final full stops", () => {
  assert.equal(joinSubTexts(["walk forward. ", "jump up."]), "walk forward then jump up");
});

Deno.test("evaluateComposite() reports global and segment metrics with intervals", () => {
  assert.equal(samples.length, 8);
  assert.equal(result.samplesPerReplication, 8); // min(3 batches, floor(8 / 4)) batches of 4
  assert.equal(result.frames, Math.max(...samples.map((s) => s.totalLength)));
  for (const rows of [result.rows, result.segmentRows]) {
    for (const row of rows) {
      for (const c of ["R@1", "R@2", "R@3", "MM-Dist"] as const) {
        const s = row.metrics[c];
        assert.ok(s !== undefined && Number.isFinite(s.mean) && Number.isFinite(s.interval));
      }
    }
  }
  for (const r of result.replications) {
    assertClose([r.groundTruth.global.fid], [0], 1e-6, 0, "GT FID");
    for (const row of [r.groundTruth, r.model]) {
      assert.ok(row.segment.segmentAccuracy >= 0 && row.segment.segmentAccuracy <= 1);
    }
  }
  const table = evaluationTable(result);
  assert.ok(table.includes("model (segments)") && table.includes("segment-order accuracy"));
  const json = evaluationJson(result, {}) as Record<string, unknown>;
  assert.equal(json.composite, true);
});

Deno.test("evaluateComposite() is deterministic for a seed", async () => {
  const again = await run(4);
  assert.equal(
    JSON.stringify(evaluationJson(again, {})),
    JSON.stringify(evaluationJson(result, {})),
  );
});

Deno.test("evaluateComposite() refuses fewer samples than one batch", async () => {
  await assert.rejects(
    evaluateComposite({
      model: tinyMdm(),
      featurizer: standInFeaturizer,
      evaluator: standInEvaluator,
      samples: samples.slice(0, 3),
      mean: train.mean,
      std: train.std,
      protocol: TINY_DEBUG,
      guidance: 2.5,
      seed: 1,
    }),
    /3 samples do not fill one batch of 4/,
  );
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(tmp.path, { recursive: true });
});
