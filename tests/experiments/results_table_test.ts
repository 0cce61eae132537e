import assert from "node:assert/strict";
import {
  metricOfHeader,
  parseResultsTable,
  parseValue,
  rowTarget,
  TableError,
} from "../../experiments/results_table.ts";

Deno.test("metricOfHeader() reads the usual HumanML3D spellings, case-insensitive", () => {
  const cases: [string, string | null][] = [
    ["R Precision Top 1", "r_precision_top1"],
    ["R-Precision (Top-2)↑", "r_precision_top2"],
    ["Top1", "r_precision_top1"],
    ["top-3", "r_precision_top3"],
    ["R@3", "r_precision_top3"],
    ["R Precision 2", "r_precision_top2"],
    ["FID↓", "fid"],
    ["fid", "fid"],
    ["MM Dist", "matching_score"],
    ["MM-Dist↓", "matching_score"],
    ["Matching Score", "matching_score"],
    ["Diversity→", "diversity"],
    ["MModality", "multimodality"],
    ["MultiModality↑", "multimodality"],
    ["Multi-Modality", "multimodality"],
    ["2", null],
    ["Top 4", null],
    ["Venue", null],
    ["name", null],
  ];
  for (const [header, want] of cases) assert.equal(metricOfHeader(header), want, header);
});

Deno.test("parseValue() reads both ± spellings, LaTeX, emphasis and empty cells", () => {
  assert.deepEqual(parseValue("0.512±0.003"), {
    value: 0.512,
    interval: 0.003,
    decimals: 3,
    text: "0.512±0.003",
  });
  assert.deepEqual(parseValue(" 0.512 ± 0.003 ")?.interval, 0.003);
  assert.equal(parseValue("0.512 +- .003")?.interval, 0.003);
  assert.equal(parseValue("$0.492^{\\pm.003}$")?.value, 0.492);
  assert.equal(parseValue("$0.492^{\\pm.003}$")?.interval, 0.003);
  assert.equal(parseValue("**9.55**")?.value, 9.55);
  assert.equal(parseValue("**9.55**")?.decimals, 2);
  assert.equal(parseValue("0.544†")?.value, 0.544);
  assert.equal(parseValue("18")?.decimals, 0);
  assert.equal(parseValue("1.5e-2")?.decimals, 3);
  for (const empty of ["", "-", "–", "n/a", "N/A"]) assert.equal(parseValue(empty), null, empty);
  assert.throws(() => parseValue("abc"), /cannot read "abc" as a number/);
  assert.throws(() => parseValue("0.5 ± x"), /cannot read "0\.5 ± x"/);
});

const MARKDOWN = `# Table 1

Some prose | with a bar is not a table line.

| Method | Venue | R Precision Top 1↑ | Top2 | Top-3 | FID↓ | MM Dist↓ | Diversity→ | MModality↑ |
|:---|---|:-:|---|---|---|---|---|---|
| Real motion | - | 0.511±.003 | 0.703 | 0.797 | 0.002 | 2.974 | 9.503 | - |
| **exp5** | ours | 0.377 ± 0.018 | 0.5625 | 0.669 | 18.28 | 7.326 | 10.54 | - |
| exp5 (base) | ours | 0.377 | 0.565 | 0.667 | 18.28 | 7.326 | 10.54 | - |
`;

Deno.test("parseResultsTable() reads a Markdown pipe table: columns, ignored columns, rows", () => {
  const [t, ...rest] = parseResultsTable("t.md", MARKDOWN);
  assert.equal(rest.length, 0);
  assert.equal(t.line, 5);
  assert.equal(t.nameColumn, "Method");
  assert.deepEqual(t.ignored, ["Venue"]);
  assert.deepEqual(t.metrics.map((m) => m.metric), [
    "r_precision_top1",
    "r_precision_top2",
    "r_precision_top3",
    "fid",
    "matching_score",
    "diversity",
    "multimodality",
  ]);
  assert.deepEqual(t.rows.map((r) => [r.line, r.label]), [
    [7, "Real motion"],
    [8, "exp5"],
    [9, "exp5 (base)"],
  ]);
  assert.equal(t.rows[1].values.r_precision_top1?.interval, 0.018);
  assert.equal(t.rows[1].values.fid?.value, 18.28);
  assert.equal(t.rows[1].values.multimodality, undefined);
});

