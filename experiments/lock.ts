/**
 * Input locks: the SHA-256 and size of every input a manifest names, with the code commit, the
 * `deno.lock` hash and the Deno version, so that a rerun can prove it read the same bytes.
 *
 * A folder input (a dataset root) is hashed as the SHA-256 of its listing: one line
 * `<sha256 of the file>  <path relative to the folder>\n` per file, every file below it, sorted
 * by path (the format of `sha256sum`), and its size is the sum of the file sizes.
 * @module
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { manifestId } from "./hash.ts";
import { expandVars } from "./manifest.ts";
import type { Manifest } from "./schema.ts";

/** The hash and size of one input. */
export interface LockedInput {
  /** The manifest's path, variables not expanded. */
  path: string;
  sha256: string;
  size: number;
}

/** What a run actually read. */
export interface InputLock {
  manifest_id: string;
  inputs: Record<string, LockedInput>;
  /** `git rev-parse HEAD`, or "unknown" outside a git checkout. */
  code_commit: string;
  /** SHA-256 of `deno.lock`, or "unknown" without one. */
  deno_lock_sha256: string;
  deno_version: string;
  /** ISO 8601 time the lock was made. */
  created: string;
}

/** One difference between the lock (or the manifest's pinned hash) and the files now. */
export interface InputMismatch {
  /** The input's role, or "manifest" for a lock of another manifest. */
  role: string;
  expected: string;
  found: string;
  /** One line: `input checkpoint: expected sha256 ab12..., found cd34...`. */
  message: string;
}

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHUNK = 1 << 20;

/**
 * Streams a file through SHA-256 in 1 MiB reads; returns the hex digest and the size in bytes.
 */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  const buf = new Uint8Array(CHUNK);
  let size = 0;
  using file = await Deno.open(path, { read: true });
  while (true) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
    size += n;
  }
  return { sha256: hash.digest("hex"), size };
}

async function listFiles(dir: string, prefix: string, out: string[]): Promise<void> {
  for await (const e of Deno.readDir(`${dir}/${prefix}`)) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    const info = await Deno.stat(`${dir}/${rel}`); // follows links, as a reader of the data would
    if (info.isDirectory) await listFiles(dir, rel, out);
    else if (info.isFile) out.push(rel);
  }
}

/** Hashes a file, or a folder by its listing (see the module doc). */
export async function hashPath(path: string): Promise<{ sha256: string; size: number }> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) return await hashFile(path);
  const files: string[] = [];
  await listFiles(path.replace(/\/$/, ""), "", files);
  files.sort();
  const listing = createHash("sha256");
  let size = 0;
  for (const rel of files) {
    const h = await hashFile(`${path.replace(/\/$/, "")}/${rel}`);
    listing.update(`${h.sha256}  ${rel}\n`);
    size += h.size;
  }
  return { sha256: listing.digest("hex"), size };
}

/**
 * Where an input path points for the manifest's profile (`assetsDir` replaces its root: `$ASSETS`,
 * or both `$MINI` and `$MINI_ASSETS`).
 */
export function inputPath(manifest: Manifest, path: string, assetsDir: string): string {
  return expandVars(
    path,
    manifest.profile === "paper"
      ? { assets: assetsDir }
      : { mini: assetsDir, miniAssets: assetsDir },
  );
}

async function gitCommit(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "HEAD"],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.success && /^[0-9a-f]{40}$/.test(text) ? text : "unknown";
  } catch {
    return "unknown";
  }
}

async function denoLockHash(): Promise<string> {
  try {
    return (await hashFile(`${REPO_ROOT}deno.lock`)).sha256;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "unknown";
    throw e;
  }
}

/**
 * Hashes every input of `manifest`, its `$ASSETS` (paper) or `$MINI` (mini) root being
 * `assetsDir`. A missing input throws a `Deno.errors.NotFound` naming its role and path.
 */
export async function lockInputs(manifest: Manifest, assetsDir: string): Promise<InputLock> {
  const inputs: Record<string, LockedInput> = {};
  for (const [role, input] of Object.entries(manifest.inputs)) {
    const real = inputPath(manifest, input.path, assetsDir);
    try {
      inputs[role] = { path: input.path, ...(await hashPath(real)) };
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(`Cannot lock input ${role}: no file at "${real}"`);
      }
      throw e;
    }
  }
  return {
    manifest_id: await manifestId(manifest),
    inputs,
    code_commit: await gitCommit(),
    deno_lock_sha256: await denoLockHash(),
    deno_version: Deno.version.deno,
    created: new Date().toISOString(),
  };
}

function mismatch(role: string, what: string, expected: string, found: string): InputMismatch {
  const label = role === "manifest" ? "manifest" : `input ${role}`;
  return {
    role,
    expected,
    found,
    message: `${label}: expected ${what} ${expected}, found ${found}`,
  };
}

/**
 * Compares the inputs on disk with `lock` and with the hashes the manifest pins. Returns every
 * difference (an empty list means the inputs are the locked ones): a lock made for another
 * manifest, an input missing from the lock or from disk, a different SHA-256 or size.
 */
export async function checkInputs(
  manifest: Manifest,
  lock: InputLock,
  assetsDir: string,
): Promise<InputMismatch[]> {
  const out: InputMismatch[] = [];
  const id = await manifestId(manifest);
  if (lock.manifest_id !== id) out.push(mismatch("manifest", "id", lock.manifest_id, id));
  for (const [role, input] of Object.entries(manifest.inputs)) {
    const locked = lock.inputs[role];
    const real = inputPath(manifest, input.path, assetsDir);
    let found: { sha256: string; size: number };
    try {
      found = await hashPath(real);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      out.push(mismatch(role, "a file at", `"${real}"`, "none"));
      continue;
    }
    if (locked === undefined) {
      out.push(mismatch(role, "sha256", "(not in the lock)", found.sha256));
    } else if (locked.sha256 !== found.sha256) {
      out.push(mismatch(role, "sha256", locked.sha256, found.sha256));
    } else if (locked.size !== found.size) {
      out.push(mismatch(role, "size", String(locked.size), String(found.size)));
    }
    const pinned = input.sha256 ?? null;
    if (pinned !== null && pinned !== found.sha256 && pinned !== locked?.sha256) {
      out.push(mismatch(role, "sha256 (pinned by the manifest)", pinned, found.sha256));
    }
  }
  return out;
}

/** Writes `lock` as pretty JSON to `path` atomically (a temporary file renamed over it). */
export async function writeLock(path: string, lock: InputLock): Promise<void> {
  const tmp = `${path}.tmp-${Date.now().toString(36)}`;
  await Deno.writeTextFile(tmp, JSON.stringify(lock, null, 2) + "\n");
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Reads a lock written by {@link writeLock}; a malformed one throws a SyntaxError naming it. */
export async function readLock(path: string): Promise<InputLock> {
  const data: unknown = JSON.parse(await Deno.readTextFile(path));
  const o = data as Partial<InputLock>;
  if (
    typeof o !== "object" || o === null || typeof o.manifest_id !== "string" ||
    typeof o.inputs !== "object" || o.inputs === null
  ) {
    throw new SyntaxError(`Cannot read lock "${path}": it has no manifest_id or inputs`);
  }
  return data as InputLock;
}
