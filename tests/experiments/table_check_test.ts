import assert from "node:assert/strict";
import { join } from "node:path";
import { manifestId } from "../../experiments/hash.ts";
import { MANIFEST_DIR } from "../../experiments/manifest.ts";
import { checkTable, compareMetric, formatTableCheck } from "../../experiments/table_check.ts";
import { parseValue } from "../../experiments/results_table.ts";
import { tempDir } from "../_util.ts";
import { exp } from "./_fixture.ts";

const metric = (mean: number, interval: number) => ({ mean, interval });

/**
 * A manifest folder with exp5 (its expected FID pinned with a tolerance) and exp4, and a runs
 * folder where only exp5 has a recorded run, as `deno task exp run exp5` writes it.
 */
async function fixture(root: string): Promise<{ manifests: string; runs: string }> {
  const manifests = join(root, "manifests");
  const runs = join(root, "runs");
  await Deno.mkdir(manifests);
  await Deno.mkdir(join(runs, "exp5"), { recursive: true });
  const m5 = JSON.parse(await Deno.readTextFile(`${MANIFEST_DIR}exp5.json`));
  m5.expected = {
    metrics: { "finetuned.fid": { value: 18.2, tolerance: 0.5, provenance: "test fixture" } },
  };
  await Deno.writeTextFile(join(manifests, "exp5.json"), JSON.stringify(m5));
  await Deno.copyFile(`${MANIFEST_DIR}exp4.json`, join(manifests, "exp4.json"));
  const results = {
    name: "exp5",
    manifest_id: await manifestId(m5),
    device_class: "cpu",
    created: "2026-11-25T23:30:42.009Z",
    checkpoint_sha256: "0".repeat(64),
    reward: { steps: 60, first_mean: 0.47, last_mean: 0.49 },
    metrics: {
      base: {
        r_precision_top1: metric(0.3771, 0.0176),
        fid: metric(18.2766, 2.2381),
        matching_score: metric(7.3264, 0.1628),
        diversity: metric(10.5392, 0.36),
      },
      finetuned: {
        r_precision_top1: metric(0.3771, 0.0176),
        r_precision_top2: metric(0.5625, 0.0153),
        fid: metric(18.28, 2.239),
        matching_score: metric(7.326, 0.1623),
        diversity: metric(10.538, 0.3654),
      },
    },
  };
  await Deno.writeTextFile(join(runs, "exp5", "results.json"), JSON.stringify(results));
  return { manifests, runs };
}

const PASSING = `| name | R Precision Top 1 | Top2 | FID↓ | MM Dist | Diversity→ | Venue |
|---|---|---|---|---|---|---|
| Real motion | 0.511 | 0.703 | 0.002 | 2.974 | 9.503 | - |
| exp5 | 0.377±0.001 | 0.5625 | 18.3 | 7.3 | 10.54 | mini |
| exp5 (base) | 0.377 | - | 18.28 | 7.326 ± 0.001 | 10.54 | mini |
`;

Deno.test("compareMetric() picks the table's ±, then the manifest's tolerance, then the run's CI", () => {
  const v = (s: string) => parseValue(s)!;
  // ±0.003 plus half a unit of the printed 3rd decimal: 0.0035 allowed.
  assert.equal(compareMetric("fid", v("0.512±0.003"), 0.5154, { tolerance: 9 }, 9).ok, true);
  assert.equal(compareMetric("fid", v("0.512±0.003"), 0.5156, { tolerance: 9 }, 9).ok, false);
  assert.equal(compareMetric("fid", v("0.512±0.003"), 0.5156, undefined, 9).source, "table ±");
  const tol = compareMetric("fid", v("18.2"), 18.64, { tolerance: 0.4, interval: 3 }, 9);
  assert.deepEqual([tol.source, tol.ok], ["manifest", true]); // 0.4 + 0.05
  assert.equal(compareMetric("fid", v("18.2"), 18.66, { tolerance: 0.4 }, 9).ok, false);
  const ci = compareMetric("fid", v("18"), 20.4, undefined, 2);
  assert.deepEqual([ci.source, ci.allowed, ci.ok], ["run 95% CI", 2.5, true]);
  const round = compareMetric("diversity", v("9.50"), 9.504, undefined, undefined);
  assert.deepEqual([round.source, round.ok], ["rounding", true]);
  assert.equal(compareMetric("diversity", v("9.50"), 9.506, undefined, undefined).ok, false);
  const missing = compareMetric("multimodality", v("2.5"), null, undefined, undefined);
  assert.equal(missing.ok, false);
});

