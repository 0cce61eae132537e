/**
 * `deno task exp verify --table FILE`: checks a published results table against the runs its
 * rows point to (`runs/<name>/results.json`, written by `deno task exp run <name>`).
 *
 * Each published metric passes when `|rerun - published|` is within the allowed half-width:
 * - the table's own `±` when the cell has one (`0.512±0.003`);
 * - else the manifest's recorded `expected` tolerance (or its 95% interval) for that metric
 *   (`finetuned.fid`, `base.fid`);
 * - else the run's own 95% interval recorded in `results.json`;
 * plus, in every case, half a unit in the last printed digit, since a printed value is rounded
 * (`0.512` stands for anything in [0.5115, 0.5125]). With none of the three, only that rounding
 * is allowed.
 *
 * A row fails when its label names no manifest, the manifest has no run (the message gives the
 * command that makes it), the run was made from another manifest id (stale), or a published
 * metric is outside its interval or was not measured by the run.
 * @module
 */
import { join } from "node:path";
import { manifestId } from "./hash.ts";
import { findManifest, MANIFEST_DIR, manifestNames } from "./manifest.ts";
import {
  METRIC_LABELS,
  type PublishedValue,
  readResultsTable,
  type ResultsTable,
  type RowModel,
  rowTarget,
  type TableMetric,
  type TableRow,
} from "./results_table.ts";
import { RUNS_DIR } from "./run_record.ts";
import type { Manifest } from "./schema.ts";

/** Where the allowed half-width came from. */
export type AllowedSource = "table ±" | "manifest" | "run 95% CI" | "rounding";

/** One metric of one row. */
export interface TableMetricCheck {
  metric: TableMetric;
  published: PublishedValue;
  /** The run's value, or null when the run did not measure it. */
  rerun: number | null;
  /** `rerun - published` (NaN when not measured). */
  difference: number;
  /** Allowed half-width (rounding included). */
  allowed: number;
  source: AllowedSource;
  ok: boolean;
}

/** The outcome of one row. */
export interface TableRowCheck {
  row: TableRow;
  /** Manifest name and model, when the label maps to one. */
  name: string | null;
  model: RowModel | null;
  /** `runs/<name>/results.json` when read. */
  resultsPath: string | null;
  /** One line for a row that could not be compared, or a stale run; null otherwise. */
  problem: string | null;
  /** A few words for the summary line (`no run`, `stale run`), with {@link problem}. */
  reason: string | null;
  /** Reference rows (`Real motion`) are skipped and do not fail. */
  skipped: boolean;
  metrics: TableMetricCheck[];
  /** Manifest id prefix and device/date of the run, for the row heading. */
  runInfo: string;
  ok: boolean;
}

/** Options of {@link checkTable}. */
export interface TableCheckOptions {
  /** Folder of the manifests (default {@link MANIFEST_DIR}). */
  manifestsDir?: string;
  /** Folder of the run folders (default {@link RUNS_DIR}). */
  runsDir?: string;
  /** Check only the rows of this manifest. */
  only?: string;
}

/** The whole check. */
export interface TableCheck {
  file: string;
  tables: ResultsTable[];
  rows: TableRowCheck[];
  passed: boolean;
}

interface RunResultsJson {
  manifest_id?: string;
  device_class?: string;
  created?: string;
  metrics?: Record<string, Record<string, { mean?: number; interval?: number }>>;
}

/** The command that makes the run of `m`. */
export function runCommand(m: Manifest): string {
  return `deno task exp run ${m.name}${m.profile === "paper" ? " --assets DIR" : ""}`;
}

/** Half a unit in the last printed digit of `v`. */
function roundingOf(v: PublishedValue): number {
  return 0.5 * 10 ** -v.decimals;
}

/**
 * Compares one published value with a run's: see the module doc for the allowed half-width.
 * `recorded` is the manifest's expected entry for the metric, `runInterval` the run's 95%
 * half-width.
 */
