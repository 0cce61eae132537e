import assert from "node:assert/strict";
import { TRAIN_GRPO_FLAGS } from "../../cli/train_grpo_flags.ts";
import { EVAL_HUMANML_FLAGS } from "../../cli/eval_humanml_flags.ts";
import {
  BEGIN,
  END,
  flagReference,
  README_PATH,
  spliceReadme,
} from "../../tools/flag_reference.ts";
import { tempDir } from "../_util.ts";

const TOOL = new URL("../../tools/flag_reference.ts", import.meta.url).pathname;

async function tool(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TOOL, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("README.md's flag reference matches the command-line definitions (--check)", async () => {
  const r = await tool("--check");
  assert.equal(r.code, 0, `${r.err}\nrun: deno run -A tools/flag_reference.ts`);
  assert.match(r.out, /the flag reference is up to date/);
});

Deno.test("--check fails on a stale copy and a rewrite makes it pass again", async () => {
  const dir = await tempDir();
  try {
    const copy = `${dir.path}/README.md`;
    const text = await Deno.readTextFile(README_PATH);
    // One default changed inside the generated section, as if a flag table had moved on.
    const stale = text.replace(/(\| `--group_size` +\| `<int>` +\| )4 /, "$15 ");
    assert.notEqual(stale, text, "the README lacks the --group_size row");
    await Deno.writeTextFile(copy, stale);
    const check = await tool("--check", "--readme", copy);
    assert.equal(check.code, 1);
    assert.match(check.err, /the flag reference is out of date \(first difference at line \d+\)/);
    assert.equal((await tool("--readme", copy)).code, 0);
    assert.equal(await Deno.readTextFile(copy), text);
    assert.equal((await tool("--check", "--readme", copy)).code, 0);
    const bad = await tool("--chek");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown argument "--chek"/);
  } finally {
    await dir.remove();
  }
});

Deno.test("flagReference() lists every flag of the tables and of the commander programs", async () => {
  const md = await flagReference();
  for (const spec of [...TRAIN_GRPO_FLAGS, ...EVAL_HUMANML_FLAGS]) {
    assert.ok(md.includes(`| \`--${spec.name}\` |`), `--${spec.name} is missing`);
  }
  for (const task of ["train-grpo", "eval-humanml", "sample", "construct-composite"]) {
    assert.ok(md.includes(`### \`deno task ${task}\``), task);
  }
  for (const task of ["pretrain-mdm", "make-mini", "build-mini-models", "draw", "exp"]) {
    assert.ok(md.includes(`### \`deno task ${task}\``), task);
  }
  // Rows read from commander programs: type, default (repository paths made relative), meaning.
  assert.match(md, /\| `--latent_dim` \| `<n>` \| 512 \| model width \|/);
  assert.match(md, /\| `--data_dir` \| `<dir>` \| required \|/);
  assert.match(md, /\| `--check` \| switch \| false \|/);
  assert.match(md, /#### `exp verify \[name\]`/);
  assert.match(md, /\| `--table` \| `<file>` \| none \| check a published results table/);
  assert.match(md, /\| `--manifests` \| `<dir>` \| experiments\/manifests\/ \|/);
  assert.ok(!md.includes(Deno.cwd() + "/"), "an absolute path leaked into the reference");
  // `<...>` placeholders are code spans, not HTML tags.
  assert.doesNotMatch(md.replace(/`[^`\n]*`/g, ""), /(?<!\\)<(?!!--)[a-z]/);
});

Deno.test("spliceReadme() replaces only the text between the markers", () => {
  const readme = `# x\n\nbefore\n${BEGIN}\nold\n${END}\nafter\n`;
  assert.equal(spliceReadme(readme, "new\n"), `# x\n\nbefore\n${BEGIN}\nnew\n${END}\nafter\n`);
  assert.throws(() => spliceReadme("# x\n", "new"), /needs one "<!-- flags:begin -->" line/);
  assert.throws(() => spliceReadme(`${END}\n${BEGIN}\n`, "new"), RangeError);
  assert.throws(() => spliceReadme(`${BEGIN}\n${BEGIN}\n${END}\n`, "new"), RangeError);
});
