/** `fanOut()`: one sink that forwards to several, so the trainer logs once. @module */
import type { Metrics, MetricSink } from "./sink.ts";

/**
 * A sink that logs to every sink of `sinks`, in order, and closes them all.
 *
 * @param sinks e.g. the result of `createSinks()`.
 * @returns the combined sink; `close()` closes every sink even if one fails, then rethrows the
 *   first failure.
 */
export function fanOut(sinks: readonly MetricSink[]): MetricSink {
  return {
    async log(step: number, metrics: Metrics): Promise<void> {
      for (const s of sinks) await s.log(step, metrics);
    },
    async close(): Promise<void> {
      const results = await Promise.allSettled(sinks.map((s) => s.close()));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    },
  };
}
