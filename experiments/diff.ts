/**
 * Parameter-level differences between two manifests, for `deno task exp diff a b`.
 * @module
 */
import type { Manifest } from "./schema.ts";
import { resolvedParams } from "./manifest.ts";

/** One difference: a JSON path and the two values (`undefined` where a side lacks it). */
export interface ManifestDifference {
  /** JSON path: `params.alpha`, `inputs.checkpoint.path`, `profile`. */
  path: string;
  a: unknown;
  b: unknown;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function diffRecords(
  prefix: string,
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  out: ManifestDifference[],
): void {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const k of keys) {
    if (!same(a[k], b[k])) out.push({ path: `${prefix}.${k}`, a: a[k], b: b[k] });
  }
}

/** `{ a: { b: 1 } }` → `{ "a.b": 1 }` (arrays and scalars are leaves). */
function flatten(
  o: object,
  prefix = "",
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix === "" ? k : `${prefix}.${k}`;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

/**
 * What differs between `a` and `b`: command, profile, seed, every param (defaults filled in, so a
 * flag one manifest leaves at its default and the other sets to the same value is no difference),
 * inputs and stages field by field (`inputs.checkpoint.path`, `stages.eval.args`). Titles, descriptions, notes and the seed command line are not compared.
 */
export function diffManifests(a: Manifest, b: Manifest): ManifestDifference[] {
  const out: ManifestDifference[] = [];
  for (const k of ["command", "profile", "seed"] as const) {
    if (a[k] !== b[k]) out.push({ path: k, a: a[k], b: b[k] });
  }
  if (a.command === b.command) {
    diffRecords("params", resolvedParams(a).params, resolvedParams(b).params, out);
  } else {
    diffRecords("params", a.params, b.params, out);
  }
  const inputs = (m: Manifest) => flatten(m.inputs);
  diffRecords("inputs", inputs(a), inputs(b), out);
  const stages = (m: Manifest) => flatten(Object.fromEntries(m.stages.map((s) => [s.name, s])));
  diffRecords("stages", stages(a), stages(b), out);
  if (!same(a.expected, b.expected)) out.push({ path: "expected", a: a.expected, b: b.expected });
  return out;
}
