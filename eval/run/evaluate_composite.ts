/**
 * The protocol on a composite dataset (`--use_composite_dataset`, file layout in
 * `datasets/composite/layout.ts`): each sample is K sub-texts with their segment lengths.
 *
 * Per replication `rep`, the samples are shuffled (stream `compositeOrder + rep`) and cut into
 * `min(protocolBatches(protocol).batches, floor(N / batchSize))` batches (no sample twice in one
 * replication). For every batch the model generates one motion per sample for the joined text
 * ({@linkcode joinSubTexts}) with the sample's total length, noise stream `(seed, rep, batch)`,
 * over `T` = the longest total length in the file (composites may exceed 196 frames by the
 * construction tolerance).
 *
 * Two levels of metrics, for the real composite motions ("ground truth") and the generated ones:
 * - global: the standard row (R-precision over batches of 32, FID against the real composites,
 *   MM-Dist, diversity) of whole motions against joined texts;
 * - segment: the motion is cut at the segment boundaries (the sample's `lengths`), each segment
 *   is embedded on its own and compared with its sub-text. Segment R-precision ranks a segment's
 *   own sub-text among the sub-texts of the other segments of its batch of 32 segments (the
 *   flattened list of all segments, sample-major); segment MM-Dist is the mean distance between a
 *   segment and its sub-text; segment-order accuracy is the fraction of segments whose own
 *   sub-text is strictly the nearest among the K sub-texts of the same sample (1/K by chance),
 *   i.e. whether the right action happens in the right segment.
 * @module
 */
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import type { Denoiser } from "../../diffusion/denoiser.ts";
import type { SamplingPlan } from "../../diffusion/plan.ts";
import type { CompositeSample } from "../../datasets/composite/layout.ts";
import type { Embeddings } from "../embeddings.ts";
import { matchingScore } from "../matching_score.ts";
import { rPrecision } from "../r_precision.ts";
import { type EvalProtocol, protocolBatches } from "../protocol.ts";
import {
  aggregateReplications,
  type MetricSummaries,
  type ReplicationMetrics,
  summarise,
  type Summary,
} from "../summary.ts";
import type { TableRow } from "../format_table.ts";
import { encodeFeatures, type Featurizer, queueMotions } from "./generate.ts";
import { runOverlapped } from "../../diffusion/overlap.ts";
import { defaultEvalPlan } from "./evaluate_model.ts";
import { checkEncoded, hostRng, replicationMetrics, stackEmbeddings } from "./_metrics.ts";
import { HOST_STREAM, hostStream, noiseStream } from "./_streams.ts";

/** Inputs of {@linkcode evaluateComposite}. */
export interface EvaluateCompositeOptions {
  model: Denoiser;
  featurizer: Featurizer;
  evaluator: TextMotionEncoder;
  /** The composite samples (`readComposite`). */
  samples: readonly CompositeSample[];
  /** Dataset statistics (F) the model's features are normalised with. */
  mean: Float32Array;
  std: Float32Array;
  protocol: EvalProtocol;
  guidance: number;
  seed: number;
  plan?: SamplingPlan;
  log?: (line: string) => void;
}

/** Segment-level metrics of one replication. */
export interface SegmentMetrics {
  /** Top-1/2/3 R-precision of segments against sub-texts (batches of 32 segments). */
  rPrecision: [number, number, number];
  /** Mean segment–sub-text distance. */
  matchingScore: number;
  /** Fraction of segments whose own sub-text is the nearest of their sample's K. */
  segmentAccuracy: number;
}

/** One replication of one row: whole-motion and segment metrics. */
export interface CompositeRowMetrics {
  global: ReplicationMetrics;
  segment: SegmentMetrics;
}

/** What {@linkcode evaluateComposite} returns. */
export interface CompositeEvaluationResult {
  protocol: EvalProtocol;
  seed: number;
  guidance: number;
  plan: { kind: SamplingPlan["kind"]; steps: number };
  evaluator: string;
  featurizer: string;
  /** Samples in the file, and generated per replication. */
  samples: number;
  samplesPerReplication: number;
  /** Frames of the generated tensors (longest total length). */
  frames: number;
  replications: { groundTruth: CompositeRowMetrics; model: CompositeRowMetrics }[];
  /** Whole motions vs joined texts: "ground truth", "model". */
  rows: TableRow[];
  /** Segments vs sub-texts (R@1..3 and MM-Dist only): "ground truth (segments)", "model (segments)". */
  segmentRows: TableRow[];
  /** Segment-order accuracy summaries. */
  segmentAccuracy: { groundTruth: Summary; model: Summary };
}

/**
 * The one text a composite is generated from: the sub-texts, trimmed and without a final full
 * stop, joined with " then " ("walk forward then jump up").
 */
