import assert from "node:assert/strict";
import { completeBatchRows, rPrecision } from "../../eval/r_precision.ts";
import { matchingScore } from "../../eval/matching_score.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";
import { copyRows, loadMetricsFixture } from "./_metrics_fixture.ts";

function randomEmbeddings(rows: number, dim: number, rng: Rng) {
  const data = new Float64Array(rows * dim).map(() => rng.normal()); // (rows, dim)
  return { data, rows, dim };
}

Deno.test("rPrecision() matches the public per-batch top-k counts", async () => {
  const f = await loadMetricsFixture();
  const r = rPrecision(f.text, f.motion);
  assert.equal(r.samples, f.rPrecisionSamples);
  assert.equal(r.batches, 3);
  assertClose(r.rates, f.rPrecision, 1e-12, 1e-6, "R-precision");
});

Deno.test("rPrecision() drops the last incomplete batch", async () => {
  const f = await loadMetricsFixture();
  // 100 rows = 3 batches + 4; the 4 trailing rows must not change anything.
  const first96 = Array.from({ length: 96 }, (_, i) => i);
  const r96 = rPrecision(copyRows(f.text, first96), copyRows(f.motion, first96));
  assert.deepEqual(rPrecision(f.text, f.motion), r96);
  assert.equal(completeBatchRows(100), 96);
  assert.throws(() => rPrecision(copyRows(f.text, [0, 1]), copyRows(f.motion, [0, 1])), /batch/);
});

Deno.test("rPrecision() is 1 for aligned embeddings and chance for shuffled ones", () => {
  const rng = new Rng(11);
  const text = randomEmbeddings(32 * 60, 8, rng);
  assert.deepEqual(rPrecision(text, text).rates, [1, 1, 1]);
  const order = rng.shuffle(Array.from({ length: text.rows }, (_, i) => i));
  const r = rPrecision(text, copyRows(text, order));
  // Chance is k/32; 1920 samples give a standard error of about 0.004 (top-1) to 0.007 (top-3).
  assertClose(r.rates, [1 / 32, 2 / 32, 3 / 32], 0.025, 0, "shuffled");
});

Deno.test("matchingScore() matches the mean diagonal distance", async () => {
  const f = await loadMetricsFixture();
  assertClose([matchingScore(f.text, f.motion)], [f.matchingAll], 1e-12, 1e-6, "all rows");
  const rows = Array.from({ length: completeBatchRows(f.text.rows) }, (_, i) => i);
  const complete = matchingScore(copyRows(f.text, rows), copyRows(f.motion, rows));
  assertClose([complete], [f.matchingCompleteBatches], 1e-12, 1e-6, "complete batches");
  assert.throws(() => matchingScore(f.text, copyRows(f.motion, [0])), /not aligned/);
});
