/**
 * `deno task construct-composite`: builds `composite_k{K}_{split}.npy` (layout in
 * `datasets/composite/layout.ts`) from a HumanML3D or KIT-ML split. Flags as in the seed's
 * `scripts/construct_composite_dataset.py`, plus `--data_root` (where the dataset lives, default
 * as in MDM: `./dataset/HumanML3D` or `./dataset/KIT-ML`) and `--seed` (default 10, MDM's).
 *
 * Any bad flag, stray word or impossible request prints one line naming the flag and exits with
 * code 2; nothing is written unless the whole file was built.
 * @module
 */
import { Command, Option } from "commander";
import { parseOrReport, UsageError } from "./_commander.ts";
import { HumanMLDataset } from "../datasets/humanml/loader.ts";
import { type DatasetName, datasetOptions } from "../datasets/humanml/options.ts";
import { constructComposites } from "../datasets/composite/construct.ts";
import { writeComposite } from "../datasets/composite/layout.ts";
import type { SegmentEncoder } from "../datasets/composite/segment_encoder.ts";
import { segmentEncoderFrom } from "../rewards/segment_similarity.ts";
import { loadMiniEncoder } from "../models/mini/mini_encoder.ts";
import { createCpuBackend } from "../kernels/cpu_backend.ts";

const COMMAND = "deno task construct-composite";

/** Parsed flags (snake_case as on the command line). */
interface Flags {
  dataset: DatasetName;
  data_root?: string;
  split: "train" | "val" | "test";
  k_segments: number;
  output_dir?: string;
  target_length: number;
  tolerance: number;
  fps?: number;
  max_samples: number;
  compute_b_matrix: boolean;
  encoder_dir: string;
  device: string;
  seed: number;
}

function intFlag(flag: string, min: number) {
  return (value: string): number => {
    if (!/^[+-]?\d+$/.test(value.trim()) || Number(value) < min) {
      throw new UsageError(`Invalid ${flag} "${value}": use an integer >= ${min}`);
    }
    return Number(value);
  };
}

function kFlag(value: string): number {
  if (!["3", "4", "5"].includes(value.trim())) {
    throw new UsageError(`Invalid --k_segments "${value}": use 3, 4 or 5`);
  }
  return Number(value);
}

function floatFlag(flag: string) {
  return (value: string): number => {
    const x = Number(value);
    if (value.trim() === "" || !Number.isFinite(x) || x <= 0) {
      throw new UsageError(`Invalid ${flag} "${value}": use a positive number`);
    }
    return x;
  };
}

