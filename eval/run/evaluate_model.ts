/**
 * The T2M evaluation protocol on one model (MDM `eval/eval_humanml.py`, NUMERICS.md §6).
 *
 * Per replication `rep`:
 * 1. `protocolBatches(protocol).batches` ground-truth batches of `batchSize` (32) are drawn from
 *    the test-split loader; each gives the captions, the lengths and the real motions.
 * 2. For every batch the model generates one motion per caption with the batch's lengths (the
 *    sampler's plan, DDPM 50 steps by default, guidance s), noise stream `(seed, rep, batch)`.
 *    With multimodality, `mmBatches` batches chosen at random (stream `mmBatches + rep`) get
 *    `mmNumRepeats` generations per caption; repeat 0 is the batch's ordinary generation.
 * 3. The evaluator embeds the captions, the real motions and the generated motions (raw features:
 *    generated motions are un-normalised with the dataset's Mean/Std first). An evaluator that
 *    reads `word/POS` tokens (the official T2M evaluator: {@linkcode TokenTextEncoder}) gets the
 *    batch's tokens from the dataset's `texts/` files, as MDM feeds it; others get the captions.
 * 4. Two metric rows: "ground truth" (real motions against their captions; FID against the same
 *    real set, so ~0) and the model (generated motions; FID against the real set): R-precision
 *    top-1/2/3 over the batches of 32, MM-Dist, diversity over `diversityTimes` random pairs,
 *    and for the model multimodality (`mmNumTimes` repeat pairs per text).
 *
 * Simplification against the public script, which iterates a second, independent ground-truth
 * loader over the whole test split: here the real motions are those of the generation batches,
 * so both rows see the same captions and the FID reference has the same size as the generated
 * set. Replications draw consecutive batches from the loader (its reshuffles are seeded), so the
 * whole run is fixed by the loader's seed and `seed`.
 * @module
 */
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import type { Denoiser } from "../../diffusion/denoiser.ts";
import { ddpmPlan, type SamplingPlan } from "../../diffusion/plan.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import type { Batch } from "../../datasets/humanml/batch.ts";
import { inverseNormalise } from "../../datasets/humanml/normalise.ts";
import { type EvalProtocol, protocolBatches } from "../protocol.ts";
import { multimodality } from "../multimodality.ts";
import { aggregateReplications, type ReplicationMetrics } from "../summary.ts";
import type { TableRow } from "../format_table.ts";
import { encodeFeatures, type Featurizer, queueMotions } from "./generate.ts";
import { runOverlapped } from "../../diffusion/overlap.ts";
import { checkEncoded, hostRng, replicationMetrics, stackEmbeddings } from "./_metrics.ts";
import { HOST_STREAM, hostStream, noiseStream } from "./_streams.ts";

/** The test-split loader as the runner uses it (`HumanMLDataset` fits). */
export interface EvalDataset {
  /** Dataset statistics (F) of the normalised features. */
  readonly mean: Float32Array;
  readonly std: Float32Array;
  /** The next batch of normalised, padded motions with captions and lengths. */
  nextBatch(batchSize: number): Batch;
}