export function joinSubTexts(texts: readonly string[]): string {
  return texts.map((t) => t.trim().replace(/[.\s]+$/, "")).join(" then ");
}

/** Runs the composite protocol; see the module doc. */
export async function evaluateComposite(
  o: EvaluateCompositeOptions,
): Promise<CompositeEvaluationResult> {
  const p = o.protocol, B = p.batchSize, N = o.samples.length;
  const plan = o.plan ?? defaultEvalPlan();
  const log = o.log ?? (() => {});
  if (N < B) {
    throw new RangeError(
      `Cannot evaluate the composite dataset: ${N} samples do not fill one batch of ${B}`,
    );
  }
  const F = o.mean.length;
  for (const [i, s] of o.samples.entries()) {
    if (s.dimPose !== F) {
      throw new RangeError(
        `Cannot evaluate composite sample ${i}: ${s.dimPose} features, the dataset has ${F}`,
      );
    }
  }
  const batches = Math.min(protocolBatches(p).batches, Math.floor(N / B));
  if (batches * B <= p.diversityTimes) {
    throw new RangeError(
      `Cannot evaluate the composite dataset: ${batches * B} samples per replication, ` +
        `diversity needs more than ${p.diversityTimes}`,
    );
  }
  const T = Math.max(...o.samples.map((s) => s.totalLength));
  const D = o.evaluator.dim;
  const replications: CompositeEvaluationResult["replications"] = [];
  for (let rep = 0; rep < p.replications; rep++) {
    const started = performance.now();
    const order = hostRng(o.seed, hostStream(HOST_STREAM.compositeOrder, rep))
      .shuffle(Array.from({ length: N }, (_, i) => i));
    const parts = {
      text: [] as Float32Array[],
      real: [] as Float32Array[],
      gen: [] as Float32Array[],
      subText: [] as Float32Array[],
      realSeg: [] as Float32Array[],
      genSeg: [] as Float32Array[],
    };
    const ks: number[] = []; // K of every sample, in order
    // Batches overlapped (`runOverlapped`): while a GPU runs one batch's rollout, the host embeds
    // the previous batch's generated motions and segments, this batch's texts, real motions and
    // segments, and the next batch's text features.
    const prepare = (b: number) => {
      const batch = order.slice(b * B, (b + 1) * B).map((i) => o.samples[i]);
      const joined = batch.map((s) => joinSubTexts(s.texts));
      const feats = encodeFeatures(o.featurizer, joined, o.model.textDim);
      feats.catch(() => {}); // a failure is thrown where it is awaited
      return { batch, joined, lengths: Int32Array.from(batch, (s) => s.totalLength), feats };
    };
    const prepared: ReturnType<typeof prepare>[] = []; // by batch, drawn in order
    const load = (b: number) => prepared[b] ??= prepare(b);
    await runOverlapped([...Array(batches).keys()], {
      queue: async (b) => {
        const { lengths, feats } = load(b);
        return queueMotions(o.model, await feats, lengths, T, {
          plan,
          guidance: o.guidance,
          seed: o.seed,
          stream: noiseStream(rep, b, 0),
          mean: o.mean,
          std: o.std,
        });
      },
      host: async (b) => {
        const { batch, joined, lengths } = prepared[b];
        const real = new Float32Array(B * T * F); // (B, T, F) raw
        batch.forEach((s, i) => real.set(s.motion.subarray(0, s.totalLength * F), i * T * F));
        parts.text.push(checkEncoded(await o.evaluator.encodeTexts(joined), B, D, "text"));
        parts.real.push(checkEncoded(
          await o.evaluator.encodeMotions(real, lengths, B, T),
          B,
          D,
          "real motion",
        ));
        const subTexts = batch.flatMap((s) => s.texts);
        parts.subText.push(
          checkEncoded(await o.evaluator.encodeTexts(subTexts), subTexts.length, D, "sub-text"),
        );
        parts.realSeg.push(await embedSegments(o.evaluator, batch, real, T, F));
        for (const s of batch) ks.push(s.lengths.length);
        if (b + 1 < batches) await load(b + 1).feats;
      },
      finish: async (b, gen) => {
        const { batch, lengths } = prepared[b];
        parts.gen.push(checkEncoded(
          await o.evaluator.encodeMotions(gen, lengths, B, T),
          B,
          D,
          "generated motion",
        ));
        parts.genSeg.push(await embedSegments(o.evaluator, batch, gen, T, F));
      },
    });
    const text = stackEmbeddings(parts.text, D, "text embeddings");
    const real = stackEmbeddings(parts.real, D, "real motion embeddings");
    const gen = stackEmbeddings(parts.gen, D, "generated motion embeddings");
    const subText = stackEmbeddings(parts.subText, D, "sub-text embeddings");
    const realSeg = stackEmbeddings(parts.realSeg, D, "real segment embeddings");
    const genSeg = stackEmbeddings(parts.genSeg, D, "generated segment embeddings");
    const groundTruth = {
      global: replicationMetrics(
        text,
        real,
        real,
        B,
        p.diversityTimes,
        hostRng(o.seed, hostStream(HOST_STREAM.diversityReal, rep)),
      ),
      segment: segmentMetrics(subText, realSeg, ks, B),
    };
    const model = {
      global: replicationMetrics(
        text,
        gen,
        real,
        B,
        p.diversityTimes,
        hostRng(o.seed, hostStream(HOST_STREAM.diversityModel, rep)),
      ),
      segment: segmentMetrics(subText, genSeg, ks, B),
    };
    replications.push({ groundTruth, model });
    log(
      `replication ${rep + 1}/${p.replications}: R@1 ${model.global.rPrecision[0].toFixed(3)} ` +
        `segment R@1 ${model.segment.rPrecision[0].toFixed(3)} ` +
        `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  const segRow = (rows: SegmentMetrics[]): MetricSummaries => ({
    "R@1": summarise(rows.map((r) => r.rPrecision[0])),
    "R@2": summarise(rows.map((r) => r.rPrecision[1])),
    "R@3": summarise(rows.map((r) => r.rPrecision[2])),
    "MM-Dist": summarise(rows.map((r) => r.matchingScore)),
  });
  const gt = replications.map((r) => r.groundTruth), md = replications.map((r) => r.model);
  return {
    protocol: { ...p },
    seed: o.seed,
    guidance: o.guidance,
    plan: { kind: plan.kind, steps: plan.steps.length },
    evaluator: o.evaluator.name,
    featurizer: o.featurizer.name,
    samples: N,
    samplesPerReplication: batches * B,
    frames: T,
    replications,
    rows: [
      { name: "ground truth", metrics: aggregateReplications(gt.map((r) => r.global)) },
      { name: "model", metrics: aggregateReplications(md.map((r) => r.global)) },
    ],
    segmentRows: [
      { name: "ground truth (segments)", metrics: segRow(gt.map((r) => r.segment)) },
      { name: "model (segments)", metrics: segRow(md.map((r) => r.segment)) },
    ],
    segmentAccuracy: {
      groundTruth: summarise(gt.map((r) => r.segment.segmentAccuracy)),
      model: summarise(md.map((r) => r.segment.segmentAccuracy)),
    },
  };
}

/** Embeds every segment of every sample of a batch: (sum of K, D), sample-major. */
async function embedSegments(
  evaluator: TextMotionEncoder,
  batch: readonly CompositeSample[],
  motions: Float32Array, // (B, T, F) raw
  T: number,
  F: number,
): Promise<Float32Array> {
  const lengths: number[] = [], starts: number[] = [];
  batch.forEach((s, i) => {
    let at = 0;
    for (const len of s.lengths) {
      starts.push(i * T + at);
      lengths.push(len);
      at += len;
    }
  });
  const S = lengths.length, Ts = Math.max(...lengths);
  const seg = new Float32Array(S * Ts * F); // (S, Ts, F)
  for (let k = 0; k < S; k++) {
    seg.set(motions.subarray(starts[k] * F, (starts[k] + lengths[k]) * F), k * Ts * F);
  }
  const D = evaluator.dim;
  return checkEncoded(
    await evaluator.encodeMotions(seg, Int32Array.from(lengths), S, Ts),
    S,
    D,
    "segment motion",
  );
}

/** Segment metrics from aligned (S, D) sub-text and segment embeddings; `ks` = K per sample. */
function segmentMetrics(
  subText: Embeddings,
  seg: Embeddings,
  ks: readonly number[],
  batch: number,
): SegmentMetrics {
  const r = rPrecision(subText, seg, 3, batch).rates;
  const D = seg.dim;
  let hits = 0, at = 0;
  for (const K of ks) {
    for (let k = 0; k < K; k++) {
      const own = distance(seg, at + k, subText, at + k, D);
      let nearest = true;
      for (let j = 0; j < K && nearest; j++) {
        if (j !== k && distance(seg, at + k, subText, at + j, D) <= own) nearest = false;
      }
      if (nearest) hits++;
    }
    at += K;
  }
  return {
    rPrecision: [r[0], r[1], r[2]],
    matchingScore: matchingScore(subText, seg),
    segmentAccuracy: hits / seg.rows,
  };
}

function distance(a: Embeddings, i: number, b: Embeddings, j: number, D: number): number {
  let s = 0;
  for (let k = 0; k < D; k++) {
    const d = a.data[i * D + k] - b.data[j * D + k];
    s += d * d;
  }
  return Math.sqrt(s);
}
