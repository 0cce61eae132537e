/**
 * The held-out reward of a run (`held_out.jsonl` of train-grpo with `--eval_interval`), as the
 * paired comparison of its first evaluation (step 0: the base model) and its last (the final
 * model) on the same prompts and noise: each prompt's difference, their mean and 95% interval.
 * @module
 */
import { summarize } from "../train/grpo/held_out.ts";

/** Base vs fine-tuned held-out reward. */
export interface HeldOutComparison {
  prompts: number;
  /** Step of the last evaluation. */
  step: number;
  base: number;
  finetuned: number;
  /** Mean of the per-prompt differences (fine-tuned - base). */
  diff: number;
  /** Half-width of its 95% interval (1.96 std / sqrt(n)). */
  interval: number;
  /** Prompts whose reward rose. */
  rose: number;
}

/** Reads `held_out.jsonl` (one `{step, per_prompt}` per line); null when absent or short. */
export async function readHeldOut(path: string): Promise<HeldOutComparison | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  // A resumed run may log a step twice: the last record of a step wins.
  const byStep = new Map<number, number[]>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const r = JSON.parse(line) as { step: number; per_prompt: (number | null)[] };
    byStep.set(r.step, r.per_prompt.map((v) => (v === null ? NaN : v)));
  }
  const first = byStep.get(0);
  const lastStep = Math.max(...byStep.keys());
  if (first === undefined || lastStep <= 0) return null;
  return compareHeldOut(first, byStep.get(lastStep)!, lastStep);
}

/** Paired comparison of two per-prompt reward lists (non-finite pairs left out). */
export function compareHeldOut(
  base: readonly number[],
  tuned: readonly number[],
  step: number,
): HeldOutComparison {
  const d: number[] = [], b: number[] = [], t: number[] = [];
  for (let i = 0; i < Math.min(base.length, tuned.length); i++) {
    if (!Number.isFinite(base[i]) || !Number.isFinite(tuned[i])) continue;
    d.push(tuned[i] - base[i]);
    b.push(base[i]);
    t.push(tuned[i]);
  }
  const diff = summarize(Float64Array.from(d));
  return {
    prompts: d.length,
    step,
    base: summarize(Float64Array.from(b)).mean,
    finetuned: summarize(Float64Array.from(t)).mean,
    diff: diff.mean,
    interval: diff.interval,
    rose: d.filter((v) => v > 0).length,
  };
}

/** One line for the run's printout. */
export function heldOutLine(h: HeldOutComparison): string {
  const sign = h.diff >= 0 ? "+" : "";
  return `held-out reward (${h.prompts} test prompts, same noise): base ${h.base.toFixed(4)}, ` +
    `fine-tuned ${h.finetuned.toFixed(4)} (step ${h.step}), paired difference ` +
    `${sign}${h.diff.toFixed(4)} ± ${h.interval.toFixed(4)}; ${h.rose}/${h.prompts} prompts rose`;
}
