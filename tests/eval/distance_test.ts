import assert from "node:assert/strict";
import { euclideanDistanceMatrix } from "../../eval/distance.ts";
import { embeddings } from "../../eval/embeddings.ts";
import { assertClose } from "../_util.ts";
import { loadMetricsFixture } from "./_metrics_fixture.ts";

Deno.test("euclideanDistanceMatrix() matches numpy's expanded form", async () => {
  const f = await loadMetricsFixture();
  const d = f.text.dim;
  const a = { data: f.text.data.subarray(0, f.distRows * d), rows: f.distRows, dim: d };
  const b = { data: f.motion.data.subarray(0, f.distCols * d), rows: f.distCols, dim: d };
  assertClose(euclideanDistanceMatrix(a, b), f.dist, 1e-12, 1e-6, "distances");
});

Deno.test("euclideanDistanceMatrix() is 0 on identical rows, never NaN", () => {
  // Large norms make |a|^2 + |b|^2 - 2 a.b round below zero; the clamp returns 0, not NaN.
  const row = [1e4 + 0.1, -3e4 + 0.3, 7e3 + 0.7];
  const a = embeddings(new Float64Array([...row, ...row]), 2, 3);
  const dist = euclideanDistanceMatrix(a, a);
  for (const v of dist) assert.ok(v >= 0 && v < 1e-3, `distance ${v}`);
});

Deno.test("euclideanDistanceMatrix() rejects mismatched dimensions", () => {
  const a = embeddings(new Float32Array(6), 2, 3);
  const b = embeddings(new Float32Array(4), 2, 2);
  assert.throws(() => euclideanDistanceMatrix(a, b), /dimensions differ/);
  assert.throws(() => embeddings(new Float32Array(5), 2, 3, "text"), /Cannot use text/);
  assert.throws(() => embeddings(new Float32Array([0, NaN]), 1, 2), /non-finite/);
});
