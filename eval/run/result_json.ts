/**
 * The result file of `deno task eval-humanml` (`<model dir>/eval_<mode>.json` by default): every
 * replication's metrics and the summaries (mean, population std, 95% interval), snake_case, with
 * no timestamps, so that the same inputs and seed give a byte-identical file. Written atomically.
 * @module
 */
import { writeFileAtomic } from "../../models/checkpoint/write_file_atomic.ts";
import { formatTable } from "../format_table.ts";
import type { MetricSummaries, ReplicationMetrics, Summary } from "../summary.ts";
import type { CompositeEvaluationResult, SegmentMetrics } from "./evaluate_composite.ts";
import type { EvaluationResult } from "./evaluate_model.ts";

/** Identifies the layout of the file. */
export const EVAL_RESULT_FORMAT = "motion-grpo/eval-humanml/1";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The JSON object of a plain or composite evaluation, with `meta` (model path, mode, dataset,
 * device...) stored under `run`.
 */
export function evaluationJson(
  result: EvaluationResult | CompositeEvaluationResult,
  meta: Record<string, Json>,
): Record<string, Json> {
  const common: Record<string, Json> = {
    format: EVAL_RESULT_FORMAT,
    run: meta,
    protocol: {
      replications: result.protocol.replications,
      num_samples_limit: result.protocol.numSamplesLimit,
      batch_size: result.protocol.batchSize,
      diversity_times: result.protocol.diversityTimes,
      run_multimodality: result.protocol.runMultimodality,
      mm_num_samples: result.protocol.mmNumSamples,
      mm_num_repeats: result.protocol.mmNumRepeats,
      mm_num_times: result.protocol.mmNumTimes,
    },
    seed: result.seed,
    guidance_param: result.guidance,
    plan: { kind: result.plan.kind, steps: result.plan.steps },
    evaluator: result.evaluator,
    text_featurizer: result.featurizer,
    samples_per_replication: result.samplesPerReplication,
  };
  if ("segmentRows" in result) {
    return {
      ...common,
      composite: true,
      composite_samples: result.samples,
      frames: result.frames,
      summary: {
        ground_truth: summariesJson(result.rows[0].metrics),
        model: summariesJson(result.rows[1].metrics),
      },
      segment_summary: {
        ground_truth: {
          ...summariesJson(result.segmentRows[0].metrics),
          segment_accuracy: summaryJson(result.segmentAccuracy.groundTruth),
        },
        model: {
          ...summariesJson(result.segmentRows[1].metrics),
          segment_accuracy: summaryJson(result.segmentAccuracy.model),
        },
      },
      replications: result.replications.map((r) => ({
        ground_truth: {
          ...metricsJson(r.groundTruth.global),
          segment: segmentJson(r.groundTruth.segment),
        },
        model: { ...metricsJson(r.model.global), segment: segmentJson(r.model.segment) },
      })),
    };
  }
  return {
    ...common,
    composite: false,
    mm_texts: result.mmTexts,
    summary: {
      ground_truth: summariesJson(result.rows[0].metrics),
      model: summariesJson(result.rows[1].metrics),
    },
    replications: result.replications.map((r) => ({
      ground_truth: metricsJson(r.groundTruth),
      model: metricsJson(r.model),
    })),
  };
}

/** The printed table(s) of a result: the standard rows, plus the segment rows for composites. */
export function evaluationTable(result: EvaluationResult | CompositeEvaluationResult): string {
  const main = formatTable(result.rows);
  if (!("segmentRows" in result)) return main;
  const acc = (s: Summary) => `${s.mean.toFixed(3)} ± ${s.interval.toFixed(3)}`;
  return [
    "Whole motions vs joined texts:",
    main,
    "",
    "Segments vs sub-texts:",
    formatTable(result.segmentRows),
    `segment-order accuracy: ground truth ${acc(result.segmentAccuracy.groundTruth)}, ` +
    `model ${acc(result.segmentAccuracy.model)}`,
  ].join("\n");
}

/** Writes `json` (2-space indented, final newline) to `path` atomically. */
export async function writeEvaluationJson(path: string, json: Record<string, Json>): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n"));
}

const KEYS: Record<string, string> = {
  "R@1": "r_precision_top1",
  "R@2": "r_precision_top2",
  "R@3": "r_precision_top3",
  "FID": "fid",
  "MM-Dist": "matching_score",
  "Diversity": "diversity",
  "MModality": "multimodality",
};

function summaryJson(s: Summary): Record<string, Json> {
  return { mean: s.mean, std: s.std, interval: s.interval, replications: s.replications };
}

function summariesJson(m: MetricSummaries): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [column, key] of Object.entries(KEYS)) {
    const s = m[column as keyof MetricSummaries];
    if (s !== undefined) out[key] = summaryJson(s);
  }
  return out;
}

function metricsJson(m: ReplicationMetrics): Record<string, Json> {
  const out: Record<string, Json> = {
    r_precision_top1: m.rPrecision[0],
    r_precision_top2: m.rPrecision[1],
    r_precision_top3: m.rPrecision[2],
    fid: m.fid,
    matching_score: m.matchingScore,
    diversity: m.diversity,
  };
  if (m.multimodality !== undefined) out.multimodality = m.multimodality;
  return out;
}

function segmentJson(m: SegmentMetrics): Record<string, Json> {
  return {
    r_precision_top1: m.rPrecision[0],
    r_precision_top2: m.rPrecision[1],
    r_precision_top3: m.rPrecision[2],
    matching_score: m.matchingScore,
    segment_accuracy: m.segmentAccuracy,
  };
}
