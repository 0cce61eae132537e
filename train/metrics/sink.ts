/**
 * The metric sink interface: where the trainer's per-step scalars go (a JSONL file, TensorBoard
 * event files, ...). `createSinks()` in `platform.ts` builds the list for a
 * `--train_platform_type`.
 *
 * @module
 */

/** Scalars of one step, by name (e.g. `loss`, `mean_reward`). */
export type Metrics = Record<string, number>;

/** A destination for per-step training scalars. */
export interface MetricSink {
  /**
   * Records the scalars of one step. When the promise resolves the record has been handed to the
   * operating system, so a run killed afterwards keeps it.
   */
  log(step: number, metrics: Metrics): Promise<void>;
  /** Releases the sink; later `log()` calls throw. Calling it twice is harmless. */
  close(): Promise<void>;
}
