/**
 * `deno task eval-humanml`: the T2M evaluation protocol (FID, R-precision, MM-Dist, Diversity,
 * MultiModality) with the seed's flags (`python -m eval.eval_humanml`, table in
 * `cli/eval_humanml_flags.ts`).
 *
 * - Any bad flag, stray word, wrong type or inconsistent combination prints ONE line naming the
 *   flag and exits with code 2; nothing is written.
 * - `--dry-run` checks the flags, prints the resolved configuration as JSON and exits 0 without
 *   touching files or devices: input files are checked only by a real run.
 * - `--help` lists every flag with its meaning and default.
 *
 * A real run validates the flags and the input files, then runs the protocol
 * (`eval/run/run_eval_humanml.ts`), prints the table and writes `<model dir>/eval_<mode>.json`.
 * An official (CLIP-conditioned) MDM checkpoint needs CLIP from `$MOTION_GRPO_ASSETS/clip/` and
 * is scored by the official T2M evaluator (under `$MOTION_GRPO_ASSETS`:
 * `t2m/text_mot_match/model/finest.tar`, `glove/`, `dataset/t2m_mean.npy`, `t2m_std.npy`); a
 * mini-profile model uses the mini text encoder and evaluator. When files are missing the run stops with one line naming
 * the variable and the paths expected, and exit code 2.
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
  EVAL_HUMANML_FLAGS,
  type EvalHumanmlFlags,
  type EvalHumanmlFlagSpec,
} from "./eval_humanml_flags.ts";
import { runEvalHumanml } from "../eval/run/run_eval_humanml.ts";
import { UnavailableError } from "../eval/run/load_assets.ts";

const INFO: CommandInfo = {
  usageName: "deno task eval-humanml",
  summary: "Evaluate a text-to-motion model with the HumanML3D / KIT-ML protocol.",
  epilogue:
    "Flags, meanings and defaults are those of the seed's `python -m eval.eval_humanml`.\n" +
    "--dry-run never touches files or devices: input files are checked only by a real run.",
};

/** A checked eval-humanml command line. */
export interface EvalHumanmlConfig {
  /** Every flag's value (snake_case as on the command line). */
  flags: EvalHumanmlFlags;
  /** Where each value came from. */
  sources: Record<EvalHumanmlFlagSpec["name"], ValueSource>;
  /** `--device`, resolved (WebGPU adapter index, CPU, or auto). */
  device: DeviceRequest;
  /** Flags that were given but have no effect; the command prints them. */
  warnings: string[];
  /** `--dry-run` was given. */
  dryRun: boolean;
}

/**
 * Parses and checks an eval-humanml command line (the words after the command). Throws
 * {@link FlagError} with one clear line on bad input and {@link HelpRequested} for `--help`.
 * Touches no file: see {@link checkEvalHumanmlFiles}.
 *
 * @example
 * ```ts
 * import { parseEvalHumanmlArgs } from "./eval_humanml.ts";
 * const cfg = parseEvalHumanmlArgs(["--model_path", "m.pt"]);
 * console.assert(cfg.flags.eval_mode === "wo_mm" && cfg.flags.guidance_param === 2.5);
 * ```
 */
export function parseEvalHumanmlArgs(argv: string[]): EvalHumanmlConfig {
  const { values: f, sources: src, dryRun } = parseFlagTable(INFO, EVAL_HUMANML_FLAGS, argv);
  if (f.use_composite_dataset) {
    if (f.composite_data_path === null) {
      throw new FlagError(
        "missing_flag",
        "--composite_data_path",
        "Cannot use --use_composite_dataset: --composite_data_path is missing " +
          "(the composite_k{K}_test.npy file built by construct-composite)",
      );
    }
  } else {
    const name = (["composite_data_path", "composite_k_segments"] as const).find((n) =>
      src[n] === "flag"
    );
    if (name !== undefined) {
      throw new FlagError(
        "conflict",
        `--${name}`,
        `Cannot use --${name} without --use_composite_dataset`,
      );
    }
  }
  const device = resolveDevice(f.device);
  if (device === null) throw new Error("unreachable: --device was validated by the table");
  return { flags: f, sources: src, device, warnings: [], dryRun };
}

/**
 * Checks that `--model_path` (and `--composite_data_path` with a composite dataset) exist; throws
 * a `missing_file` {@link FlagError} naming the first missing one. A dry run skips this.
 */
export async function checkEvalHumanmlFiles(config: EvalHumanmlConfig): Promise<void> {
  const f = config.flags;
  await checkInputFiles(
    EVAL_HUMANML_FLAGS,
    f,
    (name) => name !== "composite_data_path" || f.use_composite_dataset,
  );
}

/** The `--help` text, generated from the flag table. */
export function evalHumanmlHelp(): string {
  return helpText(INFO, EVAL_HUMANML_FLAGS);
}

/** Runs the command on `argv`; returns the exit code (0 done, help or dry run; 2 bad input, missing
 * input or unavailable network; 1 inconsistent data). */
export async function main(argv: string[]): Promise<number> {
  try {
    const config = parseEvalHumanmlArgs(argv);
    for (const w of config.warnings) console.error(`Warning: ${w}`);
    if (config.dryRun) {
      console.log(dryRunReport("eval-humanml", config.flags, config.sources, {
        device: config.device,
        warnings: config.warnings,
        files_checked: false,
      }));
      return 0;
    }
    await checkEvalHumanmlFiles(config);
    const { output, table } = await runEvalHumanml({ ...config.flags, device: config.device });
    console.log(table);
    console.log(`Wrote ${output}`);
    return 0;
  } catch (err) {
    // Missing inputs (args.json, dataset files) are bad input like a missing --model_path.
    if (err instanceof UnavailableError || err instanceof Deno.errors.NotFound) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof HelpRequested) {
      console.log(err.text);
      return 0;
    }
    if (err instanceof FlagError) {
      console.error(err.message);
      return 2;
    }
    // Bad data (a malformed composite file or args.json, mismatched sizes): one line, no trace.
    if (err instanceof RangeError || err instanceof SyntaxError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
