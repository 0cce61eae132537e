import assert from "node:assert/strict";
import { formatTable } from "../../eval/format_table.ts";
import { EVAL_PROTOCOLS, protocolBatches, resolveProtocol } from "../../eval/protocol.ts";
import { aggregateReplications, type ReplicationMetrics, summarise } from "../../eval/summary.ts";
import { assertClose } from "../_util.ts";
import { loadMetricsFixture } from "./_metrics_fixture.ts";

Deno.test("summarise() matches np.mean, np.std and 1.96 std / sqrt(reps)", async () => {
  const f = await loadMetricsFixture();
  const s = summarise(f.replications);
  assertClose(
    [s.mean, s.std, s.interval],
    [f.summaryMean, f.summaryStd, f.summaryInterval],
    1e-15,
    1e-9,
    "summary",
  );
  assert.equal(s.replications, 20);
  assert.throws(() => summarise([]), /no replications/);
  assert.throws(() => summarise([1, NaN]), /NaN/);
});

Deno.test("aggregateReplications() and formatTable() print mean ± interval", () => {
  const reps: ReplicationMetrics[] = [
    { rPrecision: [0.4, 0.6, 0.7], fid: 0.5, matchingScore: 3.6, diversity: 9.4 },
    { rPrecision: [0.42, 0.6, 0.71], fid: 0.7, matchingScore: 3.6, diversity: 9.6 },
  ];
  const m = aggregateReplications(reps);
  assertClose([m["R@1"]!.mean, m["FID"]!.std], [0.41, 0.1], 1e-15, 1e-12, "aggregate");
  assert.equal(m["MModality"], undefined);
  const table = formatTable([{ name: "MDM", metrics: m }]);
  const lines = table.split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0], /\| model \| R@1 +\| R@2 +\| R@3 +\| FID +\| MM-Dist +\| Diversity/);
  // FID: mean 0.6, std 0.1, interval 1.96 * 0.1 / sqrt(2) = 0.1386.
  assert.match(lines[2], /\| MDM +\| 0\.410 ± 0\.014 \| 0\.600 ± 0\.000 \|.*\| 0\.600 ± 0\.139 \|/);
  assert.match(lines[2], /\| – +\|$/);
  assert.throws(
    () => aggregateReplications([reps[0], { ...reps[1], multimodality: 2 }]),
    /1 of 2 replications/,
  );
});

Deno.test("resolveProtocol() knows wo_mm, mm_short and debug", () => {
  assert.equal(resolveProtocol("wo_mm").replications, 20);
  assert.equal(resolveProtocol("debug").replications, 5);
  const mm = resolveProtocol("mm_short");
  assert.deepEqual([mm.replications, mm.mmNumSamples, mm.mmNumRepeats, mm.mmNumTimes], [
    5,
    100,
    30,
    10,
  ]);
  assert.deepEqual(protocolBatches(EVAL_PROTOCOLS.mm_short), { batches: 32, mmBatches: 4 });
  assert.throws(() => resolveProtocol("full"), /--eval_mode "full": expected one of wo_mm/);
});
