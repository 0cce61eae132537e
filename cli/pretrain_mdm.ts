/**
 * `deno task pretrain-mdm`: pretrains an MDM denoiser (trans_enc, x0 prediction, cosine schedule)
 * on HumanML3D-layout data with the engine, conditioned by a text featurizer (the hashed
 * bag-of-words baseline; see train/pretrain/text_featurizer.ts).
 *
 *   deno task pretrain-mdm --data_dir datasets/mini_cache/humanml --save_dir out/mini_mdm \
 *     --latent_dim 128 --layers 4 --ff_size 256 --heads 4 --batch_size 32 --num_steps 3000
 *
 * Writes MDM-style `model{step:09d}.pt` ({'model', 'model_avg'}) and `args.json` in `--save_dir`;
 * rerunning with the same folder resumes from its newest checkpoint, bit for bit.
 * Any bad flag or stray word prints one line naming it and exits with code 2.
 * @module
 */
import { Command } from "commander";
import { intFlag, parseOrReport, UsageError } from "./_commander.ts";
import type { Backend } from "../kernels/backend.ts";
import { createCpuBackend } from "../kernels/cpu_backend.ts";
import { pretrainMdm } from "../train/pretrain/pretrain_mdm.ts";
import { HashedBagOfWords } from "../train/pretrain/hashed_bag_of_words.ts";

const COMMAND = "deno task pretrain-mdm";

/** Parsed flags (snake_case as on the command line). */
interface Flags {
  data_dir: string;
  save_dir: string;
  dataset: "humanml" | "kit";
  latent_dim: number;
  layers: number;
  ff_size: number;
  heads: number;
  batch_size: number;
  num_steps: number;
  lr: number;
  seed: number;
  device: "cpu" | "webgpu";
  diffusion_steps: number;
  save_interval: number;
  log_interval: number;
  cond_mask_prob: number;
  grad_clip: number;
  ema_decay: number;
  text_dim: number;
}

function numFlag(flag: string, min: number, max: number, openMin = false) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max || (openMin && n <= min)) {
      throw new UsageError(
        `Invalid ${flag} "${value}": use a number in ${openMin ? "(" : "["}${min}, ${max}]`,
      );
    }
    return n;
  };
}

function choiceFlag<T extends string>(flag: string, values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) {
      throw new UsageError(`Invalid ${flag} "${value}": use one of ${values.join(", ")}`);
    }
    return value as T;
  };
}

function program(): Command {
  const big = 1_000_000_000;
  return new Command()
    .name(COMMAND)
    .description("Pretrain an MDM denoiser on HumanML3D-layout data.")
    .requiredOption("--data_dir <dir>", "dataset root (Mean.npy, Std.npy, train.txt, ...)")
    .requiredOption("--save_dir <dir>", "output folder (resumed when it holds checkpoints)")
    .option(
      "--dataset <name>",
      "humanml (263 features) or kit (251)",
      choiceFlag("--dataset", ["humanml", "kit"] as const),
      "humanml",
    )
    .option("--latent_dim <n>", "model width", intFlag("--latent_dim", 2, 8192), 512)
    .option("--layers <n>", "encoder layers", intFlag("--layers", 1, 64), 8)
    .option("--ff_size <n>", "feed-forward width", intFlag("--ff_size", 1, 65536), 1024)
    .option(
      "--heads <n>",
      "attention heads (must divide --latent_dim)",
      intFlag("--heads", 1, 256),
      4,
    )
    .option("--batch_size <n>", "samples per step", intFlag("--batch_size", 1, 4096), 64)
    .option("--num_steps <n>", "total optimiser steps", intFlag("--num_steps", 1, big), 600_000)
    .option("--lr <x>", "AdamW learning rate", numFlag("--lr", 0, 1, true), 1e-4)
    .option(
      "--seed <n>",
      "seed of weights, data order and noise",
      intFlag("--seed", 0, 0xffffffff),
      10,
    )
    .option(
      "--device <kind>",
      "cpu or webgpu",
      choiceFlag("--device", ["cpu", "webgpu"] as const),
      "cpu",
    )
    .option("--diffusion_steps <n>", "diffusion steps T", intFlag("--diffusion_steps", 1, 5000), 50)
    .option(
      "--save_interval <n>",
      "checkpoint every N steps",
      intFlag("--save_interval", 1, big),
      1000,
    )
    .option("--log_interval <n>", "log every N steps", intFlag("--log_interval", 1, big), 50)
    .option(
      "--cond_mask_prob <p>",
      "probability of dropping the text condition",
      numFlag("--cond_mask_prob", 0, 1),
      0.1,
    )
    .option("--grad_clip <x>", "gradient-norm limit, 0 = none", numFlag("--grad_clip", 0, 1e9), 1)
    .option(
      "--ema_decay <x>",
      "EMA decay of the saved model_avg, 0 = no EMA",
      numFlag("--ema_decay", 0, 0.999999999),
      0.999,
    )
    .option(
      "--text_dim <n>",
      "hashed bag-of-words feature size",
      intFlag("--text_dim", 1, 8192),
      512,
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
  const f = cmd.opts<Flags>();
  if (f.latent_dim % f.heads !== 0 || f.latent_dim % 2 !== 0) {
    console.error(
      `Cannot run ${COMMAND}: Invalid --heads "${f.heads}": it must divide --latent_dim ` +
        `${f.latent_dim} (which must be even)`,
    );
    return 2;
  }
  try {
    await Deno.stat(f.data_dir);
  } catch {
    console.error(`Cannot run ${COMMAND}: Invalid --data_dir "${f.data_dir}": folder not found`);
    return 2;
  }
  let be: Backend;
  if (f.device === "webgpu") {
    try {
      const { createWebGpuBackend } = await import("../kernels/webgpu_backend.ts");
      be = await createWebGpuBackend();
    } catch (e) {
      console.error(
        `Cannot run ${COMMAND}: --device webgpu is unavailable: ${(e as Error).message}`,
      );
      return 2;
    }
  } else be = createCpuBackend();
  try {
    const r = await pretrainMdm({
      backend: be,
      dataDir: f.data_dir,
      dataset: f.dataset,
      saveDir: f.save_dir,
      latentDim: f.latent_dim,
      layers: f.layers,
      ffSize: f.ff_size,
      heads: f.heads,
      diffusionSteps: f.diffusion_steps,
      condMaskProb: f.cond_mask_prob,
      batchSize: f.batch_size,
      numSteps: f.num_steps,
      lr: f.lr,
      gradClip: f.grad_clip,
      emaDecay: f.ema_decay > 0 ? f.ema_decay : null,
      seed: f.seed,
      saveInterval: f.save_interval,
      logInterval: f.log_interval,
      featurizer: new HashedBagOfWords(f.text_dim, f.seed),
      log: (line) => console.log(line),
    });
    console.log(
      `Done: ${r.step} steps (${r.losses.length} in this run, ${r.stepsPerSecond.toFixed(3)} ` +
        `steps/s); newest checkpoint ${r.checkpoint}`,
    );
  } catch (e) {
    // Bad data or an incompatible save folder: one line, no stack.
    if (e instanceof TypeError || e instanceof RangeError || e instanceof Deno.errors.NotFound) {
      console.error(`Cannot run ${COMMAND}: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    be.destroy();
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
