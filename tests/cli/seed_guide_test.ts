import assert from "node:assert/strict";
import { FlagError, type FlagSpec } from "../../cli/_flags.ts";
import { extractSeedCommands, type SeedCommand, shellWords } from "../../cli/_seed_commands.ts";
import { parseEvalHumanmlArgs } from "../../cli/eval_humanml.ts";
import { EVAL_HUMANML_FLAGS } from "../../cli/eval_humanml_flags.ts";
import { parseTrainGrpoArgs } from "../../cli/train_grpo.ts";
import { TRAIN_GRPO_FLAGS } from "../../cli/train_grpo_flags.ts";

/** The user's guide, next to the repository (`../shared/seed/` from the repo root). */
const GUIDE_URL = new URL("../../../shared/seed/grpo_usage.zh.md", import.meta.url);
const GUIDE: string | null = (() => {
  try {
    return Deno.readTextFileSync(GUIDE_URL);
  } catch {
    return null;
  }
})();
const NO_GUIDE = GUIDE === null;
if (NO_GUIDE) console.warn(`Skipping seed-guide tests: ${GUIDE_URL.pathname} is absent`);

/** Commands per program in the guide (counted by hand: quick start, examples 1-8, exp 1-5, eval). */
const EXPECTED_COUNTS = { "train-grpo": 28, "eval-humanml": 14, "construct-composite": 4 };

/** The guide's typos that must fail, by line: `--lora_r 8 lora_alpha 16` and `mdm \ --reward_type`. */
const EXPECTED_FAILURES = new Map([[29, 'unexpected argument "lora_alpha"']]);

function parseSeed(cmd: SeedCommand): void {
  const args = cmd.elided
    // `python -m train.train_grpo ... --train_platform_type X`: the `...` stands for a full
    // command, so the visible flags are checked on top of the required ones.
    ? ["--model_path", "m.pt", "--save_dir", "out", ...cmd.args.filter((a) => a !== "...")]
    : cmd.args;
  if (cmd.program === "train-grpo") parseTrainGrpoArgs([...args, "--dry-run"]);
  else if (cmd.program === "eval-humanml") parseEvalHumanmlArgs([...args, "--dry-run"]);
}

Deno.test("shellWords() splits like a POSIX shell", () => {
  assert.deepEqual(shellWords(`a  "b c" 'd "e"' f\\ g`), ["a", "b c", 'd "e"', "f g"]);
  assert.deepEqual(shellWords(`mdm \\ --reward_type matching`), [
    "mdm",
    " --reward_type",
    "matching",
  ]);
  assert.deepEqual(shellWords(`x "a\\"b" 'c\\d' # comment`), ["x", 'a"b', "c\\d"]);
  assert.deepEqual(shellWords(`a\\\nb c`), ["ab", "c"]);
  assert.deepEqual(shellWords(`--k=""`), ["--k="]);
  assert.throws(() => shellWords(`a "b`), SyntaxError);
  assert.throws(() => shellWords(`a 'b`), SyntaxError);
});

Deno.test("extractSeedCommands() joins backslash and bare -- continuations", () => {
  const md = [
    "text python -m train.train_grpo --not a command (outside a fence)",
    "```bash",
    "# comment",
    "python -m train.train_grpo \\",
    "    --model_path a.pt \\  ",
    "    --save_dir s",
    "python -m eval.eval_humanml --model_path b.pt",
    "--dataset kit",
    "",
    "--eval_mode debug",
    "python scripts/construct_composite_dataset.py --k_segments 4",
    "python other.py --x 1",
    "```",
    "  ```bash",
    "  python -m train.train_grpo --model_path c.pt --lora_r 8 lora_alpha 16 --x y \\ --z w",
    "  ```",
  ].join("\n");
  const cmds = extractSeedCommands(md);
  assert.equal(cmds.length, 4);
  assert.deepEqual(cmds.map((c) => [c.program, c.line, c.endLine]), [
    ["train-grpo", 4, 6],
    ["eval-humanml", 7, 8],
    ["construct-composite", 11, 11],
    ["train-grpo", 15, 15],
  ]);
  assert.deepEqual(cmds[0].args, ["--model_path", "a.pt", "--save_dir", "s"]);
  assert.deepEqual(cmds[1].args, ["--model_path", "b.pt", "--dataset", "kit"]);
  assert.deepEqual(cmds[3].args, [
    "--model_path",
    "c.pt",
    "--lora_r",
    "8",
    "lora_alpha",
    "16",
    "--x",
    "y",
    " --z",
    "w",
  ]);
});

Deno.test({
  name: "seed guide: every command parses under --dry-run except the guide's typos",
  ignore: NO_GUIDE,
  fn() {
    const cmds = extractSeedCommands(GUIDE!);
    const counts = { "train-grpo": 0, "eval-humanml": 0, "construct-composite": 0 };
    for (const c of cmds) counts[c.program]++;
    // A broken extractor must not pass by finding nothing.
    assert.deepEqual(counts, EXPECTED_COUNTS);
    // Cross-check against the raw text: every invocation line in the guide became one command.
    const raw = GUIDE!.split("\n").filter((l) =>
      /python (-m (train\.train_grpo|eval\.eval_humanml)|scripts\/construct_composite_dataset\.py)/
        .test(l)
    );
    assert.equal(cmds.length, raw.length);

    const failures: string[] = [];
    const unexpected: string[] = [];
    for (const cmd of cmds) {
      try {
        parseSeed(cmd);
        if (EXPECTED_FAILURES.has(cmd.line)) {
          unexpected.push(`line ${cmd.line}: parsed but must fail`);
        }
      } catch (err) {
        if (!(err instanceof FlagError)) throw err;
        assert.ok(!err.message.includes("\n"), `line ${cmd.line}: message is one line`);
        failures.push(`line ${cmd.line}: ${err.message}`);
        const want = EXPECTED_FAILURES.get(cmd.line);
        if (want === undefined || !err.message.includes(want)) {
          unexpected.push(`line ${cmd.line}-${cmd.endLine}: ${err.message}\n  ${cmd.text}`);
        }
      }
    }
    console.log(
      `seed guide: ${cmds.length} commands; failing as expected:\n  ${failures.join("\n  ")}`,
    );
    assert.deepEqual(unexpected, [], `unexpected results:\n${unexpected.join("\n")}`);
    assert.equal(failures.length, EXPECTED_FAILURES.size);
  },
});

