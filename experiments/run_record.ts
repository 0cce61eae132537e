/**
 * What `runs/<name>/` holds that `deno task exp list` reports: the result of the last `verify`.
 * @module
 */
import { fileURLToPath } from "node:url";

/** The project's run folder: `runs/<name>/` per experiment. */
export const RUNS_DIR: string = fileURLToPath(new URL("../runs/", import.meta.url));

/** The record `verify` writes to `runs/<name>/verify.json`. */
export interface VerifyRecord {
  /** Id of the manifest that was verified. */
  manifest_id: string;
  /** Whether every metric matched. */
  passed: boolean;
  /** `exact` on the device class that recorded the numbers, `interval` elsewhere. */
  mode: "exact" | "interval";
  /** The device class of the rerun (`cpu`, an adapter description). */
  device_class: string;
  /** ISO 8601 time of the rerun. */
  created: string;
}

/**
 * One-word summary of the last verification of `name` for `exp list`: `never` without a
 * `verify.json`, `passed (exact, 2026-11-25)` / `FAILED (...)`, `stale` when it verified another
 * manifest id, or `unreadable` for a malformed file.
 */
export async function lastVerified(name: string, id: string, runsDir = RUNS_DIR): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${runsDir.replace(/\/$/, "")}/${name}/verify.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "never";
    throw e;
  }
  let r: Partial<VerifyRecord>;
  try {
    r = JSON.parse(text);
  } catch {
    return "unreadable";
  }
  if (typeof r !== "object" || r === null || typeof r.passed !== "boolean") return "unreadable";
  const when = typeof r.created === "string" ? r.created.slice(0, 10) : "?";
  const verdict = `${r.passed ? "passed" : "FAILED"} (${r.mode ?? "?"}, ${when})`;
  return r.manifest_id === id ? verdict : `stale: ${verdict} for another manifest id`;
}
