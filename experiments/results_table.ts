/**
 * Reading a published results table (a Markdown pipe table or CSV) for
 * `deno task exp verify --table FILE`.
 *
 * One column names the row (a header such as `name`, `run`, `experiment`, `model` or `method`;
 * else the first column), the metric columns are recognised by their usual spellings in
 * HumanML3D papers, case-insensitive, arrows and punctuation ignored:
 *
 * | metric            | headers                                                               |
 * | ----------------- | --------------------------------------------------------------------- |
 * | R-precision top-k | `R Precision Top 1`, `R-Precision (Top-1)↑`, `Top1`, `Top-1`, `R@1`   |
 * | FID               | `FID`, `FID↓`                                                         |
 * | MM-Dist           | `MM Dist`, `MM-Dist`, `MM Distance`, `Matching Score`, `Matching`     |
 * | Diversity         | `Diversity`, `Diversity→`, `Div`                                      |
 * | MultiModality     | `MultiModality`, `Multi-Modality`, `MModality`, `MM`                  |
 *
 * Other columns are listed as ignored. A value is `0.512`, `0.512±0.003`, `0.512 ± 0.003`,
 * `0.512 +- 0.003` or LaTeX `$0.512^{\pm.003}$`; emphasis (`**0.512**`), footnote marks (`*`, `†`)
 * are dropped; an empty cell, `-` or `n/a` is "not published". Every fault throws one
 * {@link TableError} naming the file and the line.
 * @module
 */

/** The metrics a table may publish, as `results.json` names them. */
export const TABLE_METRICS = [
  "r_precision_top1",
  "r_precision_top2",
  "r_precision_top3",
  "fid",
  "matching_score",
  "diversity",
  "multimodality",
] as const;

/** A metric a table may publish. */
export type TableMetric = (typeof TABLE_METRICS)[number];

/** How the verify table names each metric. */
export const METRIC_LABELS: Readonly<Record<TableMetric, string>> = {
  r_precision_top1: "R-Precision Top-1",
  r_precision_top2: "R-Precision Top-2",
  r_precision_top3: "R-Precision Top-3",
  fid: "FID",
  matching_score: "MM-Dist",
  diversity: "Diversity",
  multimodality: "MultiModality",
};

/** One published number. */
export interface PublishedValue {
  value: number;
  /** The `±` half-width, or null when the table gives none. */
  interval: number | null;
  /** Digits printed after the decimal point (0.512 → 3): the table's rounding. */
  decimals: number;
  /** The cell as written (trimmed). */
  text: string;
}

/** One data row. */
export interface TableRow {
  /** 1-based line in the file. */
  line: number;
  /** The name cell as written (emphasis removed). */
  label: string;
  /** The published metrics of the row; a metric absent here was not published in it. */
  values: Partial<Record<TableMetric, PublishedValue>>;
}

/** One table of the file (a Markdown file may hold several). */
export interface ResultsTable {
  /** 1-based line of the header row. */
  line: number;
  /** Header of the name column. */
  nameColumn: string;
  /** Metric columns: the header as written and the metric it stands for. */
  metrics: { header: string; metric: TableMetric }[];
  /** Headers of the columns that are neither the name nor a metric. */
  ignored: string[];
  rows: TableRow[];
}

/** A table that cannot be read; the message names the file and the line. */
export class TableError extends Error {
  /** The file as given. */
  readonly file: string;
  /** 1-based line, or 0 for the whole file. */
  readonly line: number;

  /** `detail` is the part after the location. */
  constructor(file: string, line: number, detail: string) {
    super(`Invalid table "${file}"${line > 0 ? ` line ${line}` : ""}: ${detail}`);
    this.name = "TableError";
    this.file = file;
    this.line = line;
  }
}

/** Headers that name the row's run. */
const NAME_HEADERS = new Set([
  "name",
  "run",
  "runs",
  "experiment",
  "experiments",
  "exp",
  "manifest",
  "model",
  "models",
  "method",
  "methods",
  "label",
  "row",
  "setting",
  "config",
  "configuration",
]);

/** Lowercase letters, digits and `@` only: `R-Precision (Top 1)↑` → `rprecisiontop1`. */
function normalise(header: string): string {
  return header.toLowerCase().replace(/[^a-z0-9@]/g, "");
}

/** The metric a header stands for, or null. */
export function metricOfHeader(header: string): TableMetric | null {
  const n = normalise(stripDecoration(header));
  const rest = n.replace(/^(?:rprecision|rprec|precision)/, "");
  const topK = /^(top|r@|@)?([123])$/.exec(rest);
  // A bare digit is top-k only after an R-precision prefix ("R Precision 1").
  if (topK !== null && (topK[1] !== undefined || rest !== n)) {
    return `r_precision_top${topK[2]}` as TableMetric;
  }
  if (n === "fid") return "fid";
  if (["mmdist", "mmdistance", "matchingscore", "matching", "matchingdist"].includes(n)) {
    return "matching_score";
  }
  if (n === "diversity" || n === "div") return "diversity";
  if (["multimodality", "mmodality", "multimodal", "mmod", "mm"].includes(n)) {
    return "multimodality";
  }
  return null;
}

