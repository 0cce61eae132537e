/**
 * `deno task train-grpo`: GRPO fine-tuning of an MDM checkpoint, with the seed's flags
 * (`python -m train.train_grpo`, table in `cli/train_grpo_flags.ts`).
 *
 * - Any bad flag, stray word, wrong type, missing required flag or inconsistent combination prints
 *   ONE line naming the flag and exits with code 2; nothing is written.
 * - `--dry-run` checks the flags, prints the resolved configuration as JSON (every flag with its
 *   value and whether it was defaulted) and exits 0. It touches no file and no device: input
 *   files (`--model_path`, TMR encoders, composite data) are checked only by a real run.
 * - `--help` lists every flag with its meaning and default.
 *
 * A real run validates the flags and the input files, then trains (train/grpo/trainer.ts);
 * a setup problem (e.g. official weights this version cannot use) is one line and code 2.
 * @module
 */
import {
  checkInputFiles,
  type CommandInfo,
  type DeviceRequest,
  dryRunReport,
  FlagError,
  HelpRequested,
  helpText,
  parseFlagTable,
  resolveDevice,
  type ValueSource,
} from "./_flags.ts";
import {
  FLOW_GRPO_FLAGS,
  LORA_FLAGS,
  REWARD_TYPES,
  TMR_ENCODER_FLAGS,
  TMR_MATCHING_FLAGS,
  TRAIN_GRPO_FLAGS,
  type TrainGrpoFlagName,
  type TrainGrpoFlags,
} from "./train_grpo_flags.ts";

const INFO: CommandInfo = {
  usageName: "deno task train-grpo",
  summary: "Fine-tune a text-to-motion diffusion model (MDM) with GRPO.",
  epilogue: "Flags, meanings and defaults are those of the seed's `python -m train.train_grpo`.\n" +
    "--dry-run never touches files or devices: input files are checked only by a real run.",
};

/** The frame rate KIT-ML features are stored at (HumanML3D: 20). */
const KIT_FPS = 12.5;

/** A checked train-grpo command line. */
export interface TrainGrpoConfig {
  /** Every flag's value after the rules (snake_case as on the command line). */
  flags: TrainGrpoFlags;
  /** Where each value came from. */
  sources: Record<TrainGrpoFlagName, ValueSource>;
  /** `--device`, resolved (WebGPU adapter index, CPU, or auto). */
  device: DeviceRequest;
  /** Flags that were given but have no effect, one sentence each; the command prints them. */
  warnings: string[];
  /** `--dry-run` was given. */
  dryRun: boolean;
}

function conflict(flag: string, message: string): FlagError {
  return new FlagError("conflict", flag, message);
}

/**
 * Parses and checks a train-grpo command line (the words after the command), applying every rule
 * of the seed guide. Throws {@link FlagError} with one clear line on bad input, and
 * {@link HelpRequested} for `--help`. Touches no file: see {@link checkTrainGrpoFiles}.
 *
 * @example
 * ```ts
 * import { parseTrainGrpoArgs } from "./train_grpo.ts";
 * const cfg = parseTrainGrpoArgs(["--model_path", "m.pt", "--save_dir", "out", "--device", "1"]);
 * console.assert(cfg.flags.group_size === 4 && cfg.device.kind === "webgpu");
 * ```
 */
