import assert from "node:assert/strict";
import { runCli, tempDir } from "../_util.ts";
import { TRAIN_GRPO_FLAGS } from "../../cli/train_grpo_flags.ts";

const run = runCli;

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("train-grpo --dry-run prints the resolved configuration and touches nothing", async () => {
  const dir = await tempDir();
  try {
    const r = await run("train_grpo.ts", [
      "--model_path",
      "missing/model.pt",
      "--save_dir",
      "out",
      "--dataset",
      "kit",
      "--device",
      "cuda:1",
      "--dry-run",
    ], dir.path);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.command, "train-grpo");
    assert.deepEqual(report.flags.model_path, {
      value: "missing/model.pt",
      defaulted: false,
      source: "flag",
    });
    assert.deepEqual(report.flags.group_size, { value: 4, defaulted: true, source: "default" });
    assert.deepEqual(report.flags.fps, { value: 12.5, defaulted: true, source: "derived" });
    assert.deepEqual(report.device, { kind: "webgpu", index: 1 });
    assert.equal(report.files_checked, false);
    assert.equal(Object.keys(report.flags).length, TRAIN_GRPO_FLAGS.length);
    assert.deepEqual(await listing(dir.path), [], "a dry run writes nothing");
  } finally {
    await dir.remove();
  }
});

Deno.test("train-grpo bad input prints one line, exits 2 and writes nothing", async () => {
  const dir = await tempDir();
  try {
    const r = await run("train_grpo.ts", [
      "--model_path",
      "m.pt",
      "--save_dir",
      "out",
      "--group_size",
      "1",
    ], dir.path);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim(), 'Cannot parse --group_size: expected an integer >= 2, got "1"');
    const noFile = await run(
      "train_grpo.ts",
      ["--model_path", "m.pt", "--save_dir", "out"],
      dir.path,
    );
    assert.equal(noFile.code, 2);
    assert.equal(noFile.stderr.trim(), 'Cannot read --model_path "m.pt": no such file');
    assert.deepEqual(await listing(dir.path), []);
  } finally {
    await dir.remove();
  }
});

Deno.test("train-grpo and eval-humanml stop in one line when args.json is missing, writing nothing", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/m.pt`, "x");
    const t = await run("train_grpo.ts", ["--model_path", "m.pt", "--save_dir", "out"], dir.path);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /Cannot read MDM arguments ".*args\.json": file not found/);
    assert.equal(t.stderr.trim().split("\n").length, 1);
    const e = await run("eval_humanml.ts", ["--model_path", "m.pt"], dir.path);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /Cannot read MDM arguments ".*args\.json": file not found/);
    const h = await run("eval_humanml.ts", ["--help"], dir.path);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /--eval_mode <wo_mm\|mm_short\|debug>/);
    assert.deepEqual(await listing(dir.path), ["m.pt"]);
  } finally {
    await dir.remove();
  }
});