Deno.test("parseResultsTable() reads CSV with quoted fields and the first column as the name", () => {
  const csv = 'model,R@1,Top 2,FID,Matching Score,notes\nexp5,0.377±0.018,0.56,18.28,7.3,"a, b"\n' +
    '\n"exp5 (base)",0.377,0.565,18.28,7.326,""\n';
  const [t] = parseResultsTable("t.csv", csv);
  assert.equal(t.nameColumn, "model");
  assert.deepEqual(t.ignored, ["notes"]);
  assert.deepEqual(t.rows.map((r) => [r.line, r.label]), [[2, "exp5"], [4, "exp5 (base)"]]);
  assert.equal(t.rows[0].values.matching_score?.value, 7.3);
  // A file without pipe lines is CSV whatever its name.
  assert.equal(parseResultsTable("t.txt", csv)[0].rows.length, 2);
});

Deno.test("a malformed table is one TableError naming the file and the line", () => {
  const bad = (file: string, text: string, re: RegExp) =>
    assert.throws(() => parseResultsTable(file, text), (e: Error) => {
      assert.ok(e instanceof TableError, e.message);
      assert.match(e.message, re);
      return true;
    });
  bad("t.md", "| name | FID |\n| exp5 | 1 |\n", /^Invalid table "t\.md" line 2: .*separator row/);
  bad(
    "t.md",
    "| name | FID |\n|---|---|\n| exp5 | 1 | 2 |\n",
    /^Invalid table "t\.md" line 3: the row has 3 cells, the header \(line 1\) has 2$/,
  );
  bad(
    "t.md",
    "| name | FID |\n|---|---|\n| exp5 | 1.2.3 |\n",
    /^Invalid table "t\.md" line 3: column "FID": cannot read "1\.2\.3" as a number/,
  );
  bad("t.md", "| name | Venue |\n|---|---|\n| exp5 | x |\n", /line 1: no metric column/);
  bad("t.md", "| FID | Top1 |\n|---|---|\n| 1 | 2 |\n", /line 1: no column names the runs/);
  bad("t.md", "| name | FID | FID↓ |\n|---|---|---|\n", /line 1: columns "FID" and "FID↓" both/);
  bad("t.md", "| name | FID |\n|---|---|\n", /line 1: the table has a header but no rows/);
  bad("t.csv", 'name,FID\nexp5,"1\n', /^Invalid table "t\.csv" line 2: a quoted field/);
  bad("t.csv", "", /^Invalid table "t\.csv": no table found/);
  bad("t.md", "# nothing\n", /^Invalid table "t\.md": no table found/);
});

Deno.test("rowTarget() maps labels to a manifest's base or fine-tuned model", () => {
  assert.deepEqual(rowTarget("exp5"), { kind: "run", name: "exp5", model: "finetuned" });
  assert.deepEqual(rowTarget("Exp5"), { kind: "run", name: "exp5", model: "finetuned" });
  for (const l of ["exp5 (base)", "exp5 base", "exp5:base", "exp5/base", "exp5 [Base]"]) {
    assert.deepEqual(rowTarget(l), { kind: "run", name: "exp5", model: "base" }, l);
  }
  for (const l of ["exp5 (fine-tuned)", "exp5 finetuned", "exp5/ft", "exp5 (GRPO)"]) {
    assert.deepEqual(rowTarget(l), { kind: "run", name: "exp5", model: "finetuned" }, l);
  }
  assert.deepEqual(rowTarget("exp1-10000steps-cosine"), {
    kind: "run",
    name: "exp1-10000steps-cosine",
    model: "finetuned",
  });
  for (const l of ["Real motion", "Ground Truth", "GT", "real"]) {
    assert.deepEqual(rowTarget(l), { kind: "reference" }, l);
  }
  assert.deepEqual(rowTarget("exp5 (paper)"), { kind: "unreadable" });
  assert.deepEqual(rowTarget("MDM + GRPO, ours"), { kind: "unreadable" });
});
