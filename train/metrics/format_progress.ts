/**
 * `formatProgress()`: the text of the training progress display, as a pure function of the
 * state (the writer in `progress.ts` only decides when to print it).
 *
 * Terminal (one line, redrawn):
 *
 *    37/1000 [#.......................]   3.7% | 2.31 step/s | reward 0.4123 | ETA 06:57
 *
 * Log file (one line every N steps):
 *
 *   step   37/1000 (3.7%) | 2.31 step/s | reward 0.4123 | elapsed 00:16 | ETA 06:57
 *
 * Speed is the mean over this process (`(step - startStep) / elapsed`, so a resumed run does not
 * count steps it did not do); below one step per second it is shown as seconds per step, the
 * readable unit for slow GRPO steps. ETA = remaining steps / speed. Unknown values (no step done
 * yet) show as `--`.
 *
 * @module
 */

/** What the display shows. */
export interface ProgressState {
  /** Steps completed. */
  step: number;
  /** Steps of the whole run (`--num_steps`). */
  total: number;
  /** Step this process started from (a resumed run); default 0. */
  startStep?: number;
  /** Seconds since this process started training. */
  elapsedS: number;
  /** Mean reward of the last step, if known. */
  meanReward?: number;
}

/** How to lay the line out. */
export interface ProgressLayout {
  /** One redrawn line with a bar (true) or a plain log line (false). */
  terminal: boolean;
  /** Terminal width; the line is kept to `columns - 1` characters. Default: unlimited. */
  columns?: number;
  /** Bar width in characters (terminal only); default 24. Shrinks to fit `columns`. */
  barWidth?: number;
}

/** Narrowest bar worth drawing; below it the bar is dropped. */
const MIN_BAR = 5;

/**
 * Formats the progress line (no `\r` or newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const line = formatProgress({ step: 50, total: 100, elapsedS: 25 }, { terminal: false });
 * assert.equal(line, "step  50/100 (50.0%) | 2.00 step/s | elapsed 00:25 | ETA 00:25");
 * ```
 */
export function formatProgress(state: ProgressState, layout: ProgressLayout): string {
  const { step, total, elapsedS } = state;
  const done = step - (state.startStep ?? 0);
  const rate = done > 0 && elapsedS > 0 ? done / elapsedS : NaN; // steps per second
  const eta = Number.isFinite(rate) ? Math.max(0, total - step) / rate : NaN;
  const stepText = String(step).padStart(String(total).length) + "/" + total;
  const frac = total > 0 ? Math.min(1, Math.max(0, step / total)) : 0;
  const pct = (100 * frac).toFixed(1) + "%";
  const tail = [formatRate(rate)];
  if (state.meanReward !== undefined) tail.push("reward " + formatReward(state.meanReward));
  if (!layout.terminal) {
    tail.push("elapsed " + formatDuration(elapsedS), "ETA " + formatDuration(eta));
    return clip(`step ${stepText} (${pct}) | ${tail.join(" | ")}`, layout.columns);
  }
  tail.push("ETA " + formatDuration(eta));
  const after = ` ${pct.padStart(6)} | ${tail.join(" | ")}`;
  const limit = layout.columns === undefined ? Infinity : layout.columns - 1;
  // Shrink the bar to fit the terminal; drop it when even the narrowest one does not fit.
  const room = limit - stepText.length - after.length - 3; // " [" and "]"
  const width = Math.min(layout.barWidth ?? 24, room);
  const bar = width >= MIN_BAR ? ` [${drawBar(frac, width)}]` : "";
  return clip(stepText + bar + after, layout.columns);
}

/**
 * Formats seconds as `MM:SS`, or `H:MM:SS` from one hour on; `--:--` when not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatDuration(3725), "1:02:05");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mmss = `${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return "-- step/s";
  return rate >= 1 ? `${rate.toFixed(2)} step/s` : `${(1 / rate).toFixed(2)} s/step`;
}

function formatReward(r: number): string {
  return Number.isFinite(r) ? r.toFixed(4) : String(r);
}

function drawBar(frac: number, width: number): string {
  const filled = Math.floor(frac * width);
  return "#".repeat(filled) + ".".repeat(width - filled);
}

/** Cuts `line` to `columns - 1` characters (writing the last column makes some terminals wrap). */
function clip(line: string, columns: number | undefined): string {
  return columns === undefined || line.length < columns ? line : line.slice(0, columns - 1);
}
