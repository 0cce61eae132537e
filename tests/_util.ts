/** Shared test helpers: tolerance checks, the Debian PyTorch interpreter, GPU gating. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/**
 * Asserts `|actual - expected| <= atol + rtol * |expected|` element-wise; the message names the
 * worst element. NaN anywhere fails.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
  label = "value",
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${label}: length ${actual.length} != ${expected.length}`,
  );
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (Number.isNaN(a) || Number.isNaN(e) || excess > worstExcess) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
      if (!Number.isFinite(worstExcess)) break;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** The interpreter with Debian's torch (`/usr/bin/python3`), overridable by MOTION_GRPO_PYTHON. */
export const PYTHON = Deno.env.get("MOTION_GRPO_PYTHON") ?? "/usr/bin/python3";

/**
 * Whether PYTHON can import torch (and numpy). Checked by locating the packages, not importing
 * them: importing torch takes seconds, and every test file evaluates this.
 */
export const hasTorch: boolean = (() => {
  try {
    const probe = "import importlib.util as u, sys; " +
      "sys.exit(0 if u.find_spec('torch') and u.find_spec('numpy') else 1)";
    const r = new Deno.Command(PYTHON, {
      args: ["-c", probe],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    return r.success;
  } catch {
    return false;
  }
})();

/** Runs PYTHON with `args`; throws with stderr on failure; returns stdout. */
export async function runPython(args: string[]): Promise<string> {
  const r = await new Deno.Command(PYTHON, { args, stdout: "piped", stderr: "piped" }).output();
  const out = new TextDecoder().decode(r.stdout);
  if (!r.success) {
    throw new Error(`python ${args.join(" ")} failed:\n${new TextDecoder().decode(r.stderr)}`);
  }
  return out;
}

/**
 * Runs `deno run -A <repo>/cli/<script> ...args` in `cwd` under the repository's deno.json and
 * lockfile (a folder outside the repository has neither); returns exit code, stdout and stderr,
 * stderr without Deno's own "Download ..." lines (printed when a package is first cached).
 */
export async function runCli(script: string, args: string[], cwd: string) {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${root}deno.json`, `${root}cli/${script}`, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const stderr = dec.decode(out.stderr).split("\n").filter((l) => !l.startsWith("Download "));
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: stderr.join("\n") };
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "motion-grpo-test-" });
  return { path, remove: () => Deno.remove(path, { recursive: true }) };
}

/** Runs `fn` with MOTION_GRPO_ASSETS set to `value` (unset when null), then restores it. */
export async function withAssets<T>(value: string | null, fn: () => Promise<T>): Promise<T> {
  const saved = Deno.env.get("MOTION_GRPO_ASSETS");
  if (value === null) Deno.env.delete("MOTION_GRPO_ASSETS");
  else Deno.env.set("MOTION_GRPO_ASSETS", value);
  try {
    return await fn();
  } finally {
    if (saved === undefined) Deno.env.delete("MOTION_GRPO_ASSETS");
    else Deno.env.set("MOTION_GRPO_ASSETS", saved);
  }
}
