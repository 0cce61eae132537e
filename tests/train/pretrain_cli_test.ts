/** `deno task pretrain-mdm`: bad flags give one line and exit code 2, before any work. */
import assert from "node:assert/strict";
import { main } from "../../cli/pretrain_mdm.ts";

async function exitCode(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await main(args), lines };
  } finally {
    console.error = original;
  }
}

Deno.test("pretrain-mdm rejects bad flags with one line and exit code 2", async () => {
  const save = ["--save_dir", "/nonexistent/never-written"];
  const cases: [string[], RegExp][] = [
    [["--data_dir", "/nonexistent/data", ...save], /Invalid --data_dir "\/nonexistent\/data"/],
    [["--data_dir", ".", ...save, "--heads", "3"], /Invalid --heads "3"/],
    [["--data_dir", ".", ...save, "--lr", "0"], /Invalid --lr "0"/],
    [["--data_dir", ".", ...save, "--device", "tpu"], /Invalid --device "tpu"/],
    [["--data_dir", ".", ...save, "--batch_size", "2.5"], /Invalid --batch_size "2.5"/],
    [["--data_dir", ".", ...save, "stray"], /unexpected word "stray"/],
    [["--data_dir", ".", ...save, "--bogus", "1"], /unknown option '--bogus'/],
    [["--data_dir", "."], /--save_dir/],
  ];
  for (const [args, pattern] of cases) {
    const { code, lines } = await exitCode(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(lines.length, 1, `one line for ${args.join(" ")}`);
    assert.match(lines[0], pattern);
    assert.match(lines[0], /^Cannot run deno task pretrain-mdm: /);
  }
});
