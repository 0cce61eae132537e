/**
 * `ProgressDisplay`: prints training progress. On a terminal it redraws one line with `\r`
 * (at most every `minRedrawMs`, and always for the last step); otherwise (a log file, CI) it
 * prints a plain line for the first step, every `every` steps, and the last step. The text comes
 * from `formatProgress()`.
 *
 * @module
 */
import { formatProgress } from "./format_progress.ts";

/** Where the display writes (`Deno.stdout` fits). */
export interface ProgressOutput {
  writeSync(p: Uint8Array): number;
  isTerminal(): boolean;
}

/** Options of `ProgressDisplay`. */
export interface ProgressOptions {
  /** Steps of the whole run. */
  total: number;
  /** Step a resumed run starts from; default 0. */
  startStep?: number;
  /** Plain-line period in steps; default `ceil(total / 100)` (about 100 lines per run). */
  every?: number;
  /** Default `Deno.stdout`. */
  out?: ProgressOutput;
  /** Clock in milliseconds; default `performance.now()`. */
  nowMs?: () => number;
  /** Terminal width; default `Deno.consoleSize().columns` when available. */
  columns?: () => number | undefined;
  /** Shortest interval between two terminal redraws; default 100 ms. */
  minRedrawMs?: number;
}

/** ANSI "erase to end of line", so a shorter line leaves no leftovers of the previous one. */
const ERASE_EOL = "\x1b[K";

/** Prints progress lines for a training run. */
export class ProgressDisplay {
  #o: Required<Omit<ProgressOptions, "columns">> & { columns: () => number | undefined };
  #terminal: boolean;
  #startMs: number;
  #lastDrawMs = -Infinity;
  /** A redrawn line is on screen (a newline is needed before other output). */
  #lineOpen = false;
  #encoder = new TextEncoder();

  constructor(options: ProgressOptions) {
    const total = options.total;
    if (!Number.isSafeInteger(total) || total < 0) {
      throw new RangeError(`Cannot show progress: total ${total} is not a non-negative integer`);
    }
    this.#o = {
      total,
      startStep: options.startStep ?? 0,
      every: Math.max(1, Math.floor(options.every ?? Math.ceil(total / 100))),
      out: options.out ?? Deno.stdout,
      nowMs: options.nowMs ?? (() => performance.now()),
      columns: options.columns ?? consoleColumns,
      minRedrawMs: options.minRedrawMs ?? 100,
    };
    this.#terminal = this.#o.out.isTerminal();
    this.#startMs = this.#o.nowMs();
  }

  /**
   * Reports that `step` steps are done.
   *
   * @param step steps completed (1-based after the first step).
   * @param meanReward the step's mean reward, shown when given.
   */
  update(step: number, meanReward?: number): void {
    const now = this.#o.nowMs();
    const last = step >= this.#o.total;
    if (this.#terminal) {
      if (!last && now - this.#lastDrawMs < this.#o.minRedrawMs) return;
      this.#lastDrawMs = now;
      const line = this.#format(step, meanReward, now, true);
      this.#write("\r" + line + ERASE_EOL + (last ? "\n" : ""));
      this.#lineOpen = !last;
      return;
    }
    const first = step - this.#o.startStep === 1;
    if (first || last || step % this.#o.every === 0) {
      this.#write(this.#format(step, meanReward, now, false) + "\n");
    }
  }

  /** Prints a line of other output without mangling a redrawn progress line. */
  message(line: string): void {
    this.#write((this.#lineOpen ? "\r" + ERASE_EOL : "") + line + "\n");
    // The bar reappears at the next update; let that one draw right away.
    this.#lastDrawMs = -Infinity;
  }

  /** Ends an open progress line (e.g. a run stopped early), so later output starts afresh. */
  finish(): void {
    if (this.#lineOpen) this.#write("\n");
    this.#lineOpen = false;
  }

  #format(step: number, meanReward: number | undefined, now: number, terminal: boolean): string {
    return formatProgress(
      {
        step,
        total: this.#o.total,
        startStep: this.#o.startStep,
        elapsedS: (now - this.#startMs) / 1000,
        meanReward,
      },
      { terminal, columns: terminal ? this.#o.columns() : undefined },
    );
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    let off = 0;
    while (off < bytes.length) off += this.#o.out.writeSync(bytes.subarray(off));
  }
}

function consoleColumns(): number | undefined {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined;
  }
}
