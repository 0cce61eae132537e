/**
 * Aggregation of replications as `get_metric_statistics` in MDM's `eval/eval_humanml.py`: the mean,
 * the population standard deviation (`np.std`, ddof 0) and the 95% interval
 * `1.96 * std / sqrt(replications)`.
 */

/** Mean, population std and 95% half-interval of one metric over replications. */
export interface Summary {
  mean: number;
  /** Population standard deviation (divisor = replications), as `np.std`. */
  std: number;
  /** Half-width of the 95% interval: `1.96 * std / sqrt(replications)`. */
  interval: number;
  replications: number;
}

/** The metrics of one replication (one generated set evaluated once). */
export interface ReplicationMetrics {
  /** Top-1, top-2, top-3 R-precision. */
  rPrecision: readonly [number, number, number];
  fid: number;
  /** MM-Dist. */
  matchingScore: number;
  diversity: number;
  /** Absent when the protocol does not measure it. */
  multimodality?: number;
}

/** The columns of the standard table, in order. */
export const METRIC_COLUMNS = [
  "R@1",
  "R@2",
  "R@3",
  "FID",
  "MM-Dist",
  "Diversity",
  "MModality",
] as const;

/** One column of the standard table. */
export type MetricColumn = typeof METRIC_COLUMNS[number];

/** Summaries by column; a missing column prints as a dash. */
export type MetricSummaries = Partial<Record<MetricColumn, Summary>>;

/**
 * Mean ± 95% interval of `values`, one per replication.
 *
 * @param values per-replication values (at least one, all finite).
 * @returns mean, population std and interval.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarise } from "./summary.ts";
 * const s = summarise([1, 3]);
 * assert.ok(s.mean === 2 && s.std === 1 && Math.abs(s.interval - 1.96 / Math.SQRT2) < 1e-15);
 * ```
 */
export function summarise(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) throw new RangeError("Cannot summarise metric: no replications");
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`Cannot summarise metric: value ${v}`);
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const std = Math.sqrt(ss / n);
  return { mean, std, interval: 1.96 * std / Math.sqrt(n), replications: n };
}

/**
 * Summaries of every metric over `replications`. Multimodality is summarised only when every
 * replication has it; mixing is an error.
 *
 * @param replications the per-replication metrics.
 * @returns summaries by table column.
 */
export function aggregateReplications(
  replications: readonly ReplicationMetrics[],
): MetricSummaries {
  if (replications.length === 0) throw new RangeError("Cannot aggregate: no replications");
  const withMm = replications.filter((r) => r.multimodality !== undefined).length;
  if (withMm !== 0 && withMm !== replications.length) {
    throw new RangeError(
      `Cannot aggregate: ${withMm} of ${replications.length} replications have multimodality`,
    );
  }
  const out: MetricSummaries = {
    "R@1": summarise(replications.map((r) => r.rPrecision[0])),
    "R@2": summarise(replications.map((r) => r.rPrecision[1])),
    "R@3": summarise(replications.map((r) => r.rPrecision[2])),
    "FID": summarise(replications.map((r) => r.fid)),
    "MM-Dist": summarise(replications.map((r) => r.matchingScore)),
    "Diversity": summarise(replications.map((r) => r.diversity)),
  };
  if (withMm > 0) out["MModality"] = summarise(replications.map((r) => r.multimodality!));
  return out;
}
