/** The per-replication metric row shared by the plain and the composite protocol runs. */
import { Rng } from "../../kernels/rng/philox.ts";
import { diversity } from "../diversity.ts";
import { type Embeddings, embeddings } from "../embeddings.ts";
import { fid } from "../fid.ts";
import { matchingScore } from "../matching_score.ts";
import { rPrecision } from "../r_precision.ts";
import type { ReplicationMetrics } from "../summary.ts";

/**
 * R-precision (top 1..3 over batches of `batch`), MM-Dist and diversity of `motion` against its
 * texts, and FID of `motion` against `real`.
 */
export function replicationMetrics(
  text: Embeddings, // (N, D)
  motion: Embeddings, // (N, D)
  real: Embeddings, // (M, D)
  batch: number,
  diversityTimes: number,
  diversityRng: Rng,
): ReplicationMetrics {
  const r = rPrecision(text, motion, 3, batch).rates;
  return {
    rPrecision: [r[0], r[1], r[2]],
    fid: fid(real, motion),
    matchingScore: matchingScore(text, motion),
    diversity: diversity(motion, diversityTimes, diversityRng),
  };
}

/** Concatenates per-batch embeddings (each (n_i, D)) into one checked (N, D) set. */
export function stackEmbeddings(parts: readonly Float32Array[], dim: number, label: string) {
  let n = 0;
  for (const p of parts) n += p.length;
  const data = new Float32Array(n); // (N, D)
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return embeddings(data, n / dim, dim, label);
}

/** Checks one encoder output: `rows * dim` finite values. */
export function checkEncoded(
  data: Float32Array,
  rows: number,
  dim: number,
  label: string,
): Float32Array {
  embeddings(data, rows, dim, label);
  return data;
}

/** A fresh host generator for `stream` (re-exported so callers need not import philox). */
export function hostRng(seed: number, stream: number): Rng {
  return new Rng(seed, stream);
}