export function parseTrainGrpoArgs(argv: string[]): TrainGrpoConfig {
  const { values: f, sources: src, dryRun } = parseFlagTable(INFO, TRAIN_GRPO_FLAGS, argv);
  const given = (name: TrainGrpoFlagName) => src[name] === "flag";
  const warnings: string[] = [];

  // Reward model and reward type.
  const allowed: readonly string[] = REWARD_TYPES[f.reward_model_type];
  if (!allowed.includes(f.reward_type)) {
    throw new FlagError(
      "bad_value",
      "--reward_type",
      `Cannot parse --reward_type: expected one of ${allowed.join(", ")} with ` +
        `--reward_model_type ${f.reward_model_type}, got ${JSON.stringify(f.reward_type)}`,
    );
  }
  if (f.reward_model_type === "tmr") {
    for (const name of TMR_ENCODER_FLAGS) {
      if (f[name] === null) {
        throw new FlagError(
          "missing_flag",
          `--${name}`,
          `Cannot use --reward_model_type tmr: --${name} is missing (TMR needs all three ` +
            `encoder paths: ${TMR_ENCODER_FLAGS.map((n) => `--${n}`).join(", ")})`,
        );
      }
    }
  } else {
    for (const name of TMR_ENCODER_FLAGS.filter(given)) {
      warnings.push(`--${name} is ignored: it is used only with --reward_model_type tmr`);
    }
  }
  // The guide: the matching options "take effect only with --reward_type matching; with cosine
  // they are ignored", so they warn instead of failing.
  const tmrMatching = f.reward_model_type === "tmr" && f.reward_type === "matching";
  for (const name of TMR_MATCHING_FLAGS.filter(given)) {
    if (!tmrMatching) {
      warnings.push(
        `--${name} is ignored: it acts only with --reward_model_type tmr --reward_type matching`,
      );
    }
  }
  if (tmrMatching && given("tmr_max_distance") && f.tmr_normalization !== "linear") {
    warnings.push(`--tmr_max_distance is ignored: it is used only by --tmr_normalization linear`);
  }
  if (tmrMatching && given("tmr_scale") && f.tmr_normalization === "linear") {
    warnings.push(
      `--tmr_scale is ignored: it is used only by --tmr_normalization exponential or sigmoid`,
    );
  }

  // Flow-GRPO and LoRA options change nothing outside their mode: a command that sets them
  // expects an effect, so they fail instead of being dropped silently.
  if (f.grpo_type !== "flow_grpo") {
    const name = FLOW_GRPO_FLAGS.find(given);
    if (name !== undefined) {
      throw conflict(
        `--${name}`,
        `Cannot use --${name} with --grpo_type ${f.grpo_type}: it is a Flow-GRPO option ` +
          `(add --grpo_type flow_grpo)`,
      );
    }
  }
  if (!f.use_lora) {
    const name = LORA_FLAGS.find(given);
    if (name !== undefined) {
      throw conflict(`--${name}`, `Cannot use --${name} without --use_lora`);
    }
  }

  // Composite data.
  if (f.use_composite_dataset) {
    if (f.composite_data_path === null) {
      throw new FlagError(
        "missing_flag",
        "--composite_data_path",
        "Cannot use --use_composite_dataset: --composite_data_path is missing " +
          "(the composite_k{K}_{split}.npy file built by construct-composite)",
      );
    }
    if (!f.disable_random_crop) {
      // Composite durations are fixed, so cropping would cut segments: the seed forces it on.
      f.disable_random_crop = true;
      src.disable_random_crop = "derived";
    }
    if (!given("k_segments")) {
      f.k_segments = f.composite_k_segments;
      src.k_segments = "derived";
    } else if (f.k_segments !== f.composite_k_segments) {
      throw conflict(
        "--k_segments",
        `Cannot use --k_segments ${f.k_segments} with --composite_k_segments ` +
          `${f.composite_k_segments}: they must be equal`,
      );
    }
  } else {
    const name = (["composite_data_path", "composite_k_segments"] as const).find(given);
    if (name !== undefined) {
      throw conflict(`--${name}`, `Cannot use --${name} without --use_composite_dataset`);
    }
  }

  // Reward shaping options that only one mode reads.
  if (given("alpha") && !f.use_dense_reward) {
    warnings.push("--alpha is ignored: it is the Segment-Dense penalty (add --use_dense_reward)");
  }
  if (f.use_dense_reward && f.k_segments === 1) {
    warnings.push(
      "--use_dense_reward with --k_segments 1 scores one segment: there is no negative penalty",
    );
  }
  if (!f.use_physics_reward) {
    for (const name of (["beta_p", "lambda_skate", "lambda_jerk"] as const).filter(given)) {
      warnings.push(
        `--${name} is ignored: it weights the physics reward (add --use_physics_reward)`,
      );
    }
  }
  if (f.dataset === "kit" && !given("fps")) {
    f.fps = KIT_FPS;
    src.fps = "derived";
  }

  const device = resolveDevice(f.device);
  if (device === null) throw new Error("unreachable: --device was validated by the table");
  return { flags: f, sources: src, device, warnings, dryRun };
}

/**
 * Checks that every input file of `config` exists (`--model_path`, `--ref_model_path`, the TMR
 * encoders with `--reward_model_type tmr`, `--composite_data_path` with a composite dataset);
 * throws a `missing_file` {@link FlagError} naming the first missing one. A dry run skips this.
 */
export async function checkTrainGrpoFiles(config: TrainGrpoConfig): Promise<void> {
  const f = config.flags;
  await checkInputFiles(TRAIN_GRPO_FLAGS, f, (name) => {
    if ((TMR_ENCODER_FLAGS as readonly string[]).includes(name)) {
      return f.reward_model_type === "tmr";
    }
    if (name === "composite_data_path") return f.use_composite_dataset;
    return true;
  });
}

/** The `--help` text, generated from the flag table. */
export function trainGrpoHelp(): string {
  return helpText(INFO, TRAIN_GRPO_FLAGS);
}

/** Runs the command on `argv`; returns the exit code (0 help or dry run, 2 bad input). */
export async function main(argv: string[]): Promise<number> {
  try {
    const config = parseTrainGrpoArgs(argv);
    for (const w of config.warnings) console.error(`Warning: ${w}`);
    if (config.dryRun) {
      console.log(dryRunReport("train-grpo", config.flags, config.sources, {
        device: config.device,
        warnings: config.warnings,
        files_checked: false,
      }));
      return 0;
    }
    await checkTrainGrpoFiles(config);
    // Loaded only for a real run: the trainer pulls in the engine and the models.
    const { trainGrpo } = await import("../train/grpo/trainer.ts");
    const { GrpoSetupError } = await import("../train/grpo/reward_models.ts");
    try {
      await trainGrpo(config);
    } catch (err) {
      // Setup problems (unsupported official networks, missing assets or dataset files,
      // unreadable checkpoints) are one line naming the file or flag, code 2.
      if (
        err instanceof GrpoSetupError || err instanceof Deno.errors.NotFound ||
        err instanceof SyntaxError
      ) {
        console.error(err.message);
        return 2;
      }
      throw err;
    }
    return 0;
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(err.text);
      return 0;
    }
    if (err instanceof FlagError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