/** Drops Markdown emphasis, code marks, footnote marks and LaTeX wrapping. */
function stripDecoration(cell: string): string {
  return cell.replace(/\\pm/g, "±").replace(/[*_`†‡$^{}]/g, "").replace(/\\/g, "").trim();
}

const NUMBER = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const VALUE_RE = new RegExp(`^(${NUMBER})(?:\\s*(?:±|\\+-|\\+/-)\\s*(${NUMBER}))?$`);
const EMPTY = new Set(["", "-", "–", "—", "n/a", "na", "nan", "?"]);

/**
 * Reads one metric cell: a number with an optional `±` half-width; null for "not published".
 * Throws a RangeError (without location) for anything else.
 */
export function parseValue(cell: string): PublishedValue | null {
  const text = cell.trim();
  const s = stripDecoration(text).replace(/\s+/g, " ");
  if (EMPTY.has(s.toLowerCase())) return null;
  const m = VALUE_RE.exec(s);
  if (m === null) {
    throw new RangeError(
      `cannot read ${JSON.stringify(text)} as a number (write 0.512 or 0.512±0.003)`,
    );
  }
  const interval = m[2] === undefined ? null : Number(m[2]);
  if (interval !== null && interval < 0) {
    throw new RangeError(`the ± half-width of ${JSON.stringify(text)} is negative`);
  }
  const mantissa = m[1].split(/[eE]/)[0];
  const dot = mantissa.indexOf(".");
  const exp = /[eE]([+-]?\d+)$/.exec(m[1]);
  const decimals = Math.max(0, (dot < 0 ? 0 : mantissa.length - dot - 1) - Number(exp?.[1] ?? 0));
  return { value: Number(m[1]), interval, decimals, text };
}

/** Splits a Markdown table line into cells (`\|` is a literal bar). */
function markdownCells(line: string): string[] {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && s[i + 1] === "|") {
      cur += "|";
      i++;
    } else if (s[i] === "|") {
      cells.push(cur.trim());
      cur = "";
    } else cur += s[i];
  }
  cells.push(cur.trim());
  return cells;
}

const SEPARATOR_RE = /^\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?$/;

/** The raw tables of a Markdown file: header cells, data rows, with their line numbers. */
function markdownTables(file: string, text: string): RawTable[] {
  const lines = text.split(/\r?\n/);
  const tables: RawTable[] = [];
  let i = 0;
  let fenced = false;
  while (i < lines.length) {
    const t = lines[i].trim();
    if (t.startsWith("```")) fenced = !fenced;
    if (fenced || !t.startsWith("|")) {
      i++;
      continue;
    }
    const header = markdownCells(t);
    const sep = lines[i + 1]?.trim() ?? "";
    if (!SEPARATOR_RE.test(sep)) {
      throw new TableError(
        file,
        i + 2,
        `the header row (line ${i + 1}) must be followed by a separator row like |---|---|`,
      );
    }
    if (markdownCells(sep).length !== header.length) {
      throw new TableError(
        file,
        i + 2,
        `the separator row has ${markdownCells(sep).length} cells, the header has ${header.length}`,
      );
    }
    const table: RawTable = { line: i + 1, header, rows: [] };
    i += 2;
    while (i < lines.length && lines[i].trim().startsWith("|")) {
      table.rows.push({ line: i + 1, cells: markdownCells(lines[i]) });
      i++;
    }
    tables.push(table);
  }
  return tables;
}

/** Splits one CSV line (RFC 4180 quoting; fields do not span lines). */
function csvCells(file: string, lineNo: number, line: string, sep: string): string[] {
  const cells: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur.trim() === "") {
      quoted = true;
      cur = "";
    } else if (c === sep) {
      cells.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (quoted) throw new TableError(file, lineNo, "a quoted field is not closed on its line");
  cells.push(cur.trim());
  return cells;
}

/** The one table of a CSV (or TSV) file; blank lines and `#` comment lines are skipped. */
function csvTable(file: string, text: string, sep: string): RawTable[] {
  const rows: RawRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "" || line.trim().startsWith("#")) return;
    rows.push({ line: i + 1, cells: csvCells(file, i + 1, line, sep) });
  });
  if (rows.length === 0) return [];
  return [{ line: rows[0].line, header: rows[0].cells, rows: rows.slice(1) }];
}

interface RawRow {
  line: number;
  cells: string[];
}

interface RawTable {
  line: number;
  header: string[];
  rows: RawRow[];
}

