/**
 * The text `deno task exp list|show|diff` prints.
 * @module
 */
import { diffManifests } from "./diff.ts";
import { manifestId } from "./hash.ts";
import { loadManifest, MANIFEST_DIR, manifestNames, resolvedParams } from "./manifest.ts";
import { lastVerified, RUNS_DIR } from "./run_record.ts";
import type { Manifest } from "./schema.ts";

/** One row of `exp list`. */
export interface ListRow {
  name: string;
  profile: string;
  /** First 12 hex digits of the manifest id, or "invalid". */
  id: string;
  title: string;
  /** Last verification (see `lastVerified`), or the validation error of a broken manifest. */
  verified: string;
}

/** Rows of `exp list`, one per manifest file in `dir`; a broken file gives a row with its error. */
export async function listRows(dir = MANIFEST_DIR, runsDir = RUNS_DIR): Promise<ListRow[]> {
  const rows: ListRow[] = [];
  for (const name of await manifestNames(dir)) {
    try {
      const m = await loadManifest(`${dir.replace(/\/$/, "")}/${name}.json`);
      const id = await manifestId(m);
      rows.push({
        name,
        profile: m.profile,
        id: id.slice(0, 12),
        title: m.title,
        verified: await lastVerified(name, id, runsDir),
      });
    } catch (e) {
      rows.push({ name, profile: "?", id: "invalid", title: (e as Error).message, verified: "" });
    }
  }
  return rows;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all
    .map((r) => r.map((cell, c) => c === r.length - 1 ? cell : cell.padEnd(widths[c])).join("  "))
    .join("\n");
}

/** The `exp list` table. */
export function formatList(rows: ListRow[]): string {
  return formatTable(
    ["name", "profile", "id", "verified", "title"],
    rows.map((r) => [r.name, r.profile, r.id, r.verified, r.title]),
  );
}

/**
 * `exp show`: the id, then the manifest as JSON with its params resolved (flags the file leaves
 * out filled in from the command's defaults, listed after the JSON).
 */
export async function formatShow(m: Manifest): Promise<string> {
  const id = await manifestId(m);
  const { params, sources } = resolvedParams(m);
  const defaults = Object.keys(sources).filter((k) => sources[k] === "default");
  const lines = [
    `# ${m.name} (${m.profile} profile)`,
    `# id ${id}`,
    JSON.stringify({ ...m, params }, null, 2),
  ];
  if (defaults.length > 0) {
    lines.push(`# from the command's defaults (not pinned by the file): ${defaults.join(", ")}`);
  }
  return lines.join("\n");
}

function cell(v: unknown): string {
  if (v === undefined) return "(absent)";
  if (Array.isArray(v)) return v.length === 0 ? "[]" : v.map((w) => String(w)).join(" ");
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** `exp diff a b`: one row per differing JSON path, or a line saying there is none. */
export function formatDiff(a: Manifest, b: Manifest): string {
  const diffs = diffManifests(a, b);
  if (diffs.length === 0) return `${a.name} and ${b.name} have the same parameters and inputs`;
  return formatTable(["path", a.name, b.name], diffs.map((d) => [d.path, cell(d.a), cell(d.b)]));
}