Deno.test("checkTable() passes a table that matches the recorded run and skips reference rows", async () => {
  const dir = await tempDir();
  try {
    const f = await fixture(dir.path);
    await Deno.writeTextFile(join(dir.path, "t.md"), PASSING);
    const c = await checkTable(join(dir.path, "t.md"), {
      manifestsDir: f.manifests,
      runsDir: f.runs,
    });
    assert.equal(c.passed, true, formatTableCheck(c));
    assert.deepEqual(c.rows.map((r) => [r.row.label, r.skipped, r.model]), [
      ["Real motion", true, null],
      ["exp5", false, "finetuned"],
      ["exp5 (base)", false, "base"],
    ]);
    const fid = c.rows[1].metrics.find((m) => m.metric === "fid")!;
    assert.equal(fid.source, "manifest");
    const text = formatTableCheck(c);
    assert.match(text, /ignored columns \(not metrics\): "Venue"/);
    assert.match(text, /metric +published +rerun +difference +allowed +verdict/);
    assert.match(
      text,
      /R-Precision Top-1 +0\.377±0\.001 +0\.3771 +\+1e-4 +±0\.0015 \(table ±\) +ok/,
    );
    assert.match(text, /PASSED: 2 rows, 9 metrics within their intervals$/);
  } finally {
    await dir.remove();
  }
});

Deno.test("exp verify --table exits 2 on a mismatch, a missing run and a stale run, naming each", async () => {
  const dir = await tempDir();
  try {
    const f = await fixture(dir.path);
    const table = join(dir.path, "t.csv");
    await Deno.writeTextFile(
      table,
      "name,Top1,FID,MModality\nexp5,0.377,25.0,2.5\nexp4,0.4,1.0,\nexp9,0.4,1.0,\n",
    );
    const dirs = ["--manifests", f.manifests, "--runs", f.runs];
    const r = await exp("verify", "--table", table, ...dirs);
    assert.equal(r.code, 2, r.err);
    assert.match(r.out, /FID +25\.0 +18\.28 +-6\.72 +±0\.55 \(manifest\) +MISMATCH/);
    assert.match(r.out, /MultiModality +2\.5 +not measured .*MISSING/);
    assert.match(
      r.out,
      /exp4 \(line 3\) → exp4 fine-tuned\n {2}FAILED: no run: .*exp4\/results\.json does not exist; make it with `deno task exp run exp4`/,
    );
    assert.match(r.out, /FAILED: no manifest named "exp9" \(known: exp4, exp5\)/);
    assert.match(
      r.out,
      /FAILED: 3 of 3 rows \(exp5: 2 metrics outside .*; exp4: no run; exp9: no such manifest\)/,
    );
    assert.equal(
      r.err.trim(),
      `Verification of table "${table}" failed: 3 rows did not match (see above)`,
    );

    // Only the rows of one manifest; then the same run made from another manifest id is stale.
    const only = await exp("verify", "exp5", "--table", join(dir.path, "ok.md"), ...dirs);
    assert.equal(only.code, 2);
    assert.match(only.err, /Cannot read table ".*ok\.md": no such file/);
    await Deno.writeTextFile(join(dir.path, "ok.md"), PASSING);
    const ok = await exp("verify", "exp5", "--table", join(dir.path, "ok.md"), ...dirs);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /PASSED: 2 rows/);
    const resultsPath = join(f.runs, "exp5", "results.json");
    const results = JSON.parse(await Deno.readTextFile(resultsPath));
    results.manifest_id = "ab".repeat(32);
    await Deno.writeTextFile(resultsPath, JSON.stringify(results));
    const stale = await exp("verify", "--table", join(dir.path, "ok.md"), ...dirs);
    assert.equal(stale.code, 2);
    assert.match(
      stale.out,
      /FAILED: stale run: .* was made from manifest id abababababab, the manifest is now [0-9a-f]{12}; rerun with `deno task exp run exp5`/,
    );
  } finally {
    await dir.remove();
  }
});

Deno.test("exp verify --table: a malformed table is one line naming the file and line", async () => {
  const dir = await tempDir();
  try {
    const table = join(dir.path, "bad.md");
    await Deno.writeTextFile(table, "intro\n\n| name | FID |\n|---|---|\n| exp5 | 1,5 |\n");
    const r = await exp("verify", "--table", table);
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.equal(
      r.err.trim(),
      `Invalid table "${table}" line 5: column "FID": cannot read "1,5" as a number ` +
        `(write 0.512 or 0.512±0.003)`,
    );
    const combined = await exp("verify", "--table", table, "--checkpoint", "x.pt");
    assert.equal(combined.code, 2);
    assert.match(combined.err, /^Cannot verify --table ".*" with --checkpoint: /);
    const none = await exp("verify");
    assert.equal(none.code, 2);
    assert.equal(
      none.err.trim(),
      "Cannot verify: name an experiment (deno task exp list shows them)",
    );
  } finally {
    await dir.remove();
  }
});
