/**
 * Semantic rewards from text and motion embeddings (MISSION.md "Rewards"). Every function takes
 * embeddings already computed by a frozen encoder pair (TMR, or MDM's T2M evaluator) and returns
 * one score per motion; higher is better.
 *
 * TMR (`--reward_model_type tmr`):
 * - `cosine`: TMR's own score of the mu embeddings, `cos(t, m) / 2 + 0.5` in [0, 1].
 * - `matching`: a distance d, then a normalisation to (0, 1]:
 *     similarity `cosine`    d = 1 - cos(t, m)        (in [0, 2])
 *     similarity `euclidean` d = |t - m|
 *     `linear`      clip(1 - d / max_distance, 0, 1)   (--tmr_max_distance, default 10)
 *     `exponential` exp(-d / scale)                    (--tmr_scale, default 2)
 *     `sigmoid`     2 / (1 + exp(d / scale))           (1 at d = 0, -> 0 as d grows)
 * MDM evaluator (`--reward_model_type mdm`, T2M embeddings):
 * - `matching`: `clip(1 - d / 10, 0, 1)`, d the euclidean text-motion distance. Real HumanML3D
 *   pairs sit near d = 3 (the published MM-Dist, 2.97) and random pairs near 9-10 on that
 *   evaluator, so 10 maps "as far as unrelated" to 0 and keeps matched pairs well inside (0, 1).
 * - `r_precision`: rank of the true text among 32 candidates (itself + 31 others) by distance;
 *   reward = mean of the top-1, top-2 and top-3 hits, so 1, 2/3, 1/3 or 0.
 * - `combined`: 0.5 matching + 0.5 r_precision.
 *
 * Global vs segment-dense: in global mode one score compares the whole motion with the K
 * sub-texts joined into one text. Segment-dense mode (`--use_dense_reward`) splits the motion by
 * the segment durations and, with s(m_k, t_j) the score of segment k against sub-text j,
 *   R_sem = mean_k [ s(m_k, t_k) - alpha * mean_{j != k} s(m_k, t_j) ]
 * (alpha = 0: positive term only; alpha > 0: the negative penalty against aligning a segment
 * with a wrong sub-text). With K = 1 the negative term is empty and R_sem = s(m_1, t_1).
 */

export type TmrRewardType = "cosine" | "matching";
export type MdmRewardType = "matching" | "r_precision" | "combined";
export type SimilarityType = "cosine" | "euclidean";
export type Normalization = "linear" | "exponential" | "sigmoid";

export interface MatchingOptions {
  similarity: SimilarityType;
  normalization: Normalization;
  maxDistance: number;
  scale: number;
}

/** The seed's defaults for the four TMR matching options. */
export const DEFAULT_MATCHING: MatchingOptions = {
  similarity: "cosine",
  normalization: "linear",
  maxDistance: 10,
  scale: 2,
};

/** Cosine similarity (0 when either vector is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkDims(a, b);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Euclidean distance. */
export function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkDims(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** TMR's score `cos / 2 + 0.5`. */
export function tmrCosineScore(text: ArrayLike<number>, motion: ArrayLike<number>): number {
  return cosine(text, motion) / 2 + 0.5;
}

/** Normalises a distance d >= 0 to a score in [0, 1]. */
export function normaliseDistance(d: number, o: MatchingOptions): number {
  switch (o.normalization) {
    case "linear":
      return Math.min(Math.max(1 - d / o.maxDistance, 0), 1);
    case "exponential":
      return Math.exp(-d / o.scale);
    case "sigmoid":
      return 2 / (1 + Math.exp(d / o.scale));
    default:
      throw new RangeError(`Unknown --tmr_normalization "${o.normalization as string}"`);
  }
}

/** TMR `matching`: distance by `similarity`, then `normalization`. */
export function tmrMatchingScore(
  text: ArrayLike<number>,
  motion: ArrayLike<number>,
  o: MatchingOptions,
): number {
  let d: number;
  if (o.similarity === "cosine") d = 1 - cosine(text, motion);
  else if (o.similarity === "euclidean") d = euclidean(text, motion);
  else throw new RangeError(`Unknown --tmr_similarity_type "${o.similarity as string}"`);
  return normaliseDistance(d, o);
}

/** The scoring function of a TMR reward type. */
export function tmrScorer(
  type: TmrRewardType,
  o: MatchingOptions = DEFAULT_MATCHING,
): (text: ArrayLike<number>, motion: ArrayLike<number>) => number {
  if (type === "cosine") return tmrCosineScore;
  if (type === "matching") return (t, m) => tmrMatchingScore(t, m, o);
  throw new RangeError(`Unknown TMR --reward_type "${type as string}": use cosine or matching`);
}

/** MDM evaluator `matching`: `clip(1 - d / 10, 0, 1)`. */
export function mdmMatchingScore(text: ArrayLike<number>, motion: ArrayLike<number>): number {
  return Math.min(Math.max(1 - euclidean(text, motion) / 10, 0), 1);
}

/**
 * MDM evaluator `r_precision`: the true text's rank among itself and `others` (31 in the
 * standard protocol) by distance to the motion; mean of the top-1/2/3 hits. Ties count for the
 * true text (as the public evaluator, which ranks by strictly smaller distances).
 */
export function mdmRPrecisionScore(
  text: ArrayLike<number>,
  motion: ArrayLike<number>,
  others: readonly ArrayLike<number>[],
): number {
  const dTrue = euclidean(text, motion);
  let closer = 0;
  for (const o of others) if (euclidean(o, motion) < dTrue) closer++;
  return [0, 1, 2].filter((k) => closer <= k).length / 3;
}

/**
 * Segment-dense reward from a K x K score matrix `s[k][j]` = score(segment k, sub-text j):
 * `mean_k [ s[k][k] - alpha * mean_{j != k} s[k][j] ]`.
 */
export function denseReward(s: readonly (readonly number[])[], alpha: number): number {
  const K = s.length;
  if (K === 0) throw new RangeError("Cannot compute a dense reward: no segments");
  let total = 0;
  for (let k = 0; k < K; k++) {
    if (s[k].length !== K) {
      throw new RangeError(
        `Cannot compute a dense reward: row ${k} has ${s[k].length} scores, expected ${K}`,
      );
    }
    let neg = 0;
    for (let j = 0; j < K; j++) if (j !== k) neg += s[k][j];
    total += s[k][k] - (K > 1 ? alpha * neg / (K - 1) : 0);
  }
  return total / K;
}

/** Frame ranges [start, end) of K segments with the given durations (frames) within `length`. */
export function segmentRanges(durations: readonly number[], length: number): [number, number][] {
  const total = durations.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError("Cannot split a motion: segment durations sum to 0");
  // Durations are rescaled to the generated length, boundaries rounded, every segment >= 1 frame.
  const ranges: [number, number][] = [];
  let acc = 0, start = 0;
  durations.forEach((d, k) => {
    acc += d;
    const end = k === durations.length - 1 ? length : Math.round(acc / total * length);
    const e = Math.min(Math.max(end, start + 1), length - (durations.length - 1 - k));
    ranges.push([start, e]);
    start = e;
  });
  return ranges;
}

function checkDims(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) {
    throw new RangeError(`Cannot compare embeddings of sizes ${a.length} and ${b.length}`);
  }
}
