/**
 * The MDM pretraining loop on the engine: HumanML3D-layout data (the real dataset or the mini
 * one), a text featurizer, the step of pretrain_step.ts, logging, MDM-style checkpoints and
 * bit-identical resumption.
 *
 * Save folder: `args.json` (MDM format, args_json.ts), `model{step:09d}.pt`, `opt{step:09d}.pt`,
 * `train_state{step:09d}.json` (train_checkpoint.ts), `log.csv` (step, mean loss and gradient
 * norm over the log interval, steps/s). An existing folder with checkpoints is resumed from its
 * newest one; its args.json must describe the same network.
 * @module
 */
import { join } from "node:path";
import type { Backend } from "../../kernels/backend.ts";
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import type { DatasetName } from "../../datasets/humanml/options.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";
import type { MdmConfig } from "../../models/mdm/config.ts";
import { NFEATS_BY_DATASET } from "../../models/mdm/config.ts";
import { writeFileAtomic } from "../../models/checkpoint/write_file_atomic.ts";
import type { StateDict } from "../../models/checkpoint/state_dict.ts";
import { pretrainArgsJson } from "./args_json.ts";
import { HashedBagOfWords } from "./hashed_bag_of_words.ts";
import type { LossReduction } from "./loss.ts";
import { PretrainStepper } from "./pretrain_step.ts";
import type { TextFeaturizer } from "./text_featurizer.ts";
import {
  latestCheckpointStep,
  loadTrainCheckpoint,
  modelPath,
  saveTrainCheckpoint,
} from "./train_checkpoint.ts";