function interpret(file: string, raw: RawTable): ResultsTable {
  const metricAt = raw.header.map(metricOfHeader);
  const seen = new Map<TableMetric, string>();
  raw.header.forEach((h, c) => {
    const m = metricAt[c];
    if (m === null) return;
    if (seen.has(m)) {
      throw new TableError(
        file,
        raw.line,
        `columns "${seen.get(m)}" and "${h}" both stand for ${METRIC_LABELS[m]}`,
      );
    }
    seen.set(m, h);
  });
  if (seen.size === 0) {
    throw new TableError(
      file,
      raw.line,
      `no metric column in the header (${raw.header.map((h) => `"${h}"`).join(", ")}): ` +
        `expected R-Precision Top-1/2/3, FID, MM-Dist, Diversity or MultiModality`,
    );
  }
  let nameCol = raw.header.findIndex((h, c) =>
    metricAt[c] === null && NAME_HEADERS.has(normalise(h))
  );
  if (nameCol < 0) nameCol = metricAt[0] === null ? 0 : -1;
  if (nameCol < 0) {
    throw new TableError(
      file,
      raw.line,
      `no column names the runs: add a first column "name" holding manifest names (exp5)`,
    );
  }
  const table: ResultsTable = {
    line: raw.line,
    nameColumn: raw.header[nameCol],
    metrics: raw.header.flatMap((h, c) =>
      metricAt[c] === null ? [] : [{ header: h, metric: metricAt[c]! }]
    ),
    ignored: raw.header.filter((_, c) => c !== nameCol && metricAt[c] === null),
    rows: [],
  };
  if (raw.rows.length === 0) {
    throw new TableError(file, raw.line, "the table has a header but no rows");
  }
  for (const r of raw.rows) {
    if (r.cells.length !== raw.header.length) {
      throw new TableError(
        file,
        r.line,
        `the row has ${r.cells.length} cells, the header (line ${raw.line}) has ${raw.header.length}`,
      );
    }
    const label = stripDecoration(r.cells[nameCol]);
    if (label === "") throw new TableError(file, r.line, `the "${table.nameColumn}" cell is empty`);
    const values: Partial<Record<TableMetric, PublishedValue>> = {};
    raw.header.forEach((h, c) => {
      const m = metricAt[c];
      if (m === null) return;
      try {
        const v = parseValue(r.cells[c]);
        if (v !== null) values[m] = v;
      } catch (e) {
        throw new TableError(file, r.line, `column "${h}": ${(e as Error).message}`);
      }
    });
    table.rows.push({ line: r.line, label, values });
  }
  return table;
}

/**
 * Reads the tables of `text` (`file` names it in errors and picks the format: `.csv` and `.tsv`
 * are CSV/TSV, anything else is Markdown unless it has no line starting with `|`, which makes it
 * CSV). Throws a {@link TableError} naming the file and line.
 */
export function parseResultsTable(file: string, text: string): ResultsTable[] {
  const lower = file.toLowerCase();
  const markdown = !lower.endsWith(".csv") && !lower.endsWith(".tsv") &&
    text.split(/\r?\n/).some((l) => l.trim().startsWith("|"));
  const raw = markdown
    ? markdownTables(file, text)
    : csvTable(file, text, lower.endsWith(".tsv") ? "\t" : ",");
  if (raw.length === 0) {
    throw new TableError(
      file,
      0,
      `no table found (expected a Markdown pipe table or CSV with a header row)`,
    );
  }
  return raw.map((t) => interpret(file, t));
}

/** Reads and parses a table file; a missing file throws a `Deno.errors.NotFound` naming it. */
export async function readResultsTable(path: string): Promise<ResultsTable[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read table "${path}": no such file`);
    }
    throw e;
  }
  return parseResultsTable(path, text);
}

/** Which model of a run a row stands for. */
export type RowModel = "base" | "finetuned";

/** What a row label refers to. */
export type RowTarget =
  | { kind: "run"; name: string; model: RowModel }
  | { kind: "reference" }
  | { kind: "unreadable" };

const REFERENCE_LABELS = new Set([
  "real",
  "realmotion",
  "realmotions",
  "groundtruth",
  "gt",
  "reference",
]);

/**
 * The label mapping: `exp5` is the fine-tuned model of the manifest `exp5`; `exp5 (base)`,
 * `exp5 base`, `exp5:base`, `exp5/base` is its base model (`fine-tuned`, `finetuned`, `ft`,
 * `grpo` name the fine-tuned one explicitly). Names are matched lowercase. `Real`,
 * `Real motion`, `Ground truth` and `GT` are reference rows, which have no run.
 */
export function rowTarget(label: string): RowTarget {
  const s = label.trim();
  if (REFERENCE_LABELS.has(normalise(s))) return { kind: "reference" };
  const m =
    /^([A-Za-z0-9][A-Za-z0-9-]*?)(?:\s*[([]\s*([A-Za-z -]+?)\s*[)\]]|\s*[:/.]\s*([A-Za-z-]+)|\s+([A-Za-z -]+))?$/
      .exec(s);
  if (m === null) return { kind: "unreadable" };
  const word = (m[2] ?? m[3] ?? m[4] ?? "").toLowerCase().replace(/[^a-z]/g, "");
  const model: RowModel | null = word === "base"
    ? "base"
    : ["", "finetuned", "ft", "grpo", "tuned"].includes(word)
    ? "finetuned"
    : null;
  if (model === null) return { kind: "unreadable" };
  return { kind: "run", name: m[1].toLowerCase(), model };
}
