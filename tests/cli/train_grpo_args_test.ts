import assert from "node:assert/strict";
import {
  FlagError,
  type FlagErrorCode,
  flagReferenceMarkdown,
  HelpRequested,
} from "../../cli/_flags.ts";
import {
  checkTrainGrpoFiles,
  parseTrainGrpoArgs,
  type TrainGrpoConfig,
  trainGrpoHelp,
} from "../../cli/train_grpo.ts";
import { TRAIN_GRPO_FLAGS } from "../../cli/train_grpo_flags.ts";
import { tempDir } from "../_util.ts";

const BASE = ["--model_path", "m.pt", "--save_dir", "out"];
const TMR = [
  ...BASE,
  "--reward_model_type",
  "tmr",
  "--tmr_text_encoder_path",
  "t.pt",
  "--tmr_motion_encoder_path",
  "mo.pt",
  "--tmr_movement_encoder_path",
  "mv.pt",
];

function parse(...extra: string[]): TrainGrpoConfig {
  return parseTrainGrpoArgs([...BASE, ...extra]);
}

/** Asserts that `argv` fails with one line of code `code` naming `flag` and containing `text`. */
function assertFails(argv: string[], code: FlagErrorCode, flag: string | null, text: string) {
  assert.throws(() => parseTrainGrpoArgs(argv), (err: unknown) => {
    assert.ok(err instanceof FlagError, `expected a FlagError, got ${err}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.flag, flag, err.message);
    assert.ok(err.message.includes(text), `"${err.message}" lacks "${text}"`);
    assert.ok(!err.message.includes("\n"), "the message must be one line");
    return true;
  });
}

Deno.test("parseTrainGrpoArgs() fills the guide's defaults and marks them defaulted", () => {
  const cfg = parse();
  const expected: Record<string, unknown> = {
    ref_model_path: null,
    dataset: "humanml",
    batch_size: 1,
    group_size: 4,
    learning_rate: 5e-7,
    clip_epsilon: 0.2,
    kl_penalty: 1.0,
    grpo_type: "normal_grpo",
    device: "auto",
    seed: 10,
    use_lora: false,
    lora_r: 8,
    lora_alpha: 16,
    reward_model_type: "mdm",
    reward_type: "matching",
    tmr_similarity_type: "cosine",
    tmr_normalization: "linear",
    tmr_max_distance: 10.0,
    tmr_scale: 2.0,
    use_dense_reward: false,
    use_physics_reward: false,
    k_segments: 1,
    max_motion_length: 196,
    alpha: 0.5,
    beta_s: 1.0,
    beta_p: 0.1,
    lambda_skate: 1.0,
    lambda_jerk: 1.0,
    fps: 20.0,
    disable_random_crop: false,
    use_composite_dataset: false,
    composite_data_path: null,
    composite_k_segments: 3,
    noise_scale: 0.7,
    train_timesteps: 10,
    inference_timesteps: 40,
    train_platform_type: "NoPlatform",
  };
  for (const [name, value] of Object.entries(expected)) {
    assert.equal((cfg.flags as Record<string, unknown>)[name], value, `--${name}`);
    assert.equal((cfg.sources as Record<string, string>)[name], "default", `--${name} source`);
  }
  assert.equal(cfg.flags.model_path, "m.pt");
  assert.equal(cfg.sources.model_path, "flag");
  assert.deepEqual(cfg.device, { kind: "auto" });
  assert.deepEqual(cfg.warnings, []);
  assert.equal(cfg.dryRun, false);
  assert.equal(parse("--dry-run").dryRun, true);
});

Deno.test("parseTrainGrpoArgs() types numbers and accepts the guide's spellings", () => {
  const cfg = parse(
    "--learning_rate",
    "1e-6",
    "--group_size",
    "8",
    "--clip_epsilon",
    ".1",
    "--kl_penalty",
    "0",
    "--fps=12.5",
    "--seed",
    "4294967295",
  );
  assert.equal(cfg.flags.learning_rate, 1e-6);
  assert.equal(cfg.flags.group_size, 8);
  assert.equal(cfg.flags.clip_epsilon, 0.1);
  assert.equal(cfg.flags.kl_penalty, 0);
  assert.equal(cfg.flags.fps, 12.5);
  assert.equal(cfg.flags.seed, 0xffffffff);
  assert.equal(cfg.sources.learning_rate, "flag");
});

Deno.test("parseTrainGrpoArgs() requires --model_path and --save_dir", () => {
  assertFails(["--save_dir", "out"], "missing_flag", "--model_path", "--model_path is required");
  assertFails(["--model_path", "m.pt"], "missing_flag", "--save_dir", "--save_dir is required");
  assertFails([...BASE, "--model_path", ""], "bad_value", "--model_path", "non-empty path");
});

Deno.test("parseTrainGrpoArgs() rejects numbers of the wrong type or range", () => {
  const cases: [string, string, string][] = [
    ["group_size", "1", 'expected an integer >= 2, got "1"'],
    ["group_size", "2.5", "an integer >= 2"],
    ["group_size", "4.0", "an integer >= 2"], // Python's int() refuses it too
    ["batch_size", "0", "an integer >= 1"],
    ["num_steps", "abc", 'got "abc"'],
    ["learning_rate", "0", "a number > 0"],
    ["learning_rate", "-1e-6", "a number > 0"],
    ["learning_rate", "1e", "a number > 0"],
    ["learning_rate", "NaN", "a number > 0"],
    ["clip_epsilon", "0", "a number in (0, 1)"],
    ["clip_epsilon", "1", "a number in (0, 1)"],
    ["kl_penalty", "-0.5", "a number >= 0"],
    ["seed", "-1", "an integer in [0, 4294967295]"],
    ["seed", "4294967296", "an integer in [0, 4294967295]"],
    ["k_segments", "0", "an integer >= 1"],
    ["max_motion_length", "0", "an integer >= 1"],
    ["alpha", "-0.1", "a number >= 0"],
    ["beta_p", "x", "a number >= 0"],
    ["fps", "0", "a number > 0"],
    ["tmr_max_distance", "0", "a number > 0"],
    ["tmr_scale", "-2", "a number > 0"],
    ["composite_k_segments", "6", 'expected one of 3, 4, 5, got "6"'],
    ["lora_r", "0", "an integer >= 1"],
  ];
  for (const [name, value, text] of cases) {
    assertFails([...BASE, `--${name}`, value], "bad_value", `--${name}`, text);
  }
});

Deno.test("parseTrainGrpoArgs() rejects words outside each enum", () => {
  const cases: [string, string][] = [
    ["dataset", "HumanML3D"],
    ["grpo_type", "flow"],
    ["reward_model_type", "clip"],
    ["reward_type", "l2"],
    ["tmr_similarity_type", "dot"],
    ["tmr_normalization", "softmax"],
    ["train_platform_type", "tensorboard"],
  ];
  for (const [name, value] of cases) {
    assertFails([...BASE, `--${name}`, value], "bad_value", `--${name}`, "expected one of");
  }
});

Deno.test("parseTrainGrpoArgs() resolves --device to a WebGPU adapter or the CPU", () => {
  const cases: [string, unknown][] = [
    ["0", { kind: "webgpu", index: 0 }],
    ["3", { kind: "webgpu", index: 3 }],
    ["cuda", { kind: "webgpu", index: 0 }],
    ["cuda:1", { kind: "webgpu", index: 1 }],
    ["mps", { kind: "webgpu", index: 0 }],
    ["cpu", { kind: "cpu" }],
    ["auto", { kind: "auto" }],
  ];
  for (const [raw, device] of cases) {
    const cfg = parse("--device", raw);
    assert.deepEqual(cfg.device, device, raw);
    assert.equal(cfg.flags.device, raw);
  }
  for (const bad of ["gpu", "cuda:x", "-1", "cuda:"]) {
    assertFails([...BASE, "--device", bad], "bad_value", "--device", "a GPU index, cuda");
  }
});

Deno.test("parseTrainGrpoArgs() treats switches as store-true flags that take no value", () => {
  const cfg = parse("--use_dense_reward", "--use_physics_reward", "--disable_random_crop");
  assert.equal(cfg.flags.use_dense_reward, true);
  assert.equal(cfg.flags.use_physics_reward, true);
  assert.equal(cfg.flags.disable_random_crop, true);
  assert.equal(cfg.sources.use_dense_reward, "flag");
  assertFails([...BASE, "--use_lora=1"], "bad_value", "--use_lora", "takes no value");
  assertFails(
    [...BASE, "--use_physics_reward", "yes"],
    "unexpected_argument",
    null,
    'unexpected argument "yes": --use_physics_reward is a switch',
  );
});

Deno.test("parseTrainGrpoArgs() rejects unknown flags and stray words with a suggestion", () => {
  assertFails([...BASE, "--seedd", "3"], "unknown_flag", "--seedd", "did you mean --seed?");
  assertFails([...BASE, "--lr", "1e-6"], "unknown_flag", "--lr", "unknown flag --lr");
  assertFails(
    [...BASE, "--use_lora", "--lora_r", "8", "lora_alpha", "16"],
    "unexpected_argument",
    null,
    'unexpected argument "lora_alpha": did you mean --lora_alpha?',
  );
  // `mdm \ --reward_type` in bash: the escaped space becomes part of the next word.
  assertFails(
    [...BASE, "--reward_model_type", "mdm", " --reward_type", "matching"],
    "unexpected_argument",
    null,
    'unexpected argument " --reward_type": did you mean --reward_type?',
  );
  assertFails([...BASE, "extra"], "unexpected_argument", null, '"extra"');
});

Deno.test("parseTrainGrpoArgs() reports a flag left without its value", () => {
  assertFails([...BASE, "--seed"], "missing_value", "--seed", "got nothing");
  assertFails(
    ["--model_path", "m.pt", "--save_dir", "--dataset", "kit"],
    "missing_value",
    "--save_dir",
    'got the flag "--dataset"',
  );
});

Deno.test("parseTrainGrpoArgs() ties --reward_type to the reward model", () => {
  for (const t of ["matching", "r_precision", "combined"]) {
    assert.equal(parse("--reward_type", t).flags.reward_type, t);
  }
  assertFails(
    [...BASE, "--reward_type", "cosine"],
    "bad_value",
    "--reward_type",
    "with --reward_model_type mdm",
  );
  for (const t of ["cosine", "matching"]) {
    assert.equal(parseTrainGrpoArgs([...TMR, "--reward_type", t]).flags.reward_type, t);
  }
  for (const t of ["r_precision", "combined"]) {
    assertFails(
      [...TMR, "--reward_type", t],
      "bad_value",
      "--reward_type",
      "one of cosine, matching",
    );
  }
});

Deno.test("parseTrainGrpoArgs() needs all three TMR encoder paths with tmr", () => {
  const names = ["tmr_text_encoder_path", "tmr_motion_encoder_path", "tmr_movement_encoder_path"];
  for (const name of names) {
    const at = TMR.indexOf(`--${name}`);
    const argv = [...TMR.slice(0, at), ...TMR.slice(at + 2)];
    assertFails(argv, "missing_flag", `--${name}`, `--${name} is missing`);
  }
  assert.equal(parseTrainGrpoArgs(TMR).flags.tmr_movement_encoder_path, "mv.pt");
});

Deno.test("parseTrainGrpoArgs() warns that TMR matching options are ignored outside matching", () => {
  // The guide: with --reward_type cosine these options "are ignored" (a warning, not an error).
  const cos = parseTrainGrpoArgs([
    ...TMR,
    "--reward_type",
    "cosine",
    "--tmr_similarity_type",
    "euclidean",
    "--tmr_scale",
    "3",
  ]);
  assert.equal(cos.warnings.length, 2);
  assert.match(cos.warnings[0], /--tmr_similarity_type is ignored/);
  const mdm = parse("--tmr_normalization", "sigmoid", "--tmr_text_encoder_path", "t.pt");
  assert.equal(mdm.warnings.length, 2);
  const matching = parseTrainGrpoArgs([
    ...TMR,
    "--reward_type",
    "matching",
    "--tmr_similarity_type",
    "euclidean",
    "--tmr_normalization",
    "exponential",
    "--tmr_scale",
    "2.0",
  ]);
  assert.deepEqual(matching.warnings, []);
  const wrongKnob = parseTrainGrpoArgs([
    ...TMR,
    "--tmr_max_distance",
    "5",
    "--tmr_normalization",
    "sigmoid",
  ]);
  assert.match(wrongKnob.warnings.join("\n"), /--tmr_max_distance is ignored/);
});

Deno.test("parseTrainGrpoArgs() applies the composite dataset rules", () => {
  const c = ["--use_composite_dataset", "--composite_data_path", "c.npy"];
  assertFails(
    [...BASE, "--use_composite_dataset"],
    "missing_flag",
    "--composite_data_path",
    "--composite_data_path is missing",
  );
  const forced = parse(...c, "--composite_k_segments", "4");
  assert.equal(forced.flags.disable_random_crop, true);
  assert.equal(forced.sources.disable_random_crop, "derived");
  assert.equal(forced.flags.k_segments, 4);
  assert.equal(forced.sources.k_segments, "derived");
  const given = parse(...c, "--disable_random_crop", "--k_segments", "3");
  assert.equal(given.sources.disable_random_crop, "flag");
  assert.equal(given.flags.k_segments, 3);
  assertFails(
    [...BASE, ...c, "--composite_k_segments", "5", "--k_segments", "3"],
    "conflict",
    "--k_segments",
    "must be equal",
  );
  assertFails(
    [...BASE, "--composite_data_path", "c.npy"],
    "conflict",
    "--composite_data_path",
    "without --use_composite_dataset",
  );
  assertFails(
    [...BASE, "--composite_k_segments", "3"],
    "conflict",
    "--composite_k_segments",
    "without --use_composite_dataset",
  );
});

Deno.test("parseTrainGrpoArgs() accepts Flow-GRPO options only with flow_grpo", () => {
  const flow = parse("--grpo_type", "flow_grpo", "--noise_scale", "0.5", "--train_timesteps", "5");
  assert.equal(flow.flags.noise_scale, 0.5);
  assert.equal(flow.flags.train_timesteps, 5);
  assert.equal(flow.flags.inference_timesteps, 40);
  for (
    const [name, value] of [["noise_scale", "0.7"], ["train_timesteps", "10"], [
      "inference_timesteps",
      "40",
    ]]
  ) {
    assertFails([...BASE, `--${name}`, value], "conflict", `--${name}`, "--grpo_type flow_grpo");
  }
  assertFails(
    [...BASE, "--grpo_type", "flow_grpo", "--train_timesteps", "0"],
    "bad_value",
    "--train_timesteps",
    "an integer >= 1",
  );
});

Deno.test("parseTrainGrpoArgs() accepts LoRA options only with --use_lora", () => {
  const lora = parse("--use_lora", "--lora_r", "16", "--lora_alpha", "32");
  assert.equal(lora.flags.lora_r, 16);
  assert.equal(lora.flags.lora_alpha, 32);
  assertFails([...BASE, "--lora_r", "8"], "conflict", "--lora_r", "without --use_lora");
  assertFails([...BASE, "--lora_alpha", "16"], "conflict", "--lora_alpha", "without --use_lora");
});

Deno.test("parseTrainGrpoArgs() uses 12.5 fps for KIT unless --fps is given", () => {
  const kit = parse("--dataset", "kit");
  assert.equal(kit.flags.fps, 12.5);
  assert.equal(kit.sources.fps, "derived");
  const kit20 = parse("--dataset", "kit", "--fps", "20");
  assert.equal(kit20.flags.fps, 20);
  assert.equal(kit20.sources.fps, "flag");
  assert.equal(parse("--dataset", "humanml").flags.fps, 20);
});

Deno.test("parseTrainGrpoArgs() warns about shaping options their mode ignores", () => {
  assert.match(parse("--alpha", "0.0").warnings.join("\n"), /--alpha is ignored/);
  assert.match(parse("--beta_p", "0.2").warnings.join("\n"), /--beta_p is ignored/);
  assert.deepEqual(parse("--use_physics_reward", "--beta_p", "0.2").warnings, []);
  assert.match(parse("--use_dense_reward").warnings.join("\n"), /--k_segments 1/);
  assert.deepEqual(parse("--use_dense_reward", "--k_segments", "3", "--alpha", "0").warnings, []);
});

Deno.test("parseTrainGrpoArgs() throws HelpRequested listing every flag with its default", () => {
  assert.throws(() => parseTrainGrpoArgs(["--help"]), HelpRequested);
  const help = trainGrpoHelp();
  for (const spec of TRAIN_GRPO_FLAGS) {
    assert.ok(help.includes(`--${spec.name}`), `--help lacks --${spec.name}`);
  }
  for (
    const text of ["(default: 5e-7)", "(default: 0.2)", "(default: normal_grpo)", "(required)"]
  ) {
    assert.ok(help.includes(text), `--help lacks "${text}"`);
  }
  assert.ok(help.includes("--dry-run"));
  assert.ok(help.split("\n").every((l) => l.length <= 100), "--help fits 100 columns");
});

Deno.test("checkTrainGrpoFiles() names the first missing input file", async () => {
  const dir = await tempDir();
  try {
    const model = `${dir.path}/model.pt`;
    await Deno.writeTextFile(model, "x");
    const ok = parseTrainGrpoArgs(["--model_path", model, "--save_dir", `${dir.path}/out`]);
    await checkTrainGrpoFiles(ok); // TMR paths are not needed with mdm
    const noModel = parseTrainGrpoArgs(["--model_path", `${dir.path}/no.pt`, "--save_dir", "o"]);
    await assert.rejects(() => checkTrainGrpoFiles(noModel), (err: unknown) => {
      assert.ok(err instanceof FlagError && err.code === "missing_file");
      assert.equal(err.flag, "--model_path");
      return true;
    });
    const tmr = parseTrainGrpoArgs([...TMR.slice(4), "--model_path", model, "--save_dir", "o"]);
    await assert.rejects(() => checkTrainGrpoFiles(tmr), /--tmr_text_encoder_path "t.pt"/);
  } finally {
    await dir.remove();
  }
});

Deno.test("flagReferenceMarkdown() has one row per flag with its default", () => {
  const md = flagReferenceMarkdown(TRAIN_GRPO_FLAGS);
  const rows = md.split("\n").filter((l) => l.startsWith("| `--"));
  assert.equal(rows.length, TRAIN_GRPO_FLAGS.length);
  assert.ok(rows.includes(
    "| `--group_size` | <int> | 4 | GRPO group size G (samples per prompt) |",
  ));
  assert.ok(md.includes("| `--model_path` | <path> | required |"));
  assert.ok(md.includes("<normal_grpo\\|flow_grpo>"), "pipes in cells are escaped");
});

Deno.test("parseTrainGrpoArgs() explains the guide's elided `...`", () => {
  assertFails([...BASE, "...", "--seed", "1"], "unexpected_argument", null, "stands for omitted");
});
