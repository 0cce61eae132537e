/**
 * `JsonlSink`: the metrics file every run writes (`metrics.jsonl` in `--save_dir`), one JSON
 * object per line:
 *
 *   {"step":12,"time":1764107460.123,"loss":0.0132,"mean_reward":0.61,...}
 *
 * `time` is the wall clock in seconds since the Unix epoch. JSON has no NaN or infinities, so a
 * non-finite metric is written as the STRING "NaN", "Infinity" or "-Infinity";
 * `readMetricsJsonl()` turns those back into numbers (Python: `float(v)` parses them too).
 *
 * Each `log()` appends one whole line with one `write` to the operating system (no buffering in
 * this process), so a run that is killed keeps every line already logged. This file is the one
 * exception to "write files atomically": it grows during the run by design. Opening an existing
 * file appends to it (a resumed run continues the same log); a final line cut short by a kill is
 * dropped first, so the file stays valid JSONL. A resumed run may log a step twice (once before
 * the kill, once after): readers should keep the LAST record of each step.
 *
 * @module
 */
import { checkStepAndMetrics, writeAllSync } from "./_validate.ts";
import type { Metrics, MetricSink } from "./sink.ts";

/** Options of `JsonlSink`. */
export interface JsonlSinkOptions {
  /** Wall clock in seconds since the epoch; default `Date.now() / 1000`. */
  now?: () => number;
}

/** Keys every line has; a metric may not use them. */
const RESERVED = new Set(["step", "time"]);

/** Appends one JSON line per step to a file. */
export class JsonlSink implements MetricSink {
  /** The file written. */
  readonly path: string;
  #file: Deno.FsFile | null;
  #now: () => number;

  /**
   * Opens (creating or appending to) `path`. Its folder must exist.
   *
   * @throws {Deno.errors.NotFound} when the folder does not exist.
   */
  constructor(path: string, options: JsonlSinkOptions = {}) {
    this.path = path;
    this.#now = options.now ?? (() => Date.now() / 1000);
    dropPartialLastLine(path);
    this.#file = Deno.openSync(path, { append: true, create: true });
  }

  /** Appends `{"step":..,"time":..,<metrics>}` and a newline; rejects on bad input. */
  log(step: number, metrics: Metrics): Promise<void> {
    try {
      this.logSync(step, metrics);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `log()` without the promise, for callers outside async code.
   *
   * @throws {RangeError} for a non-integer step; {TypeError} for a non-number or reserved metric.
   */
  logSync(step: number, metrics: Metrics): void {
    const where = `"${this.path}"`;
    if (this.#file === null) throw new Error(`Cannot log to ${where}: the sink is closed`);
    checkStepAndMetrics(where, step, metrics);
    const record: Record<string, number | string> = { step, time: this.#now() };
    for (const [name, value] of Object.entries(metrics)) {
      if (RESERVED.has(name)) {
        throw new TypeError(`Cannot log to ${where}: metric name "${name}" is reserved`);
      }
      record[name] = Number.isFinite(value) ? value : String(value); // "NaN", "Infinity", ...
    }
    writeAllSync(this.#file, new TextEncoder().encode(JSON.stringify(record) + "\n"));
  }

  /** Closes the file. */
  close(): Promise<void> {
    this.#file?.close();
    this.#file = null;
    return Promise.resolve();
  }
}

/** Truncates `path` after its last newline when a kill left a partial line behind. */
function dropPartialLastLine(path: string): void {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return;
  Deno.truncateSync(path, bytes.lastIndexOf(0x0a) + 1);
}
