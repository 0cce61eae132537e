/** Private checks shared by the sinks: a step and a metrics record are well formed. @module */
import type { Metrics } from "./sink.ts";

/**
 * Throws a TypeError/RangeError naming `where` when `step` is not a safe integer or a metric
 * value is not a number (NaN and infinities are numbers and pass).
 */
export function checkStepAndMetrics(where: string, step: number, metrics: Metrics): void {
  if (!Number.isSafeInteger(step)) {
    throw new RangeError(`Cannot log to ${where}: step ${step} is not an integer`);
  }
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value !== "number") {
      throw new TypeError(
        `Cannot log to ${where}: metric "${name}" is a ${typeof value}, expected a number`,
      );
    }
  }
}

/** Writes all of `bytes` to `file` (one `write()` may take only part of it). */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}
