/**
 * Total reward (MISSION.md "Rewards"): `R = beta_s * R_sem + beta_p * R_phy` per sample.
 *
 * A term whose weight is 0 is left out entirely (not multiplied by 0), so that a run without the
 * physics reward never sees a NaN from it. A non-finite R_sem or R_phy among the terms used makes
 * R NaN and is flagged per sample (`FLAG_SEM`, `FLAG_PHY`); the advantages then give that sample
 * advantage 0 (train/advantages.ts) instead of poisoning its group.
 *
 * @module
 */

/** Flag bit: R_sem was not finite. */
export const FLAG_SEM = 1;
/** Flag bit: R_phy was not finite. */
export const FLAG_PHY = 2;

/** Weights of the total reward. */
export interface TotalRewardWeights {
  /** `--beta_s`, weight of the semantic reward. */
  betaS: number;
  /** `--beta_p`, weight of the physics reward. */
  betaP: number;
}

/** Per-sample total reward and what went wrong. */
export interface TotalReward {
  /** `beta_s R_sem + beta_p R_phy`; NaN where a used term is not finite. (B) */
  total: Float32Array;
  /** `FLAG_SEM | FLAG_PHY` bits per sample, 0 when fine. (B) */
  flags: Uint8Array;
  /** Samples whose R_sem is not finite (only counted when beta_s != 0). */
  nonFiniteSem: number;
  /** Samples whose R_phy is not finite (only counted when beta_p != 0). */
  nonFinitePhy: number;
}

/**
 * Combines the semantic and physics rewards of B samples.
 *
 * @param sem R_sem (B)
 * @param phy R_phy (B), or null when the physics reward is off (then beta_p must be 0)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { totalReward } from "./total.ts";
 * const r = totalReward([0.5, NaN], [1, 0.5], { betaS: 1, betaP: 0.1 });
 * assert.equal(r.total[0], Math.fround(0.6));
 * assert.equal(r.nonFiniteSem, 1);
 * ```
 */
export function totalReward(
  sem: ArrayLike<number>, // (B)
  phy: ArrayLike<number> | null, // (B)
  w: TotalRewardWeights,
): TotalReward {
  const B = sem.length;
  if (!Number.isFinite(w.betaS) || !Number.isFinite(w.betaP)) {
    throw new RangeError(
      `Cannot combine rewards: beta_s = ${w.betaS} and beta_p = ${w.betaP} must be finite`,
    );
  }
  if (phy === null && w.betaP !== 0) {
    throw new TypeError(`Cannot combine rewards: beta_p = ${w.betaP} but no physics reward given`);
  }
  if (phy !== null && phy.length !== B) {
    throw new RangeError(
      `Cannot combine rewards: ${B} semantic rewards but ${phy.length} physics rewards`,
    );
  }
  const out: TotalReward = {
    total: new Float32Array(B),
    flags: new Uint8Array(B),
    nonFiniteSem: 0,
    nonFinitePhy: 0,
  };
  for (let b = 0; b < B; b++) {
    let r = 0, flags = 0;
    if (w.betaS !== 0) {
      if (!Number.isFinite(sem[b])) flags |= FLAG_SEM;
      r += w.betaS * sem[b];
    }
    if (w.betaP !== 0 && phy !== null) {
      if (!Number.isFinite(phy[b])) flags |= FLAG_PHY;
      r += w.betaP * phy[b];
    }
    if (flags & FLAG_SEM) out.nonFiniteSem++;
    if (flags & FLAG_PHY) out.nonFinitePhy++;
    out.flags[b] = flags;
    // Infinities of opposite sign would give NaN anyway; any flagged sample is NaN.
    out.total[b] = flags !== 0 ? NaN : r;
  }
  return out;
}
