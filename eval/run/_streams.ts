/**
 * Philox stream addresses of the evaluation runs (kernels/rng/philox.ts), so that every draw is
 * fixed by (seed, replication, batch, repeat) and independent of execution order:
 *
 * - generation noise: `0x80000000 + rep * 2^20 + batch * 2^8 + repeat` (rep < 2048,
 *   batch < 4096, repeat < 256): one rollout per address;
 * - host draws (diversity pairs, multimodality pairs and texts, composite order): a tag in the
 *   high half, the replication in the low half.
 */

/** Tags of the host draws. */
export const HOST_STREAM = {
  /** Diversity pairs of the generated motions. */
  diversityModel: 0x44560000,
  /** Diversity pairs of the real motions. */
  diversityReal: 0x44520000,
  /** Which batches get multimodality repeats. */
  mmBatches: 0x4d420000,
  /** Multimodality repeat pairs. */
  mmPairs: 0x4d500000,
  /** Order of the composite samples. */
  compositeOrder: 0x434f0000,
} as const;

/** Stream of host draw `tag` in replication `rep`. */
export function hostStream(tag: number, rep: number): number {
  if (!Number.isInteger(rep) || rep < 0 || rep > 0xffff) {
    throw new RangeError(`Cannot address replication ${rep}: expected an integer in [0, 65535]`);
  }
  return (tag + rep) >>> 0;
}

/** Stream of the rollout for (replication, batch, repeat). */
export function noiseStream(rep: number, batch: number, repeat = 0): number {
  const check = (name: string, v: number, n: number) => {
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new RangeError(`Cannot address ${name} ${v}: expected an integer in [0, ${n})`);
    }
  };
  check("replication", rep, 2048);
  check("batch", batch, 4096);
  check("repeat", repeat, 256);
  return 0x80000000 + rep * 0x100000 + batch * 0x100 + repeat;
}
