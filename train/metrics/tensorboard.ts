/**
 * `TensorboardSink`: TensorBoard event files written without TensorFlow. The file
 * `events.out.tfevents.<unix seconds>.<hostname>` in the log folder is a TFRecord stream
 * (`tfrecord.ts`) of `Event` protobufs (`event_proto.ts`): first `file_version: "brain.Event:2"`,
 * then one event per logged step whose summary holds every metric as a `simple_value` scalar
 * (float32), tagged with the metric name. Stock TensorBoard reads it
 * (`tensorboard --logdir <save_dir>`) and so does `tools/read_tfevents.py`.
 *
 * Every record is appended with one `write` to the operating system, so a killed run keeps all
 * steps logged so far. A resumed run starts a new file beside the old one; TensorBoard merges
 * the files of one folder.
 *
 * @module
 */
import { checkStepAndMetrics, writeAllSync } from "./_validate.ts";
import { encodeEvent, EVENT_FILE_VERSION } from "./event_proto.ts";
import type { Metrics, MetricSink } from "./sink.ts";
import { encodeTfRecord } from "./tfrecord.ts";

/** Options of `TensorboardSink`. */
export interface TensorboardSinkOptions {
  /** Wall clock in seconds since the epoch; default `Date.now() / 1000`. */
  now?: () => number;
  /** Host name in the file name; default `Deno.hostname()` ("localhost" if not permitted). */
  hostname?: string;
}

/** Writes scalars to a TensorBoard event file. */
export class TensorboardSink implements MetricSink {
  /** The event file written. */
  readonly path: string;
  #file: Deno.FsFile | null;
  #now: () => number;

  /**
   * Creates the log folder if needed and a new event file in it, and writes the file-version
   * event.
   */
  constructor(logdir: string, options: TensorboardSinkOptions = {}) {
    this.#now = options.now ?? (() => Date.now() / 1000);
    Deno.mkdirSync(logdir, { recursive: true });
    const wallTime = this.#now();
    const base = `${logdir}/events.out.tfevents.${Math.floor(wallTime)}.` +
      (options.hostname ?? hostnameOrLocalhost());
    // Two sinks opened in the same second must not share a file: add ".1", ".2", ...
    for (let n = 0;; n++) {
      const path = n === 0 ? base : `${base}.${n}`;
      try {
        this.#file = Deno.openSync(path, { write: true, createNew: true });
        this.path = path;
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
    }
    this.#write(encodeEvent({ wallTime, step: 0, fileVersion: EVENT_FILE_VERSION }));
  }

  /** Appends one event holding every metric as a scalar; rejects on bad input. */
  log(step: number, metrics: Metrics): Promise<void> {
    try {
      this.logSync(step, metrics);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `log()` without the promise.
   *
   * @throws {RangeError} for a non-integer step; {TypeError} for a non-number metric.
   */
  logSync(step: number, metrics: Metrics): void {
    checkStepAndMetrics(`"${this.path}"`, step, metrics);
    const values = Object.entries(metrics).map(([tag, value]) => ({ tag, value }));
    this.#write(encodeEvent({ wallTime: this.#now(), step, values }));
  }

  /** Closes the file. */
  close(): Promise<void> {
    this.#file?.close();
    this.#file = null;
    return Promise.resolve();
  }

  #write(event: Uint8Array): void {
    if (this.#file === null) throw new Error(`Cannot log to "${this.path}": the sink is closed`);
    writeAllSync(this.#file, encodeTfRecord(event));
  }
}

function hostnameOrLocalhost(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}