/** Options of {@linkcode pretrainMdm}; omitted ones take the defaults noted. */
export interface PretrainMdmOptions {
  backend: Backend;
  /** Dataset root in the HumanML3D layout (Mean.npy, Std.npy, train.txt, new_joint_vecs, texts). */
  dataDir: string;
  /** Default "humanml". */
  dataset?: DatasetName;
  /** Default "train". */
  split?: string;
  saveDir: string;
  /** Network shape; defaults 512, 8, 1024, 4 (MDM). */
  latentDim?: number;
  layers?: number;
  ffSize?: number;
  heads?: number;
  /** Default 50 (the released fast model). */
  diffusionSteps?: number;
  /** Default true (the released 50-step model). */
  maskFrames?: boolean;
  /** Default 0.1. */
  condMaskProb?: number;
  /** Default 64 (MDM). */
  batchSize?: number;
  numSteps: number;
  /** Default 1e-4 (MDM). */
  lr?: number;
  /** Default 0 (MDM). */
  weightDecay?: number;
  /** Global gradient-norm limit, default 1.0 (0 disables, as MDM). */
  gradClip?: number;
  /** EMA decay, default 0.999 (MDM's 0.9999 needs ~10^5 steps); null disables. */
  emaDecay?: number | null;
  /** Seed of the weights, data order and every draw (u32, default 10 as MDM). */
  seed?: number;
  /** Checkpoint every N steps (default 1000) and at the end. */
  saveInterval?: number;
  /** Log every N steps (default 50). */
  logInterval?: number;
  /** Default `HashedBagOfWords(512, seed)`. */
  featurizer?: TextFeaturizer;
  /** Default "mdm" (per-sample mean, then batch mean). */
  lossReduction?: LossReduction;
  /**
   * Stop after this step even if `numSteps` is larger (a checkpoint is written there); for
   * interrupting a run deliberately. Default `numSteps`.
   */
  stopAtStep?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What {@linkcode pretrainMdm} returns. */
export interface PretrainResult {
  /** Completed steps. */
  step: number;
  /** Step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
  /** Loss of every step run in this call. */
  losses: number[];
  /** Newest checkpoint file. */
  checkpoint: string;
  config: MdmConfig;
  /** Steps per second over this call (excluding loading and saving). */
  stepsPerSecond: number;
}

/** Trains (or resumes training) an MDM denoiser; see the module doc. */
export async function pretrainMdm(options: PretrainMdmOptions): Promise<PretrainResult> {
  const o = withDefaults(options);
  const be = o.backend;
  const log = options.log ?? (() => {});
  const nfeats = NFEATS_BY_DATASET[o.dataset];
  const config: MdmConfig = {
    nfeats,
    latentDim: o.latentDim,
    layers: o.layers,
    ffSize: o.ffSize,
    heads: o.heads,
    textDim: o.featurizer.dim,
    maskFrames: o.maskFrames,
  };
  const ds = await HumanMLDataset.load({
    dataset: o.dataset,
    dataRoot: o.dataDir,
    split: o.split,
    seed: o.seed,
  });
  if (ds.length < o.batchSize) {
    throw new RangeError(
      `Cannot pretrain on "${o.dataDir}": split ${o.split} has ${ds.length} items, ` +
        `fewer than --batch_size ${o.batchSize}`,
    );
  }
  await Deno.mkdir(o.saveDir, { recursive: true });
  const args = pretrainArgsJson({
    ...o,
    backend: be.describe(),
    featurizer: describeFeaturizer(o.featurizer),
  });
  await checkOrWriteArgs(join(o.saveDir, "args.json"), args);

  const maxFrames = 196;
  const mdmOpts = { maxBatch: o.batchSize, maxFrames, training: "full" as const };
  const resumeStep = await latestCheckpointStep(o.saveDir);
  let model: MdmDenoiser;
  let ckpt = null;
  if (resumeStep !== null) {
    ckpt = await loadTrainCheckpoint(o.saveDir, resumeStep);
    model = MdmDenoiser.fromStateDict(
      be,
      ckpt.model,
      config,
      mdmOpts,
      modelPath(o.saveDir, resumeStep),
    );
  } else {
    model = MdmDenoiser.random(be, config, o.seed, mdmOpts);
  }
  const stepper = new PretrainStepper(model, cosineTables(o.diffusionSteps), o.featurizer, {
    condMaskProb: o.condMaskProb,
    lr: o.lr,
    weightDecay: o.weightDecay,
    gradClip: o.gradClip,
    emaDecay: o.emaDecay,
    seed: o.seed,
    lossReduction: o.lossReduction,
    maxBatch: o.batchSize,
    maxFrames,
  });
  if (ckpt) {
    stepper.opt.loadState(
      ckpt.opt,
      join(o.saveDir, `opt${String(resumeStep).padStart(9, "0")}.pt`),
    );
    if (stepper.ema) {
      stepper.ema.load(ckpt.modelAvg ?? ckpt.model, modelPath(o.saveDir, resumeStep!));
    }
    stepper.restoreRng(ckpt.state.rng);
    ds.restore(ckpt.state.loader);
    log(`Resuming from step ${resumeStep} in ${o.saveDir}`);
  } else {
    log(
      `Pretraining MDM (latent ${o.latentDim}, ${o.layers} layers, ff ${o.ffSize}, ` +
        `${o.heads} heads, ${model.trainable().reduce((a, p) => a + p.param.size, 0)} ` +
        `parameters) on ${ds.length} items of ${o.dataDir} with ${be.describe()}`,
    );
  }

  const start = resumeStep ?? 0;
  const stop = Math.min(o.numSteps, o.stopAtStep ?? o.numSteps);
  const losses: number[] = [];
  let checkpoint = resumeStep !== null ? modelPath(o.saveDir, resumeStep) : "";
  let winLoss = 0, winNorm = 0, winN = 0, winStart = performance.now(), busy = 0;
  const logFile = join(o.saveDir, "log.csv");
  if (start === 0) await Deno.writeTextFile(logFile, "step,loss,grad_norm,steps_per_s\n");
  try {
    for (let s = start; s < stop; s++) {
      const t0 = performance.now();
      const r = await stepper.step(ds.nextBatch(o.batchSize));
      busy += performance.now() - t0;
      losses.push(r.loss);
      winLoss += r.loss;
      winNorm += r.gradNorm;
      winN++;
      const done = s + 1;
      if (done % o.logInterval === 0 || done === stop) {
        const sps = winN / ((performance.now() - winStart) / 1000);
        const line = `${done},${(winLoss / winN).toPrecision(6)},${
          (winNorm / winN).toPrecision(4)
        },${sps.toFixed(3)}`;
        await Deno.writeTextFile(logFile, line + "\n", { append: true });
        log(
          `step ${done}/${o.numSteps} loss ${(winLoss / winN).toFixed(5)} ` +
            `grad_norm ${(winNorm / winN).toFixed(3)} ${sps.toFixed(2)} steps/s`,
        );
        winLoss = winNorm = winN = 0;
        winStart = performance.now();
      }
      if (done % o.saveInterval === 0 || done === stop) {
        const sd = await model.toStateDict();
        await saveTrainCheckpoint(o.saveDir, {
          model: sd,
          modelAvg: stepper.ema ? withBuffers(await stepper.ema.stateDict(), sd) : null,
          opt: await stepper.opt.state(),
          state: { step: done, loader: ds.state(), rng: stepper.rngState() },
        });
        checkpoint = modelPath(o.saveDir, done);
        log(`Saved ${checkpoint}`);
      }
    }
  } finally {
    stepper.free();
    model.destroy();
  }
  return {
    step: Math.max(start, stop),
    resumedFrom: start,
    losses,
    checkpoint,
    config,
    stepsPerSecond: losses.length / Math.max(busy / 1000, 1e-9),
  };
}

// ---- private --------------------------------------------------------------------------------

type Resolved = Required<Omit<PretrainMdmOptions, "stopAtStep" | "log" | "emaDecay">> & {
  emaDecay: number | null;
  stopAtStep?: number;
};

function withDefaults(o: PretrainMdmOptions): Resolved {
  const seed = o.seed ?? 10;
  const r: Resolved = {
    backend: o.backend,
    dataDir: o.dataDir,
    dataset: o.dataset ?? "humanml",
    split: o.split ?? "train",
    saveDir: o.saveDir,
    latentDim: o.latentDim ?? 512,
    layers: o.layers ?? 8,
    ffSize: o.ffSize ?? 1024,
    heads: o.heads ?? 4,
    diffusionSteps: o.diffusionSteps ?? 50,
    maskFrames: o.maskFrames ?? true,
    condMaskProb: o.condMaskProb ?? 0.1,
    batchSize: o.batchSize ?? 64,
    numSteps: o.numSteps,
    lr: o.lr ?? 1e-4,
    weightDecay: o.weightDecay ?? 0,
    gradClip: o.gradClip ?? 1.0,
    emaDecay: o.emaDecay === undefined ? 0.999 : o.emaDecay,
    seed,
    saveInterval: o.saveInterval ?? 1000,
    logInterval: o.logInterval ?? 50,
    featurizer: o.featurizer ?? new HashedBagOfWords(512, seed),
    lossReduction: o.lossReduction ?? "mdm",
    stopAtStep: o.stopAtStep,
  };
  const posInt = (k: keyof Resolved) => {
    const v = r[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      throw new RangeError(`Cannot pretrain MDM: ${k} must be a positive integer, got ${v}`);
    }
  };
  for (const k of ["latentDim", "layers", "ffSize", "heads", "diffusionSteps"] as const) posInt(k);
  for (const k of ["batchSize", "numSteps", "saveInterval", "logInterval"] as const) posInt(k);
  if (!(r.lr > 0)) throw new RangeError(`Cannot pretrain MDM: lr must be positive, got ${r.lr}`);
  if (!(r.condMaskProb >= 0 && r.condMaskProb <= 1)) {
    throw new RangeError(`Cannot pretrain MDM: condMaskProb ${r.condMaskProb} is not in [0, 1]`);
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`Cannot pretrain MDM: seed ${seed} is not a u32 integer`);
  }
  if (!(r.dataset in NFEATS_BY_DATASET)) {
    throw new RangeError(`Cannot pretrain MDM: dataset "${r.dataset}" is not humanml or kit`);
  }
  return r;
}

