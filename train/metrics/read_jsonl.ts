/**
 * Reads back a `metrics.jsonl` written by `JsonlSink`, turning the strings "NaN", "Infinity" and
 * "-Infinity" back into numbers.
 *
 * @module
 */

/** One line of a metrics file. */
export interface MetricRecord {
  step: number;
  /** Seconds since the Unix epoch. */
  time: number;
  metrics: Record<string, number>;
}

/** String spellings of the non-finite values `JsonlSink` writes. */
const NON_FINITE: Record<string, number> = {
  "NaN": NaN,
  "Infinity": Infinity,
  "-Infinity": -Infinity,
};

/**
 * Parses the text of a metrics JSONL file (every line, in order; blank lines skipped).
 *
 * @param text the file contents.
 * @param name the file name, for error messages.
 * @throws {SyntaxError} naming the line when a line is not a metrics record.
 */
export function parseMetricsJsonl(text: string, name = "metrics.jsonl"): MetricRecord[] {
  const records: MetricRecord[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const bad = (why: string) => new SyntaxError(`Cannot read "${name}" line ${i + 1}: ${why}`);
    let obj: unknown;
    try {
      obj = JSON.parse(lines[i]);
    } catch {
      throw bad("not valid JSON");
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      throw bad("expected a JSON object");
    }
    const { step, time, ...rest } = obj as Record<string, unknown>;
    if (typeof step !== "number" || typeof time !== "number") {
      throw bad('expected numeric "step" and "time"');
    }
    const metrics: Record<string, number> = {};
    for (const [key, v] of Object.entries(rest)) {
      if (typeof v === "number") metrics[key] = v;
      else if (typeof v === "string" && v in NON_FINITE) metrics[key] = NON_FINITE[v];
      else throw bad(`metric "${key}" is ${JSON.stringify(v)}, expected a number`);
    }
    records.push({ step, time, metrics });
  }
  return records;
}

/** Reads and parses a metrics JSONL file (see `parseMetricsJsonl()`). */
export async function readMetricsJsonl(path: string): Promise<MetricRecord[]> {
  return parseMetricsJsonl(await Deno.readTextFile(path), path);
}
