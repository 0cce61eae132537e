/** The standard results table: one row per model, `mean ± interval` with 3 decimals. */
import { METRIC_COLUMNS, type MetricSummaries } from "./summary.ts";

/** One table row: a model (or "real motion") and its metric summaries. */
export interface TableRow {
  name: string;
  metrics: MetricSummaries;
}

/**
 * A markdown table with the columns R@1 R@2 R@3 FID MM-Dist Diversity MModality; cells read
 * `mean ± interval` (3 decimals), a metric that was not measured reads `–`. Columns are padded so
 * the table is also readable as plain text.
 *
 * @param rows the models, in display order.
 * @returns the table, lines joined by "\n", without a trailing newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTable } from "./format_table.ts";
 * const s = { mean: 0.5, std: 0.01, interval: 0.004, replications: 20 };
 * assert.ok(formatTable([{ name: "mdm", metrics: { "R@1": s } }]).includes("0.500 ± 0.004"));
 * ```
 */
export function formatTable(rows: readonly TableRow[]): string {
  const header = ["model", ...METRIC_COLUMNS];
  const body = rows.map((r) => [
    r.name,
    ...METRIC_COLUMNS.map((c) => {
      const s = r.metrics[c];
      return s === undefined ? "–" : `${s.mean.toFixed(3)} ± ${s.interval.toFixed(3)}`;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}