/** Inputs of {@linkcode evaluateModel}. */
export interface EvaluateModelOptions {
  model: Denoiser;
  /** The text features the model is conditioned on. */
  featurizer: Featurizer;
  /** The independent evaluator (T2M or the mini profile's). */
  evaluator: TextMotionEncoder;
  dataset: EvalDataset;
  protocol: EvalProtocol;
  /** Classifier-free guidance scale (`--guidance_param`). */
  guidance: number;
  /** u32 seed of every draw the runner makes. */
  seed: number;
  /** Sampling plan; default MDM's DDPM over the 50-step cosine schedule. */
  plan?: SamplingPlan;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** An evaluator that also embeds `word/POS` token lists (unpadded, as in HumanML3D texts). */
export interface TokenTextEncoder {
  encodeTokens(tokenLists: readonly (readonly string[])[]): Promise<Float32Array>;
}

/**
 * Text embeddings (B, D) of a batch: from its tokens when the evaluator reads tokens, else from
 * its captions. The batch's tokens are padded (`sos`, kept tokens, `eos`, `unk`...; `sentLens`
 * counts `sos` to `eos`), so the kept tokens are `tokens[1 .. sentLen - 1)`.
 */
export function embedBatchTexts(
  evaluator: TextMotionEncoder,
  batch: Pick<Batch, "captions" | "tokens" | "sentLens">,
): Promise<Float32Array> {
  const reader = evaluator as TextMotionEncoder & Partial<TokenTextEncoder>;
  if (typeof reader.encodeTokens !== "function") return evaluator.encodeTexts(batch.captions);
  return reader.encodeTokens(batch.tokens.map((t, i) => t.slice(1, batch.sentLens[i] - 1)));
}

/** Both rows of one replication. */
export interface ReplicationRecord {
  groundTruth: ReplicationMetrics;
  model: ReplicationMetrics;
}

/** What {@linkcode evaluateModel} returns. */
export interface EvaluationResult {
  protocol: EvalProtocol;
  seed: number;
  guidance: number;
  plan: { kind: SamplingPlan["kind"]; steps: number };
  evaluator: string;
  featurizer: string;
  /** Generated (and real) motions per replication. */
  samplesPerReplication: number;
  /** Texts with multimodality repeats per replication (0 without it). */
  mmTexts: number;
  replications: ReplicationRecord[];
  /** "ground truth" then "model": mean ± 95% interval over the replications. */
  rows: TableRow[];
}

/** The default plan: DDPM over the 50-step cosine schedule of the released fast MDM. */
export function defaultEvalPlan(): SamplingPlan {
  return ddpmPlan(cosineTables(50));
}

/** Runs the protocol; see the module doc. */
export async function evaluateModel(o: EvaluateModelOptions): Promise<EvaluationResult> {
  const p = o.protocol;
  const plan = o.plan ?? defaultEvalPlan();
  const log = o.log ?? (() => {});
  const { batches, mmBatches } = protocolBatches(p);
  if (mmBatches > batches) {
    throw new RangeError(
      `Cannot run the protocol: ${mmBatches} multimodality batches exceed the ${batches} batches`,
    );
  }
  if (batches * p.batchSize <= p.diversityTimes) {
    throw new RangeError(
      `Cannot run the protocol: ${batches * p.batchSize} samples per replication, diversity ` +
        `needs more than ${p.diversityTimes}`,
    );
  }
  const D = o.evaluator.dim;
  const replications: ReplicationRecord[] = [];
  for (let rep = 0; rep < p.replications; rep++) {
    const started = performance.now();
    const mmOrder = hostRng(o.seed, hostStream(HOST_STREAM.mmBatches, rep))
      .shuffle(Array.from({ length: batches }, (_, i) => i));
    const mmSlot = new Map(mmOrder.slice(0, mmBatches).map((b, k) => [b, k]));
    const repeats = p.runMultimodality ? p.mmNumRepeats : 1;
    const B = p.batchSize;
    const mmData = new Float32Array(mmBatches * B * repeats * D); // (mmTexts, repeats, D)
    const texts: Float32Array[] = [], reals: Float32Array[] = [], gens: Float32Array[] = [];
    // Generations in order: (batch b, repeat r), overlapped (`runOverlapped`): while a GPU runs
    // one, the host embeds the previous generation's motions, the batch's texts and real motions
    // and the next batch's text features. The loader is drawn in batch order.
    const jobs = Array.from({ length: batches }, (_, b) => {
      const slot = mmSlot.get(b);
      return Array.from({ length: slot === undefined ? 1 : repeats }, (_, r) => ({ b, r, slot }));
    }).flat();
    const loaded: { batch: Batch; T: number; feats: Promise<Float32Array> }[] = [];
    const load = (b: number) => {
      while (loaded.length <= b) {
        const batch = o.dataset.nextBatch(B);
        const feats = encodeFeatures(o.featurizer, batch.captions, o.model.textDim);
        feats.catch(() => {}); // a failure is thrown where it is awaited
        loaded.push({ batch, T: batch.shape[1], feats });
      }
      return loaded[b];
    };
    await runOverlapped(jobs, {
      queue: async ({ b, r }) => {
        if (b > 0 && b % 8 === 0 && r === 0) {
          log(`replication ${rep + 1}/${p.replications}: batch ${b}/${batches}`);
        }
        const { batch, T, feats } = load(b);
        return queueMotions(o.model, await feats, batch.lengths, T, {
          plan,
          guidance: o.guidance,
          seed: o.seed,
          stream: noiseStream(rep, b, r),
          mean: o.dataset.mean,
          std: o.dataset.std,
        });
      },
      host: async ({ b, r }, j) => {
        if (r === 0) {
          const { batch, T } = loaded[b];
          const real = inverseNormalise(batch.motions, o.dataset.mean, o.dataset.std); // (B, T, F)
          texts.push(checkEncoded(await embedBatchTexts(o.evaluator, batch), B, D, "text"));
          reals.push(checkEncoded(
            await o.evaluator.encodeMotions(real, batch.lengths, B, T),
            B,
            D,
            "real motion",
          ));
        }
        if (j + 1 < jobs.length) await load(jobs[j + 1].b).feats;
      },
      finish: async ({ b, r, slot }, motions) => {
        const { batch, T } = loaded[b];
        const emb = checkEncoded(
          await o.evaluator.encodeMotions(motions, batch.lengths, B, T),
          B,
          D,
          "generated motion",
        ); // (B, D)
        if (r === 0) gens.push(emb);
        if (slot === undefined) return;
        for (let i = 0; i < B; i++) {
          mmData.set(emb.subarray(i * D, (i + 1) * D), (((slot * B) + i) * repeats + r) * D);
        }
      },
    });
    const text = stackEmbeddings(texts, D, "text embeddings");
    const real = stackEmbeddings(reals, D, "real motion embeddings");
    const gen = stackEmbeddings(gens, D, "generated motion embeddings");
    const groundTruth = replicationMetrics(
      text,
      real,
      real,
      B,
      p.diversityTimes,
      hostRng(o.seed, hostStream(HOST_STREAM.diversityReal, rep)),
    );
    const model = replicationMetrics(
      text,
      gen,
      real,
      B,
      p.diversityTimes,
      hostRng(o.seed, hostStream(HOST_STREAM.diversityModel, rep)),
    );
    if (p.runMultimodality) {
      model.multimodality = multimodality(
        { data: mmData, texts: mmBatches * B, repeats, dim: D },
        p.mmNumTimes,
        hostRng(o.seed, hostStream(HOST_STREAM.mmPairs, rep)),
      );
    }
    replications.push({ groundTruth, model });
    log(
      `replication ${rep + 1}/${p.replications}: R@1 ${model.rPrecision[0].toFixed(3)} ` +
        `FID ${model.fid.toFixed(3)} MM-Dist ${model.matchingScore.toFixed(3)} ` +
        `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  return {
    protocol: { ...p },
    seed: o.seed,
    guidance: o.guidance,
    plan: { kind: plan.kind, steps: plan.steps.length },
    evaluator: o.evaluator.name,
    featurizer: o.featurizer.name,
    samplesPerReplication: batches * p.batchSize,
    mmTexts: mmBatches * p.batchSize,
    replications,
    rows: [
      {
        name: "ground truth",
        metrics: aggregateReplications(replications.map((r) => r.groundTruth)),
      },
      { name: "model", metrics: aggregateReplications(replications.map((r) => r.model)) },
    ],
  };
}