export function compareMetric(
  metric: TableMetric,
  published: PublishedValue,
  rerun: number | null,
  recorded: { interval?: number; tolerance?: number } | undefined,
  runInterval: number | undefined,
): TableMetricCheck {
  const fromManifest = recorded?.tolerance ?? recorded?.interval;
  const [base, source]: [number, AllowedSource] = published.interval !== null
    ? [published.interval, "table ±"]
    : fromManifest !== undefined
    ? [fromManifest, "manifest"]
    : runInterval !== undefined && Number.isFinite(runInterval)
    ? [runInterval, "run 95% CI"]
    : [0, "rounding"];
  const allowed = base + roundingOf(published);
  const difference = rerun === null ? NaN : rerun - published.value;
  // A tiny relative slack so that 0.5125 vs 0.512 (exactly at the edge) is not lost to binary
  // floating point: 1e-12 relative.
  const ok = rerun !== null &&
    Math.abs(difference) <= allowed + 1e-12 * Math.max(1, Math.abs(published.value));
  return { metric, published, rerun, difference, allowed, source, ok };
}

async function readJson(path: string): Promise<unknown | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof SyntaxError) {
      throw new SyntaxError(`Cannot read "${path}": it is not valid JSON (${e.message})`);
    }
    throw e;
  }
}

async function checkRow(row: TableRow, o: Required<Omit<TableCheckOptions, "only">>) {
  const base: TableRowCheck = {
    row,
    name: null,
    model: null,
    resultsPath: null,
    problem: null,
    reason: null,
    skipped: false,
    metrics: [],
    runInfo: "",
    ok: false,
  };
  const t = rowTarget(row.label);
  if (t.kind === "reference") return { ...base, skipped: true, ok: true };
  if (t.kind === "unreadable") {
    return {
      ...base,
      reason: "not a manifest name",
      problem: `cannot read "${row.label}" as a manifest name (write exp5, or exp5 (base) ` +
        `for the base model)`,
    };
  }
  const names = await manifestNames(o.manifestsDir);
  if (!names.includes(t.name)) {
    return {
      ...base,
      name: t.name,
      model: t.model,
      reason: "no such manifest",
      problem: `no manifest named "${t.name}" (known: ${names.join(", ")})`,
    };
  }
  const m = await findManifest(t.name, o.manifestsDir);
  const resultsPath = join(o.runsDir, t.name, "results.json");
  const here = { ...base, name: t.name, model: t.model, resultsPath };
  const r = await readJson(resultsPath) as RunResultsJson | null;
  if (r === null) {
    return {
      ...here,
      resultsPath: null,
      reason: "no run",
      problem: `no run: ${resultsPath} does not exist; make it with \`${runCommand(m)}\``,
    };
  }
  const model = r.metrics?.[t.model];
  if (typeof model !== "object" || model === null) {
    throw new SyntaxError(`Cannot read "${resultsPath}": it has no metrics.${t.model}`);
  }
  const id = await manifestId(m);
  const runInfo = `manifest ${String(r.manifest_id ?? "?").slice(0, 12)}, ` +
    `${r.device_class ?? "?"}, ${String(r.created ?? "?").slice(0, 10)}`;
  const problem = r.manifest_id === id
    ? null
    : `stale run: ${resultsPath} was made from manifest ` +
      `id ${String(r.manifest_id ?? "?").slice(0, 12)}, the manifest is now ${id.slice(0, 12)}; ` +
      `rerun with \`${runCommand(m)}\``;
  const metrics = Object.entries(row.values).map(([k, v]) => {
    const metric = k as TableMetric;
    const found = model[metric];
    const rerun = typeof found?.mean === "number" ? found.mean : null;
    return compareMetric(
      metric,
      v!,
      rerun,
      m.expected?.metrics[`${t.model}.${metric}`],
      found?.interval,
    );
  });
  return {
    ...here,
    problem,
    reason: problem === null ? null : "stale run",
    metrics,
    runInfo,
    ok: problem === null && metrics.every((x) => x.ok),
  };
}

