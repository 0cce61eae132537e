/**
 * GRPO advantages (NUMERICS.md §4): the rewards of the G samples drawn for one prompt form a
 * group, groups contiguous (`rewards[g*G .. g*G+G)`), and
 *
 *   A_i = (r_i - mean_group) / (std + 1e-4)
 *
 * with the POPULATION standard deviation (divide by n, as `np.std`; PyTorch's `Tensor.std` would
 * divide by n - 1), and `std` either the group's own (`"group"`, GRPO/DeepSeekMath) or one std of
 * all finite rewards of the batch (`"batch"`, Flow-GRPO's global-std option, which keeps groups
 * of near-identical rewards from blowing up tiny differences). The mean is always the group's.
 * An optional clamp bounds |A| (e.g. ±5).
 *
 * Non-finite rewards (a NaN from a broken sample) get advantage 0, so they neither push nor pull
 * the policy, and are left out of every statistic (their group's mean and std, the batch std, the
 * reward diagnostics); `nonFinite` counts them. A group whose finite rewards are all equal (or
 * that has fewer than two) has std 0: `zeroStdGroups` counts those, and with the group std its
 * advantages are 0 (r - mean = 0, no signal).
 *
 * @module
 */

/** Whose standard deviation divides the centred rewards. */
export type AdvantageStdScope = "group" | "batch";

/** Options of `groupAdvantages()`. */
export interface AdvantageOptions {
  /** Group size G (`--group_size`); the batch holds `rewards.length / G` groups. */
  groupSize: number;
  /** Default "group". */
  stdScope?: AdvantageStdScope;
  /** Clamp advantages to [-clip, clip] (e.g. 5); default none. */
  clip?: number;
  /** Added to the std; default 1e-4. */
  eps?: number;
}

/** What the advantages came from, for the logs. */
export interface AdvantageDiagnostics {
  groups: number;
  /** Rewards that were NaN or infinite (advantage 0, left out of the statistics). */
  nonFinite: number;
  /** Groups whose finite rewards have population std 0 (including groups with < 2 of them). */
  zeroStdGroups: number;
  /** Advantages changed by the clamp. */
  clipped: number;
  /** Statistics of the finite rewards (NaN when there are none). */
  meanReward: number;
  stdReward: number;
  minReward: number;
  maxReward: number;
  /** Statistics of all advantages (population std). */
  meanAdvantage: number;
  stdAdvantage: number;
}

/** Advantages and their diagnostics. */
export interface Advantages {
  /** (N) */
  advantages: Float32Array;
  diagnostics: AdvantageDiagnostics;
}

/** Mean and population std of the finite entries of `x[from..to)`; count 0 gives NaN, NaN. */
function stats(x: ArrayLike<number>, from: number, to: number): [number, number, number] {
  let n = 0, sum = 0;
  for (let i = from; i < to; i++) {
    if (Number.isFinite(x[i])) {
      sum += x[i];
      n++;
    }
  }
  if (n === 0) return [NaN, NaN, 0];
  const mean = sum / n;
  let ss = 0;
  for (let i = from; i < to; i++) {
    if (Number.isFinite(x[i])) ss += (x[i] - mean) ** 2;
  }
  return [mean, Math.sqrt(ss / n), n];
}

/**
 * Group-normalised advantages of N = groups x G rewards.
 *
 * @param rewards (N), groups contiguous
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupAdvantages } from "./advantages.ts";
 * const { advantages, diagnostics } = groupAdvantages([1, 3, 5, 5], { groupSize: 2 });
 * assert.equal(Math.round(advantages[0] * 1e3) / 1e3, -1);
 * assert.equal(diagnostics.zeroStdGroups, 1);
 * ```
 */
export function groupAdvantages(rewards: ArrayLike<number>, opts: AdvantageOptions): Advantages {
  const G = opts.groupSize, N = rewards.length;
  const scope = opts.stdScope ?? "group";
  const eps = opts.eps ?? 1e-4;
  if (!Number.isInteger(G) || G < 1 || N % G !== 0) {
    throw new RangeError(
      `Cannot compute advantages: ${N} rewards do not split into groups of ${G}`,
    );
  }
  if (scope !== "group" && scope !== "batch") {
    throw new TypeError(`Cannot compute advantages: unknown std scope "${scope}"`);
  }
  if (opts.clip !== undefined && !(opts.clip > 0)) {
    throw new RangeError(`Cannot compute advantages: clip must be > 0, got ${opts.clip}`);
  }
  if (!(eps >= 0)) throw new RangeError(`Cannot compute advantages: eps must be >= 0, got ${eps}`);
  const groups = N / G;
  const [meanReward, stdReward, finite] = stats(rewards, 0, N);
  const adv = new Float32Array(N); // (N)
  let zeroStdGroups = 0, clipped = 0;
  for (let g = 0; g < groups; g++) {
    const [mean, std, n] = stats(rewards, g * G, g * G + G);
    if (n < 2 || std === 0) zeroStdGroups++;
    const denom = (scope === "group" ? std : stdReward) + eps;
    for (let i = g * G; i < g * G + G; i++) {
      if (!Number.isFinite(rewards[i])) continue; // advantage 0: no push, no pull
      let a = (rewards[i] - mean) / denom;
      // eps = 0 with a zero std gives 0/0: there is no signal, so 0.
      if (Number.isNaN(a)) a = 0;
      if (opts.clip !== undefined && Math.abs(a) > opts.clip) {
        a = Math.sign(a) * opts.clip;
        clipped++;
      }
      adv[i] = a;
    }
  }
  let minReward = Infinity, maxReward = -Infinity;
  for (let i = 0; i < N; i++) {
    if (!Number.isFinite(rewards[i])) continue;
    minReward = Math.min(minReward, rewards[i]);
    maxReward = Math.max(maxReward, rewards[i]);
  }
  const [meanAdvantage, stdAdvantage] = stats(adv, 0, N);
  return {
    advantages: adv,
    diagnostics: {
      groups,
      nonFinite: N - finite,
      zeroStdGroups,
      clipped,
      meanReward,
      stdReward,
      minReward: finite > 0 ? minReward : NaN,
      maxReward: finite > 0 ? maxReward : NaN,
      meanAdvantage,
      stdAdvantage,
    },
  };
}