function describeFeaturizer(f: TextFeaturizer): Record<string, unknown> & {
  name: string;
  dim: number;
} {
  return { name: f.name, dim: f.dim, ...f.params };
}

/** The EMA parameters plus the model's other entries (the `pe` buffers), in MDM's order. */
function withBuffers(avg: StateDict, full: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [k, t] of full) out.set(k, avg.get(k) ?? t);
  return out;
}

/** Writes args.json, or checks that an existing one describes the same network and data. */
async function checkOrWriteArgs(path: string, args: Record<string, unknown>): Promise<void> {
  let old: Record<string, unknown> | null = null;
  try {
    old = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new TypeError(`Cannot resume in "${path}": ${(e as Error).message}`);
    }
  }
  if (old) {
    const keys = [
      "dataset",
      "latent_dim",
      "layers",
      "ff_size",
      "heads",
      "diffusion_steps",
      "mask_frames",
      "cond_mask_prob",
      "batch_size",
      "lr",
      "seed",
      "use_ema",
      "avg_model_beta",
      "weight_decay",
    ];
    for (const k of keys) {
      if (JSON.stringify(old[k]) !== JSON.stringify(args[k])) {
        throw new TypeError(
          `Cannot resume in "${path}": ${k} is ${JSON.stringify(old[k])} there, ` +
            `${JSON.stringify(args[k])} now (use another --save_dir)`,
        );
      }
    }
    if (JSON.stringify(old.text_featurizer) !== JSON.stringify(args.text_featurizer)) {
      throw new TypeError(`Cannot resume in "${path}": the text featurizer differs`);
    }
  }
  // Rewritten on resume too: num_steps may have grown.
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(args, null, 4) + "\n"));
}