/** Reads `file` and checks every row (or those of `o.only`) against its run. */
export async function checkTable(file: string, o: TableCheckOptions = {}): Promise<TableCheck> {
  const tables = await readResultsTable(file);
  const opts = { manifestsDir: o.manifestsDir ?? MANIFEST_DIR, runsDir: o.runsDir ?? RUNS_DIR };
  const rows: TableRowCheck[] = [];
  for (const t of tables) {
    for (const row of t.rows) {
      if (o.only !== undefined) {
        const target = rowTarget(row.label);
        if (target.kind !== "run" || target.name !== o.only) continue;
      }
      rows.push(await checkRow(row, opts));
    }
  }
  if (o.only !== undefined && rows.length === 0) {
    throw new RangeError(`Cannot verify ${o.only} --table "${file}": no row of the table names it`);
  }
  return { file, tables, rows, passed: rows.every((r) => r.ok) };
}

/** A number as a table shows it: up to `digits` significant digits, no trailing zeros. */
function num(x: number, digits = 6): string {
  if (!Number.isFinite(x)) return "–";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return x.toExponential(digits - 3).replace(/\.?0+e/, "e");
  return Number(x.toPrecision(digits)).toString();
}

function signed(x: number): string {
  if (!Number.isFinite(x)) return "–";
  return (x >= 0 ? "+" : "") + num(x, 4);
}

function columns(rows: string[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => c === r.length - 1 ? cell : cell.padEnd(w[c])).join("  ")
  )
    .join("\n");
}

/**
 * The text `verify --table` prints: ignored columns, then per row a heading and the
 * side-by-side table (metric, published, rerun, difference, allowed, verdict), then a summary.
 */
export function formatTableCheck(c: TableCheck): string {
  const out: string[] = [];
  for (const t of c.tables) {
    if (t.ignored.length > 0) {
      out.push(
        `${c.file} line ${t.line}: ignored columns (not metrics): ${
          t.ignored.map((h) => `"${h}"`).join(", ")
        }`,
      );
    }
  }
  for (const r of c.rows) {
    const where = `${r.row.label} (line ${r.row.line})`;
    if (r.skipped) {
      out.push("", `${where}: reference row, skipped`);
      continue;
    }
    const who = r.name === null
      ? where
      : `${where} → ${r.name} ${r.model === "base" ? "base" : "fine-tuned"}`;
    out.push("", r.resultsPath !== null ? `${who}: ${r.resultsPath} (${r.runInfo})` : who);
    if (r.problem !== null) out.push(`  FAILED: ${r.problem}`);
    if (r.metrics.length > 0) {
      const head = ["metric", "published", "rerun", "difference", "allowed", "verdict"];
      const body = r.metrics.map((m) => [
        METRIC_LABELS[m.metric],
        m.published.text,
        m.rerun === null ? "not measured" : num(m.rerun),
        signed(m.difference),
        `±${num(m.allowed, 4)} (${m.source})`,
        m.ok ? "ok" : m.rerun === null ? "MISSING" : "MISMATCH",
      ]);
      out.push(columns([head, ...body]).split("\n").map((l) => `  ${l}`).join("\n"));
    }
  }
  const failed = c.rows.filter((r) => !r.ok);
  const checked = c.rows.filter((r) => !r.skipped);
  const metricCount = checked.reduce((s, r) => s + r.metrics.length, 0);
  out.push("");
  if (failed.length === 0) {
    out.push(`PASSED: ${checked.length} rows, ${metricCount} metrics within their intervals`);
  } else {
    const why = failed.map((r) => {
      const bad = r.metrics.filter((m) => !m.ok).length;
      const what = r.reason ??
        `${bad} metric${bad === 1 ? "" : "s"} outside the interval or not measured`;
      return `${r.row.label}: ${what}`;
    });
    out.push(`FAILED: ${failed.length} of ${checked.length} rows (${why.join("; ")})`);
  }
  return out.join("\n").replace(/^\n/, "");
}
