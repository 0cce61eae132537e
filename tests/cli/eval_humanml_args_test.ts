import assert from "node:assert/strict";
import { FlagError, HelpRequested } from "../../cli/_flags.ts";
import {
  checkEvalHumanmlFiles,
  evalHumanmlHelp,
  parseEvalHumanmlArgs,
} from "../../cli/eval_humanml.ts";
import { EVAL_HUMANML_FLAGS } from "../../cli/eval_humanml_flags.ts";
import { tempDir } from "../_util.ts";

function assertFails(argv: string[], flag: string | null, text: string) {
  assert.throws(() => parseEvalHumanmlArgs(argv), (err: unknown) => {
    assert.ok(err instanceof FlagError, `expected a FlagError, got ${err}`);
    assert.equal(err.flag, flag, err.message);
    assert.ok(err.message.includes(text), `"${err.message}" lacks "${text}"`);
    return true;
  });
}

Deno.test("parseEvalHumanmlArgs() fills the seed's defaults", () => {
  const cfg = parseEvalHumanmlArgs(["--model_path", "m.pt"]);
  assert.equal(cfg.flags.model_path, "m.pt");
  assert.equal(cfg.flags.dataset, "humanml");
  assert.equal(cfg.flags.eval_mode, "wo_mm");
  assert.equal(cfg.flags.guidance_param, 2.5);
  assert.equal(cfg.flags.use_composite_dataset, false);
  assert.equal(cfg.flags.composite_k_segments, 3);
  assert.equal(cfg.flags.seed, 10);
  assert.deepEqual(cfg.device, { kind: "auto" });
  assert.equal(cfg.sources.eval_mode, "default");
  assert.equal(cfg.dryRun, false);
});

Deno.test("parseEvalHumanmlArgs() checks every flag and rule", () => {
  assertFails([], "--model_path", "--model_path is required");
  assertFails(["--model_path", "m", "--eval_mode", "full"], "--eval_mode", "one of wo_mm");
  assertFails(["--model_path", "m", "--guidance_param", "-1"], "--guidance_param", ">= 0");
  assertFails(["--model_path", "m", "--dataset", "amass"], "--dataset", "one of humanml, kit");
  assertFails(["--model_path", "m", "--group_size", "4"], "--group_size", "unknown flag");
  assertFails(["--model_path", "m", "--use_composite_dataset"], "--composite_data_path", "missing");
  assertFails(
    ["--model_path", "m", "--composite_k_segments", "3"],
    "--composite_k_segments",
    "without",
  );
  assertFails(
    ["--model_path", "m", "--composite_k_segments", "2"],
    "--composite_k_segments",
    "3, 4, 5",
  );
  assertFails(["--model_path", "m", "stray"], null, 'unexpected argument "stray"');
  const c = parseEvalHumanmlArgs([
    "--model_path",
    "m",
    "--use_composite_dataset",
    "--composite_data_path",
    "c.npy",
    "--composite_k_segments",
    "5",
    "--device",
    "cuda:2",
    "--dry-run",
  ]);
  assert.equal(c.flags.composite_k_segments, 5);
  assert.deepEqual(c.device, { kind: "webgpu", index: 2 });
  assert.equal(c.dryRun, true);
});

Deno.test("parseEvalHumanmlArgs() --help lists every flag with its default", () => {
  assert.throws(() => parseEvalHumanmlArgs(["-h"]), HelpRequested);
  const help = evalHumanmlHelp();
  for (const spec of EVAL_HUMANML_FLAGS) assert.ok(help.includes(`--${spec.name}`), spec.name);
  assert.ok(help.includes("(default: wo_mm)") && help.includes("(default: 2.5)"));
});

Deno.test("checkEvalHumanmlFiles() checks the composite file only when it is used", async () => {
  const dir = await tempDir();
  try {
    const model = `${dir.path}/model_final.pt`;
    await Deno.writeTextFile(model, "x");
    await checkEvalHumanmlFiles(parseEvalHumanmlArgs(["--model_path", model]));
    const cfg = parseEvalHumanmlArgs([
      "--model_path",
      model,
      "--use_composite_dataset",
      "--composite_data_path",
      `${dir.path}/none.npy`,
    ]);
    await assert.rejects(() => checkEvalHumanmlFiles(cfg), /--composite_data_path/);
  } finally {
    await dir.remove();
  }
});
