/**
 * The evaluation protocols of MDM's `eval/eval_humanml.py` (`--eval_mode`), as data. Every mode
 * generates for the test split in batches of 32 and stops once `numSamplesLimit` samples exist:
 * the generator runs `floor(limit / 32) + 1` batches, i.e. 32 batches = 1024 samples for 1000.
 * Multimodality generates `mmNumRepeats` motions for the texts of `floor(mmNumSamples / 32) + 1`
 * randomly chosen batches (4 batches = 128 texts for 100), then measures `mmNumTimes` pairs.
 */

/** One evaluation protocol. */
export interface EvalProtocol {
  /** Independent generation + evaluation rounds; results are reported as mean ± 95% interval. */
  replications: number;
  /** Generated samples per replication (the generator overshoots to whole batches). */
  numSamplesLimit: number;
  /** Batch size for generation and R-precision; the public evaluator must use 32. */
  batchSize: number;
  /** Random pairs for diversity. */
  diversityTimes: number;
  /** Whether multimodality is measured. */
  runMultimodality: boolean;
  /** Nominal texts for multimodality (0 without it). */
  mmNumSamples: number;
  /** Generations per multimodality text. */
  mmNumRepeats: number;
  /** Random repeat pairs per multimodality text. */
  mmNumTimes: number;
}

/** The three modes of `--eval_mode`. */
export const EVAL_PROTOCOLS = {
  /** The reported protocol without multimodality (about 12 h on one GPU for MDM, 1000 steps). */
  wo_mm: {
    replications: 20,
    numSamplesLimit: 1000,
    batchSize: 32,
    diversityTimes: 300,
    runMultimodality: false,
    mmNumSamples: 0,
    mmNumRepeats: 0,
    mmNumTimes: 0,
  },
  /** Fewer replications, plus multimodality over 100 texts x 30 generations. */
  mm_short: {
    replications: 5,
    numSamplesLimit: 1000,
    batchSize: 32,
    diversityTimes: 300,
    runMultimodality: true,
    mmNumSamples: 100,
    mmNumRepeats: 30,
    mmNumTimes: 10,
  },
  /** A quick check: the wo_mm protocol with 5 replications. */
  debug: {
    replications: 5,
    numSamplesLimit: 1000,
    batchSize: 32,
    diversityTimes: 300,
    runMultimodality: false,
    mmNumSamples: 0,
    mmNumRepeats: 0,
    mmNumTimes: 0,
  },
} as const satisfies Record<string, EvalProtocol>;

/** A valid `--eval_mode`. */
export type EvalMode = keyof typeof EVAL_PROTOCOLS;

/**
 * The protocol of `mode`.
 *
 * @param mode the `--eval_mode` value.
 * @returns the protocol.
 * @throws RangeError naming the valid modes when `mode` is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveProtocol } from "./protocol.ts";
 * assert.ok(resolveProtocol("wo_mm").replications === 20);
 * ```
 */
export function resolveProtocol(mode: string): EvalProtocol {
  if (!Object.hasOwn(EVAL_PROTOCOLS, mode)) {
    throw new RangeError(
      `Cannot use --eval_mode "${mode}": expected one of ${Object.keys(EVAL_PROTOCOLS).join(", ")}`,
    );
  }
  return EVAL_PROTOCOLS[mode as EvalMode];
}

/** Batches the generator runs per replication, and the multimodality batches among them. */
export function protocolBatches(p: EvalProtocol): { batches: number; mmBatches: number } {
  return {
    batches: Math.floor(p.numSamplesLimit / p.batchSize) + 1,
    mmBatches: p.runMultimodality ? Math.floor(p.mmNumSamples / p.batchSize) + 1 : 0,
  };
}
