/**
 * `deno task build-mini-models`: trains the mini profile's frozen encoders (reward model
 * `tmr`, independent `evaluator`, conditioning `text` encoder) on the mini dataset and writes
 * them to `--out_dir` (default `assets/mini`); `--check` instead rebuilds each from its shipped
 * `config.json` into a temporary folder and exits 1 when any weight file's SHA-256 differs from
 * the shipped `build.json`. The mini dataset is built first when `--data_dir` has none.
 *
 * Any bad flag or stray word prints one line naming it and exits with code 2.
 * @module
 */
import { Command } from "commander";
import { intFlag, parseOrReport, UsageError } from "./_commander.ts";
import { createCpuBackend } from "../kernels/cpu_backend.ts";
import { DEFAULT_MINI_DIR, makeMiniDataset } from "../datasets/mini/make_mini_dataset.ts";
import {
  buildMiniModel,
  checkMiniModel,
  MINI_ROLES,
  type MiniRole,
} from "../models/mini/build_mini_models.ts";

const COMMAND = "deno task build-mini-models";

/** Parsed flags (snake_case as on the command line). */
interface Flags {
  which: MiniRole | "all";
  data_dir: string;
  out_dir: string;
  steps?: number;
  seed?: number;
  check: boolean;
}

function whichFlag(value: string): MiniRole | "all" {
  if (value === "all" || (MINI_ROLES as readonly string[]).includes(value)) {
    return value as MiniRole | "all";
  }
  throw new UsageError(`Invalid --which "${value}": use tmr, evaluator, text or all`);
}

function program(): Command {
  return new Command()
    .name(COMMAND)
    .description(
      "Train the mini profile's frozen encoders, or check that they rebuild bit-exactly.",
    )
    .option("--which <model>", "tmr, evaluator, text or all", whichFlag, "all")
    .option("--data_dir <dir>", "mini dataset folder (built if missing)", DEFAULT_MINI_DIR)
    .option("--out_dir <dir>", "root folder of the model folders", "assets/mini")
    .option("--steps <n>", "training steps (default: the role's)", intFlag("--steps", 1, 1e7))
    .option("--seed <n>", "seed (default: the role's)", intFlag("--seed", 0, 0xffffffff))
    .option("--check", "rebuild into a temporary folder and compare SHA-256 with build.json", false)
    .allowExcessArguments(false)
    .allowUnknownOption(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}

async function ensureDataset(dataDir: string): Promise<void> {
  try {
    await Deno.stat(`${dataDir}/manifest.json`);
  } catch {
    console.log(`No mini dataset in ${dataDir}: building it.`);
    await makeMiniDataset({ outputDir: dataDir });
  }
}

/** Runs the command on `args`; returns the exit code (0 ok, 1 check failed, 2 usage error). */
export async function main(args: string[]): Promise<number> {
  const cmd = program();
  const failed = parseOrReport(cmd, args, COMMAND);
  if (failed !== null) return failed;
  const flags = cmd.opts<Flags>();
  if (flags.check && (flags.steps !== undefined || flags.seed !== undefined)) {
    console.error(
      `Cannot run ${COMMAND}: --check rebuilds with the shipped settings; drop --steps/--seed`,
    );
    return 2;
  }
  const roles = flags.which === "all" ? [...MINI_ROLES] : [flags.which];
  await ensureDataset(flags.data_dir);
  const be = createCpuBackend();
  const log = (line: string) => console.log(line);
  if (flags.check) {
    let failed = 0;
    for (const role of roles) {
      const r = await checkMiniModel(be, {
        role,
        dataDir: flags.data_dir,
        outDir: flags.out_dir,
        log,
      });
      if (r.ok) {
        console.log(`OK ${role}: every weight file rebuilds bit-exactly.`);
      } else {
        failed++;
        for (const p of r.problems) console.error(`MISMATCH ${role}: ${p}`);
      }
    }
    return failed === 0 ? 0 : 1;
  }
  const settings = {
    ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
  };
  for (const role of roles) {
    await buildMiniModel(be, {
      role,
      dataDir: flags.data_dir,
      outDir: flags.out_dir,
      settings,
      log,
    });
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
