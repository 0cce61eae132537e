import assert from "node:assert/strict";
import { ddpmPlan } from "../../diffusion/plan.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { evaluateModel } from "../../eval/run/evaluate_model.ts";
import { generateMotions } from "../../eval/run/generate.ts";
import type { Batch } from "../../datasets/humanml/batch.ts";
import { noiseStream } from "../../eval/run/_streams.ts";
import { evaluationJson } from "../../eval/run/result_json.ts";
import { METRIC_COLUMNS } from "../../eval/summary.ts";
import { embeddings } from "../../eval/embeddings.ts";
import { rPrecision } from "../../eval/r_precision.ts";
import { matchingScore } from "../../eval/matching_score.ts";
import { inverseNormalise } from "../../datasets/humanml/normalise.ts";
import { formatTable } from "../../eval/format_table.ts";
import { assertClose, tempDir } from "../_util.ts";
import {
  miniData,
  standInEvaluator,
  standInFeaturizer,
  testSplit,
  TINY_DEBUG,
  tinyMdm,
} from "./_run_fixture.ts";

const tmp = await tempDir();
const root = await miniData(`${tmp.path}/mini`);
const plan = ddpmPlan(cosineTables(4));

async function run(seed: number, protocol = TINY_DEBUG) {
  return await evaluateModel({
    model: tinyMdm(),
    featurizer: standInFeaturizer,
    evaluator: standInEvaluator,
    dataset: await testSplit(root),
    protocol,
    guidance: 2.5,
    seed,
    plan,
  });
}

const first = await run(11);

Deno.test("evaluateModel() runs the debug protocol and summarises every metric", () => {
  assert.equal(first.replications.length, 5);
  assert.equal(first.samplesPerReplication, 12); // (floor(8 / 4) + 1) batches of 4
  assert.deepEqual(first.rows.map((r) => r.name), ["ground truth", "model"]);
  for (const row of first.rows) {
    for (const c of METRIC_COLUMNS.filter((c) => c !== "MModality")) {
      const s = row.metrics[c];
      assert.ok(s !== undefined, `${row.name} ${c} is summarised`);
      assert.ok(Number.isFinite(s.mean) && Number.isFinite(s.interval) && s.interval >= 0);
      assert.equal(s.replications, 5);
    }
    assert.equal(row.metrics.MModality, undefined);
  }
  const model = first.rows[1].metrics;
  assert.ok(model["R@1"]!.mean <= model["R@2"]!.mean && model["R@2"]!.mean <= model["R@3"]!.mean);
  // A random model's motions sit near the dataset mean: far from the real ones, unlike the GT row.
  assert.ok(model.FID!.mean > 1e-3, "a random model is far from the real motions");
  assert.ok(Math.abs(first.rows[0].metrics.FID!.mean) < 1e-6);
  const table = formatTable(first.rows);
  assert.ok(table.includes("ground truth") && table.includes(" ± "));
});

/**
 * Replication 0's 3 loader batches of 4 again: the text and motion embeddings (standInEvaluator)
 * of its captions and of `motions(batch, b)` (raw features (4, T, F)).
 */
async function replication0(
  motions: (
    batch: Batch,
    b: number,
    ds: Awaited<ReturnType<typeof testSplit>>,
  ) => Promise<Float32Array>,
) {
  const ds = await testSplit(root);
  const texts: string[] = [], parts: Float32Array[] = [], lengths: number[] = [];
  let T = 0;
  for (let b = 0; b < 3; b++) {
    const batch = ds.nextBatch(4);
    T = batch.shape[1];
    texts.push(...batch.captions);
    lengths.push(...batch.lengths);
    parts.push(await motions(batch, b, ds));
  }
  const raw = new Float32Array(parts.reduce((n, r) => n + r.length, 0));
  parts.reduce((at, r) => (raw.set(r, at), at + r.length), 0);
  return {
    t: embeddings(await standInEvaluator.encodeTexts(texts), 12, 8),
    m: embeddings(await standInEvaluator.encodeMotions(raw, lengths, 12, T), 12, 8),
  };
}

Deno.test("evaluateModel() ground-truth row: FID ~0 and R-precision of the real embeddings", async () => {
  for (const r of first.replications) assertClose([r.groundTruth.fid], [0], 1e-6, 0, "GT FID");
  // Recompute replication 0's real-motion metrics from the same loader draws.
  const { t, m } = await replication0((batch, _b, ds) =>
    Promise.resolve(inverseNormalise(batch.motions, ds.mean, ds.std))
  );
  const gt = first.replications[0].groundTruth;
  assert.deepEqual(gt.rPrecision, rPrecision(t, m, 3, 4).rates);
  assertClose([gt.matchingScore], [matchingScore(t, m)], 1e-12, 0, "GT MM-Dist");
});

Deno.test("evaluateModel() model row: the overlapped generations equal one-at-a-time ones", async () => {
  // Replication 0 again, each batch generated alone (`generateMotions`) with its noise stream.
  const model = tinyMdm();
  const { t, m } = await replication0((batch, b, ds) =>
    generateMotions(model, standInFeaturizer, batch.captions, batch.lengths, batch.shape[1], {
      plan,
      guidance: 2.5,
      seed: 11,
      stream: noiseStream(0, b, 0),
      mean: ds.mean,
      std: ds.std,
    })
  );
  const got = first.replications[0].model;
  assert.deepEqual(got.rPrecision, rPrecision(t, m, 3, 4).rates);
  assert.equal(got.matchingScore, matchingScore(t, m));
});

Deno.test("evaluateModel() is deterministic: the same seed gives the same JSON", async () => {
  const again = await run(11);
  const a = JSON.stringify(evaluationJson(first, { mode: "debug" }));
  const b = JSON.stringify(evaluationJson(again, { mode: "debug" }));
  assert.equal(a, b);
  const other = await run(12);
  assert.notEqual(JSON.stringify(evaluationJson(other, { mode: "debug" })), a);
});

Deno.test("evaluateModel() measures multimodality with repeated generations", async () => {
  const mm = await run(11, {
    ...TINY_DEBUG,
    replications: 2,
    runMultimodality: true,
    mmNumSamples: 4,
    mmNumRepeats: 3,
    mmNumTimes: 2,
  });
  assert.equal(mm.mmTexts, 8); // (floor(4 / 4) + 1) batches of 4 texts
  const s = mm.rows[1].metrics.MModality;
  assert.ok(s !== undefined && Number.isFinite(s.mean) && s.mean > 0);
  assert.equal(mm.rows[0].metrics.MModality, undefined);
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(tmp.path, { recursive: true });
});