Deno.test({
  name: "seed guide: the escaped space in `mdm \\ --reward_type` fails on its own",
  ignore: NO_GUIDE,
  fn() {
    const cmd = extractSeedCommands(GUIDE!).find((c) => c.line === 29);
    assert.ok(cmd !== undefined, "the LoRA quick-start command is on line 29");
    assert.ok(cmd.args.includes(" --reward_type"), "bash makes one word of the escaped space");
    // Fix the first typo (the missing -- before lora_alpha): the second must still fail.
    const fixed = cmd.args.map((a) => a === "lora_alpha" ? "--lora_alpha" : a);
    assert.throws(
      () => parseTrainGrpoArgs([...fixed, "--dry-run"]),
      /unexpected argument " --reward_type": did you mean --reward_type\?/,
    );
  },
});

Deno.test({
  name: "seed guide: the elided command is the only one with `...`",
  ignore: NO_GUIDE,
  fn() {
    const elided = extractSeedCommands(GUIDE!).filter((c) => c.elided);
    assert.deepEqual(elided.map((c) => c.line), [493]);
    assert.throws(() => parseTrainGrpoArgs(elided[0].args), FlagError);
    assert.equal(
      parseTrainGrpoArgs(["--model_path", "m", "--save_dir", "s", ...elided[0].args.slice(1)])
        .flags.train_platform_type,
      "TensorboardPlatform",
    );
  },
});

/** Rows of the guide's parameter tables: `| \`--flag\` | type | [required |] default | ... |`. */
function guideTableRows(md: string): { name: string; type: string; dflt: string }[] {
  const rows: { name: string; type: string; dflt: string }[] = [];
  for (const line of md.split("\n")) {
    const m = /^\|\s*`--(\w+)`\s*\|(.*)\|\s*$/.exec(line);
    if (m === null) continue;
    const cells = m[2].split("|").map((c) => c.trim());
    if (!["str", "int", "float", "flag"].includes(cells[0])) continue; // option-list tables
    const dflt = cells.length >= 4 && /^[✅❌]/.test(cells[1]) ? cells[2] : cells[1];
    rows.push({ name: m[1], type: cells[0], dflt });
  }
  return rows;
}

function guideDefault(type: string, text: string): unknown {
  const t = text.replace(/`/g, "");
  if (t === "**必需**" || t === "-") return "required";
  if (type === "flag") return t === "False" ? false : t;
  if (t === "None") return null;
  return type === "str" ? t : Number(t);
}

function ourDefault(spec: FlagSpec): unknown {
  return "required" in spec && spec.required ? "required" : spec.default;
}

Deno.test({
  name: "seed guide: the flag tables' types and defaults match the guide's tables",
  ignore: NO_GUIDE,
  fn() {
    const rows = guideTableRows(GUIDE!);
    assert.ok(rows.length >= 30, `found only ${rows.length} table rows`);
    const kinds: Record<string, string[]> = {
      str: ["string", "path", "enum"],
      int: ["int"],
      float: ["float"],
      flag: ["bool"],
    };
    for (const row of rows) {
      const spec: FlagSpec | undefined = TRAIN_GRPO_FLAGS.find((s) => s.name === row.name);
      assert.ok(spec !== undefined, `--${row.name} of the guide is missing from train-grpo`);
      assert.ok(kinds[row.type].includes(spec.kind), `--${row.name}: ${row.type} vs ${spec.kind}`);
      assert.equal(ourDefault(spec), guideDefault(row.type, row.dflt), `--${row.name} default`);
    }
  },
});

Deno.test("eval-humanml shares its common rows with train-grpo", () => {
  for (const name of ["dataset", "composite_k_segments", "device", "seed"]) {
    const a = TRAIN_GRPO_FLAGS.find((s) => s.name === name);
    const b = EVAL_HUMANML_FLAGS.find((s) => s.name === name);
    assert.ok(a !== undefined && a === b, `--${name} is one shared row`);
  }
});

Deno.test({
  name: "seed guide: construct-composite commands are found (parsed when a parser is exported)",
  ignore: NO_GUIDE,
  async fn() {
    const cmds = extractSeedCommands(GUIDE!).filter((c) => c.program === "construct-composite");
    assert.deepEqual(cmds.map((c) => c.line), [178, 388, 425, 925]);
    assert.ok(cmds.every((c) => c.args.includes("--k_segments") && !c.elided));
    // cli/construct_composite.ts belongs to its own command; its parser is used once it exports
    // one under this name, otherwise the commands are only counted.
    const mod: Record<string, unknown> = await import("../../cli/construct_composite.ts");
    const parse = mod.parseConstructCompositeArgs;
    if (typeof parse !== "function") {
      console.log("construct-composite: 4 commands counted; no parseConstructCompositeArgs export");
      return;
    }
    for (const c of cmds) parse(c.args);
  },
});
