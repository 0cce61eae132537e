/**
 * What changed since the last run of a manifest: `verify` compares the manifest and its inputs
 * with `runs/<name>/manifest.json` and `runs/<name>/lock.json` before rerunning, so that a changed
 * parameter or one changed byte of an input is named instead of showing up as a metric mismatch.
 * @module
 */
import { join } from "node:path";
import { diffManifests } from "./diff.ts";
import { manifestId } from "./hash.ts";
import { hashPath } from "./lock.ts";
import { expandVars, type ManifestVars, MINI_DIR } from "./manifest.ts";
import { RUNS_DIR } from "./run_record.ts";
import { type Manifest, validateManifest } from "./schema.ts";

/** Where the last run lies and what the variables stand for. */
export interface LastRunOptions {
  /** Folder of `runs/<name>/` (default {@link RUNS_DIR}). */
  runsDir?: string;
  /** `$MINI` (default {@link MINI_DIR}). */
  mini?: string;
  /** `$MINI_ASSETS` (default `assets/mini`). */
  miniAssets?: string;
  /** `$ASSETS` (paper profile). */
  assets?: string;
}

/** The differences from the last run; both lists are empty without a last run. */
export interface LastRunChanges {
  /** `runs/<name>/lock.json`, or null when there is no last run. */
  lockPath: string | null;
  /** Changes that make the comparison meaningless: parameters, inputs, stages, input bytes. */
  changes: string[];
  /** Changes that do not (the recorded `expected`, prose), for information. */
  notes: string[];
}

interface LockJson {
  manifest_id?: string;
  inputs?: Record<string, { path?: string; sha256?: string }>;
}

async function readJson(path: string): Promise<unknown | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return null;
    throw e;
  }
}

function show(v: unknown): string {
  if (v === undefined) return "(absent)";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * Compares `m` and its inputs on disk with the last run of `m.name`: every parameter, input
 * path, stage or seed that differs from `runs/<name>/manifest.json`, and every input whose
 * SHA-256 differs from `runs/<name>/lock.json` (the generated dataset is left to its stage).
 */
export async function changesSinceLastRun(
  m: Manifest,
  o: LastRunOptions = {},
): Promise<LastRunChanges> {
  const dir = join(o.runsDir ?? RUNS_DIR, m.name);
  const lockPath = join(dir, "lock.json");
  const lock = await readJson(lockPath) as LockJson | null;
  if (lock === null || typeof lock !== "object") return { lockPath: null, changes: [], notes: [] };
  const changes: string[] = [];
  const notes: string[] = [];
  const id = await manifestId(m);
  if (lock.manifest_id !== id) {
    let old: Manifest | null = null;
    try {
      old = validateManifest(await readJson(join(dir, "manifest.json")), `${m.name}.json`);
    } catch {
      old = null;
    }
    const diffs = old === null ? null : diffManifests(old, m);
    if (diffs === null) {
      changes.push(
        `manifest: the last run used id ${String(lock.manifest_id).slice(0, 12)}, now ` +
          `${id.slice(0, 12)} (${join(dir, "manifest.json")} is missing or invalid)`,
      );
    } else {
      for (const d of diffs) {
        const line = `${d.path}: the last run used ${show(d.a)}, now ${show(d.b)}`;
        if (d.path === "expected") notes.push("expected: the recorded results changed");
        else changes.push(line);
      }
      if (diffs.length === 0) notes.push("manifest: only its prose changed (title, notes)");
    }
  }
  const vars: ManifestVars = {
    mini: o.mini ?? MINI_DIR,
    miniAssets: o.miniAssets,
    assets: o.assets,
    run: dir,
  };
  const generated = new Set(m.stages.find((s) => s.name === "assets")?.outputs ?? []);
  for (const [role, input] of Object.entries(m.inputs)) {
    if (generated.has(input.path)) continue;
    const locked = lock.inputs?.[role]?.sha256;
    let path: string;
    try {
      path = expandVars(input.path, vars);
    } catch {
      continue; // `$ASSETS` without --assets: the run itself says so
    }
    let found: string;
    try {
      found = (await hashPath(path)).sha256;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      changes.push(`input ${role} "${path}": missing (the last run read it)`);
      continue;
    }
    if (locked === undefined) {
      changes.push(`input ${role} "${path}": not in the last run's lock (sha256 ${found})`);
    } else if (locked !== found) {
      changes.push(`input ${role} "${path}": the last run used sha256 ${locked}, found ${found}`);
    }
  }
  return { lockPath, changes, notes };
}
