/** Running the `exp` command (cli/exp.ts) in a child Deno process for the experiment tests. */

/** cli/exp.ts. */
export const EXP: string = new URL("../../cli/exp.ts", import.meta.url).pathname;

/** Runs `deno run -A cli/exp.ts ...args`; returns the exit code and the decoded output. */
export async function exp(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EXP, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}