function program(): Command {
  return new Command()
    .name(COMMAND)
    .description("Build a composite dataset of K concatenated clips per sample.")
    .addOption(
      new Option("--dataset <name>", "dataset").choices(["humanml", "kit"]).default("humanml"),
    )
    .option("--data_root <dir>", "dataset root (default ./dataset/HumanML3D or ./dataset/KIT-ML)")
    .addOption(
      new Option("--split <name>", "split to draw from").choices(["train", "val", "test"])
        .default("train"),
    )
    .option("--k_segments <k>", "segments per sample: 3, 4 or 5", kFlag, 3)
    .option("--output_dir <dir>", "output folder (default <data_root>/composite)")
    .option("--target_length <frames>", "target total length", intFlag("--target_length", 1), 196)
    .option(
      "--tolerance <frames>",
      "allowed deviation from the target",
      intFlag("--tolerance", 0),
      20,
    )
    .option(
      "--fps <rate>",
      "frame rate for durations (default 20.0; 12.5 for kit)",
      floatFlag("--fps"),
    )
    .option("--max_samples <n>", "samples to build", intFlag("--max_samples", 1), 1000)
    .option("--compute_b_matrix", "fill B_matrix with encoder similarities", false)
    .option("--device <device>", "GPU index, cuda, mps or cpu (used by --compute_b_matrix)", "cpu")
    .option(
      "--encoder_dir <dir>",
      "text-motion encoder for --compute_b_matrix (a mini-profile folder with config.json)",
      "assets/mini/tmr",
    )
    .option("--seed <n>", "seed of every random draw", intFlag("--seed", 0), 10)
    .allowExcessArguments(false)
    .allowUnknownOption(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}

/** Runs the command on `args`; returns the exit code (0 ok, 2 usage or data error). */
export async function main(args: string[]): Promise<number> {
  const cmd = program();
  const failed = parseOrReport(cmd, args, COMMAND);
  if (failed !== null) return failed;
  const flags = cmd.opts<Flags>();
  if (flags.seed > 0xffffffff) {
    console.error(`Cannot run ${COMMAND}: Invalid --seed ${flags.seed}: use a u32 integer`);
    return 2;
  }
  if (!/^(\d+|cuda(:\d+)?|mps|cpu)$/.test(flags.device)) {
    console.error(
      `Cannot run ${COMMAND}: Invalid --device "${flags.device}": use a GPU index, cuda, mps or cpu`,
    );
    return 2;
  }
  let encoder: SegmentEncoder | undefined;
  if (flags.compute_b_matrix) {
    try {
      await Deno.stat(`${flags.encoder_dir}/config.json`);
    } catch {
      console.error(
        `Cannot run ${COMMAND}: --encoder_dir ${flags.encoder_dir} has no config.json: ` +
          `--compute_b_matrix needs a mini-profile encoder folder (the official TMR text ` +
          `features, DistilBERT, are not available in this version)`,
      );
      return 2;
    }
  }
  const opt = datasetOptions(flags.dataset, flags.data_root);
  const fps = flags.fps ?? opt.fps;
  if (fps !== opt.fps) {
    console.error(
      `Note: --fps ${fps} differs from ${flags.dataset}'s ${opt.fps} frames per second`,
    );
  }
  const outDir = (flags.output_dir ?? `${opt.dataRoot.replace(/\/+$/, "")}/composite`).replace(
    /\/+$/,
    "",
  );
  const outPath = `${outDir}/composite_k${flags.k_segments}_${flags.split}.npy`;
  try {
    const stat = await Deno.stat(opt.dataRoot).catch(() => null);
    if (!stat?.isDirectory) {
      throw new UsageError(
        `--data_root ${opt.dataRoot} is not a dataset folder (new_joint_vecs/, texts/, ` +
          `Mean.npy, ...); for the mini dataset run deno task make-mini and pass ` +
          `--data_root datasets/mini_cache/humanml`,
      );
    }
    const data = await HumanMLDataset.load({
      dataset: flags.dataset,
      dataRoot: opt.dataRoot,
      split: flags.split,
      seed: flags.seed,
    });
    for (const w of data.warnings.slice(0, 10)) console.error(`Warning: ${w}`);
    if (data.skipped > 10) console.error(`Warning: ... ${data.skipped - 10} more clips skipped`);
    if (flags.compute_b_matrix) {
      // WebGPU is imported only when asked for: opening it probes for an adapter.
      const be = flags.device === "cpu"
        ? createCpuBackend()
        : await (await import("../kernels/webgpu_backend.ts")).createWebGpuBackend();
      encoder = segmentEncoderFrom(await loadMiniEncoder(flags.encoder_dir, be), opt.dimPose);
    }
    const result = await constructComposites(data.items, {
      k: flags.k_segments,
      targetLength: flags.target_length,
      tolerance: flags.tolerance,
      fps,
      maxSamples: flags.max_samples,
      seed: flags.seed,
      dimPose: opt.dimPose,
      split: flags.split,
      encoder,
    });
    for (const w of result.warnings) console.error(`Warning: ${w}`);
    await Deno.mkdir(outDir, { recursive: true });
    await writeComposite(outPath, result.samples);
    console.log(
      `Wrote ${result.samples.length} composites of ${flags.k_segments} segments ` +
        `(${data.length} items of ${flags.dataset} ${flags.split}, ${data.skipped} clips skipped) ` +
        `to ${outPath}`,
    );
    return 0;
  } catch (err) {
    if (
      err instanceof UsageError || err instanceof RangeError || err instanceof SyntaxError ||
      err instanceof TypeError || err instanceof Deno.errors.NotFound
    ) {
      console.error(`Cannot run ${COMMAND}: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
