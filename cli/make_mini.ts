/**
 * `deno task make-mini`: writes the procedural mini motion dataset in the HumanML3D layout
 * (see `datasets/mini/README.md`). Deterministic in `--seed` and `--num_clips`; a matching
 * `manifest.json` in `--output_dir` means nothing is rebuilt unless `--force` is given.
 *
 * Any bad flag or stray word prints one line naming it and exits with code 2, writing nothing.
 * @module
 */
import { Command } from "commander";
import { intFlag, parseOrReport } from "./_commander.ts";
import {
  DEFAULT_MINI_DIR,
  DEFAULT_MINI_KIT_DIR,
  DEFAULT_NUM_CLIPS,
  makeMiniDataset,
} from "../datasets/mini/make_mini_dataset.ts";

const COMMAND = "deno task make-mini";

/** Parsed flags (snake_case as on the command line). */
interface Flags {
  output_dir?: string;
  num_clips: number;
  seed: number;
  force: boolean;
  kit: boolean;
}

function program(): Command {
  return new Command()
    .name(COMMAND)
    .description("Write the procedural mini motion dataset in the HumanML3D layout.")
    .option(
      "--output_dir <dir>",
      `output folder (default ${DEFAULT_MINI_DIR}, with --kit ${DEFAULT_MINI_KIT_DIR})`,
    )
    .option(
      "--num_clips <n>",
      "generated clips (mirrors double the count)",
      intFlag("--num_clips", 20, 999_999),
      DEFAULT_NUM_CLIPS,
    )
    .option("--seed <n>", "seed of every random draw", intFlag("--seed", 0, 0xffffffff), 0)
    .option("--force", "rebuild even if the cached copy matches", false)
    .option(
      "--kit",
      "KIT-ML-style variant: 21 joints (mm), 12.5 fps, 251 features, 5-digit ids",
      false,
    )
    .allowExcessArguments(false)
    .allowUnknownOption(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}

/** Runs the command on `args`; returns the exit code (0 ok, 2 usage error). */
export async function main(args: string[]): Promise<number> {
  const cmd = program();
  const failed = parseOrReport(cmd, args, COMMAND);
  if (failed !== null) return failed;
  const flags = cmd.opts<Flags>();
  const outputDir = flags.output_dir ?? (flags.kit ? DEFAULT_MINI_KIT_DIR : DEFAULT_MINI_DIR);
  if (flags.kit && flags.num_clips > 99_999) {
    console.error(
      `Cannot run ${COMMAND}: Invalid --num_clips "${flags.num_clips}": KIT ids have five digits, use at most 99999`,
    );
    return 2;
  }
  const t0 = performance.now();
  const m = await makeMiniDataset({
    outputDir,
    kit: flags.kit,
    numClips: flags.num_clips,
    seed: flags.seed,
    force: flags.force,
    log: (line) => console.log(line),
  });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (m.cached) {
    console.log(`Nothing to do: ${outputDir} already holds this dataset (${seconds} s).`);
  } else {
    const mb = Object.values(m.files).reduce((a, f) => a + f.bytes, 0) / 1e6;
    console.log(
      `Wrote ${m.clips} clips (${m.clips / 2} generated + mirrors; train ${m.splits.train}, ` +
        `val ${m.splits.val}, test ${m.splits.test}; ${m.frames} frames, ` +
        `${(m.frames / (flags.kit ? 12.5 : 20) / 3600).toFixed(2)} h) to ${outputDir}: ` +
        `${Object.keys(m.files).length} files, ${mb.toFixed(0)} MB, in ${seconds} s.`,
    );
  }
  console.log(`Key ${m.key}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
