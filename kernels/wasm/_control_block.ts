/**
 * The layout of the control block that the calling thread and the worker threads of
 * kernels/wasm/pool.ts share: one slot per thread, slot 0 holding the job, and `JobLayout`, the one
 * way a kind of job's fields are written there and read back. No imports: the kernel modules that
 * pool.ts itself imports define their job layouts at load time from here.
 */

/**
 * int32 words per slot of the control block (128 bytes: cache lines of its own). Slot 0 holds the
 * job, slot w >= 1 worker w's share and flags.
 */
export const SLOT_WORDS = 32;
/** Word offsets inside a worker's slot. */
export const SLOT = {
  seq: 0,
  done: 1,
  failed: 2,
  ready: 3,
  from: 4,
  to: 5,
  part: 6,
  stop: 7,
} as const;
/**
 * Word offsets of slot 0: the job's kind, its own words from JOB_AT, and at MEMORY_PAGES_AT the
 * current size in pages of each memory (in `MEMORY_NAMES` order).
 */
export const JOB_KIND = 0;
export const JOB_AT = 2;
export const MEMORY_PAGES_AT = SLOT_WORDS - 4;

/** A job as `JobLayout` reads it: its integer, boolean and float64 fields by name. */
export type JobFields<I extends string, B extends string, F extends string> =
  & Record<I, number>
  & Record<B, boolean>
  & Record<F, number>;

/**
 * Where one kind of job travels in slot 0: its int32 fields from word JOB_AT in the given order,
 * then its booleans (as 0/1), then its float64 fields from the first float64 after them; all of
 * it before MEMORY_PAGES_AT.
 */
export class JobLayout<I extends string, B extends string = never, F extends string = never> {
  readonly #ints: readonly I[];
  readonly #flags: readonly B[];
  readonly #floats: readonly F[];
  /** float64 index of the first float64 field. */
  readonly #f64At: number;

  constructor(ints: readonly I[], flags: readonly B[] = [], floats: readonly F[] = []) {
    this.#ints = ints;
    this.#flags = flags;
    this.#floats = floats;
    this.#f64At = Math.ceil((JOB_AT + ints.length + flags.length) / 2);
    if (2 * (this.#f64At + floats.length) > MEMORY_PAGES_AT) {
      throw new RangeError(
        `a job of ${ints.length + flags.length} int32 and ${floats.length} ` +
          `float64 fields does not fit slot 0 of the control block`,
      );
    }
  }

  /** Writes `job` into slot 0 (`words` and `words64` view the same block). */
  write(words: Int32Array, words64: Float64Array, job: JobFields<I, B, F>): void {
    let at = JOB_AT;
    for (const k of this.#ints) words[at++] = job[k];
    for (const k of this.#flags) words[at++] = job[k] ? 1 : 0;
    this.#floats.forEach((k, i) => words64[this.#f64At + i] = job[k]);
  }

  /** The job `write` put into slot 0. */
  read(words: Int32Array, words64: Float64Array): JobFields<I, B, F> {
    const job: Record<string, number | boolean> = {};
    let at = JOB_AT;
    for (const k of this.#ints) job[k] = words[at++];
    for (const k of this.#flags) job[k] = words[at++] === 1;
    this.#floats.forEach((k, i) => job[k] = words64[this.#f64At + i]);
    return job as JobFields<I, B, F>;
  }
}
