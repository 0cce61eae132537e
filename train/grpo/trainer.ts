/**
 * `trainGrpo()`: the GRPO / Flow-GRPO training loop behind `deno task train-grpo`.
 *
 * - Device: `--device cpu` → the CPU backend; a GPU index / `cuda` / `mps` → the WebGPU backend
 *   (the adapter is printed; WebGPU exposes one adapter per process, so every index maps to it);
 *   `auto` → WebGPU when a hardware adapter exists, else CPU.
 * - Models (load_models.ts), text featurizer and reward encoder (reward_models.ts), prompts
 *   (prompts.ts: loader batches, on-the-fly K-segment prompts with `--use_dense_reward`, or the
 *   composite file), the step (grpo_step.ts).
 * - Sampler: `normal_grpo` → MDM's DDPM sampler over all of the model's diffusion steps;
 *   `flow_grpo` → `flowPlan(tables, --train_timesteps, --noise_scale)`. Guidance 2.5 (MDM's
 *   default; `--guidance_param`). Every stochastic transition is trained (DDPM: 49 of 50, the
 *   last step is deterministic; Flow: all `--train_timesteps`) unless `--train_transitions K`
 *   selects a seeded random subset of K per step.
 *   Cost on the CPU backend (mini-size MDM: latent 128, 4 layers, T 196, group 4, batch 1,
 *   50 DDPM steps; a shared 2-core machine): 94-142 s per step training all 49 transitions
 *   (LoRA 124 s), 35 s with 10 (LoRA 29 s). Each trained transition costs a reference forward, a policy
 *   forward and a backward on the doubled batch, about three rollout steps.
 * - Optimiser: AdamW (beta 0.9/0.999, eps 1e-8) at `--learning_rate`, weight decay 0 (the KL term
 *   anchors the policy), gradient-norm clip `--max_grad_norm` (1.0).
 * - Held-out reward (`--eval_interval N`, held_out.ts): at step 0 and every N steps, the reward of
 *   the policy on `--eval_prompts` fixed test-split prompts with fixed noise, logged as
 *   `held_out_reward` (± `held_out_reward_ci`), per prompt in `held_out.jsonl`.
 * - Outputs in `--save_dir`: `metrics.jsonl` (+ TensorBoard events with TensorboardPlatform), a
 *   checkpoint every `--save_interval` steps (default 100; checkpoint.ts) and at the end,
 *   `model_final.pt` (MDM-format plain state dict, LoRA merged, loadable by `torch.load`),
 *   `args.json` beside it (the base model's, so MDM tools load it), `config.json` (resolved
 *   flags and trainer settings).
 * - Steps overlap by one (`startGrpoStep`): step k + 1 is queued once step k's update is, and
 *   step k's metrics are logged while it runs; the last step of a checkpoint or evaluation period
 *   and of the run finishes alone, since those read the weights it leaves.
 * - Resume: a run into a `--save_dir` that holds checkpoints continues from the newest one (the
 *   flags have no `--resume`; rerunning the same command resumes). The result equals the
 *   uninterrupted run bit for bit. Steps logged after that checkpoint by the killed run are logged
 *   again (metrics.jsonl appends; readers keep the last record of a step).
 * @module
 */
import { dirname, join } from "node:path";
import type { Backend } from "../../kernels/backend.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { ddpmPlan, flowPlan, type SamplingPlan } from "../../diffusion/plan.ts";
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import { readComposite } from "../../datasets/composite/layout.ts";
import { specForFeatures } from "../../datasets/motion/skeleton.ts";
import { saveTorchStateDict } from "../../models/checkpoint/torch_pt.ts";
import { readArgsJson } from "../../models/checkpoint/mdm_checkpoint.ts";
import { writeFileAtomic } from "../../models/checkpoint/write_file_atomic.ts";
import type { TextFeaturizer, TextMotionEncoder } from "../../rewards/encoder.ts";
import type { DeviceRequest } from "../../cli/_flags.ts";
import type { TrainGrpoFlags } from "../../cli/train_grpo_flags.ts";
import { AdamW } from "../adamw.ts";
import { createSinks } from "../metrics/platform.ts";
import { fanOut } from "../metrics/fan_out.ts";
import { ProgressDisplay } from "../metrics/progress.ts";
import {
  createClipper,
  DEFAULT_GUIDANCE,
  DEFAULT_MAX_GRAD_NORM,
  defaultTransitionBatch,
  type GrpoStepContext,
  type GrpoStepMetrics,
  type GrpoStepResult,
  startGrpoStep,
} from "./grpo_step.ts";
import { grpoMdmConfig, loadGrpoModels } from "./load_models.ts";
import { type PromptDataset, PromptSampler, type PromptSamplerOptions } from "./prompts.ts";
import { drawHeldOut, heldOutReward, type HeldOutSet } from "./held_out.ts";
import { createRewardFn } from "./rewards.ts";
import {
  DEFAULT_MINI_ASSETS,
  GrpoSetupError,
  resolveRewardEncoder,
  resolveTextFeaturizer,
} from "./reward_models.ts";
import {
  checkpointName,
  GRPO_CHECKPOINT_FORMAT,
  latestCheckpoint,
  loadGrpoCheckpoint,
  saveGrpoCheckpoint,
} from "./checkpoint.ts";

/** A step whose work is queued and whose metrics are still to be logged. */
interface InFlightStep {
  step: number;
  /** The prompt sampler's state after this step's draw (what its checkpoint saves). */
  prompts: ReturnType<PromptSampler["state"]>;
  result: Promise<GrpoStepResult>;
}

/** Default checkpoint period in steps (the flags have no `--save_interval`). */
export const DEFAULT_SAVE_INTERVAL = 100;

/** A dataset split with its statistics (`HumanMLDataset` fits). */
export type GrpoDataset = PromptDataset & { mean: Float32Array; std: Float32Array };

/** Options of {@linkcode trainGrpo} beyond the flags (tests, experiments, benchmarks). */
export interface TrainGrpoOptions {
  /** Use this backend instead of the one `device` names. */
  backend?: Backend;
  /** Use this reward encoder instead of resolving it from the flags. */
  encoder?: TextMotionEncoder;
  /** Use this conditioning featurizer instead of the one args.json names. */
  featurizer?: TextFeaturizer;
  /** Use this training split instead of loading `--data_dir`. */
  dataset?: GrpoDataset;
  /** Use this split for the held-out reward (`--eval_interval`) instead of the test split. */
  heldOutDataset?: PromptDataset;
  /** Mini assets folder (default `assets/mini` of the repository). */
  miniAssets?: string;
  /** Checkpoint period (default 100); a checkpoint is also written after the last step. */
  saveInterval?: number;
  /** Stop after this many completed steps, as if killed (tests of resumption). */
  stopAfter?: number;
  /** Trained transitions per step (default null: all stochastic steps). */
  trainSteps?: number | null;
  /** Guidance scale (default 2.5). */
  guidance?: number;
  /** Gradient-norm clip (default 1.0). */
  maxGradNorm?: number;
  /** Called with every step's metrics. */
  onStep?: (step: number, metrics: GrpoStepMetrics) => void;
  /** Where messages go (default console.error). */
  log?: (line: string) => void;
  /** Show the progress display (default true). */
  progress?: boolean;
}

/** What a run produced. */
export interface TrainGrpoResult {
  /** Completed steps. */
  steps: number;
  /** Step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
  /** `model_final.pt`, or null when stopped early. */
  finalModel: string | null;
  lastMetrics: GrpoStepMetrics | null;
}

/** The input of {@linkcode trainGrpo}: a checked command line (cli/train_grpo.ts). */
export interface TrainGrpoRunConfig {
  flags: TrainGrpoFlags;
  device: DeviceRequest;
}

async function openBackend(device: DeviceRequest, log: (s: string) => void): Promise<Backend> {
  // Imported on demand: loading the WebGPU modules probes for an adapter, which `--device cpu`
  // must not do.
  const { adapterDescription, gpuAvailable } = device.kind === "cpu"
    ? { adapterDescription: null, gpuAvailable: null }
    : await import("../../kernels/webgpu/device.ts");
  // `auto` takes a hardware adapter only: a software rasteriser is slower than the CPU backend.
  const adapter = gpuAvailable === null || !(await gpuAvailable())
    ? null
    : await adapterDescription!();
  if (
    device.kind === "cpu" || (device.kind === "auto" && (!adapter || adapter.isSoftwareAdapter))
  ) {
    const be = createCpuBackend();
    log(`Device: ${be.describe()}`);
    return be;
  }
  if (adapter === null) {
    throw new Error(
      `Cannot use --device ${device.kind === "webgpu" ? device.index : "auto"}: no WebGPU ` +
        `adapter is available (use --device cpu)`,
    );
  }
  const { createWebGpuBackend } = await import("../../kernels/webgpu_backend.ts");
  const be = await createWebGpuBackend();
  const name = adapter.description || `${adapter.vendor} ${adapter.device}`.trim();
  log(
    `Device: webgpu adapter "${name}"${adapter.isSoftwareAdapter ? " (software)" : ""}` +
      (device.kind === "webgpu" && device.index > 0
        ? ` (--device ${device.index}: WebGPU exposes one adapter per process)`
        : ""),
  );
  return be;
}

/** Runs GRPO training as the flags say; see the module doc. */
export async function trainGrpo(
  run: TrainGrpoRunConfig,
  options: TrainGrpoOptions = {},
): Promise<TrainGrpoResult> {
  const f = run.flags, log = options.log ?? ((s: string) => console.error(s));
  const saveDir = f.save_dir!;
  const saveInterval = options.saveInterval ?? f.save_interval ?? DEFAULT_SAVE_INTERVAL;
  if (!Number.isInteger(saveInterval) || saveInterval < 1) {
    throw new RangeError(`Cannot train: save interval ${saveInterval} must be a positive integer`);
  }
  // Fail on a bad model folder before a device is opened.
  const early = await readArgsJson(f.model_path!);
  grpoMdmConfig(early.raw, f.model_path!);
  const ownBackend = options.backend === undefined;
  const be = options.backend ?? await openBackend(run.device, log);
  const N = f.batch_size * f.group_size;
  const models = await loadGrpoModels(
    be,
    {
      model_path: f.model_path!,
      ref_model_path: f.ref_model_path,
      use_lora: f.use_lora,
      lora_r: f.lora_r,
      lora_alpha: f.lora_alpha,
      seed: f.seed,
    },
    2 * N,
    f.max_motion_length,
  );
  const { policy, reference } = models;
  const miniAssets = options.miniAssets ?? DEFAULT_MINI_ASSETS;
  const featurizer = options.featurizer ??
    await resolveTextFeaturizer(be, models.args, models.argsFile, miniAssets);
  if (featurizer.dim !== policy.textDim) {
    throw new TypeError(
      `Cannot fine-tune "${f.model_path}": the text featurizer gives ${featurizer.dim} features, ` +
        `the model takes ${policy.textDim}`,
    );
  }
  const encoder = options.encoder ??
    await resolveRewardEncoder(be, f, models.args, miniAssets);
  const dataset = options.dataset ?? await HumanMLDataset.load({
    dataset: f.dataset,
    dataRoot: f.data_dir ?? undefined,
    split: "train",
    seed: f.seed,
    disableRandomCrop: f.disable_random_crop,
  });
  const composite = f.use_composite_dataset ? await readComposite(f.composite_data_path!) : [];
  const samplerOptions: PromptSamplerOptions = {
    source: f.use_composite_dataset ? "composite" : f.use_dense_reward ? "dense" : "dataset",
    seed: f.seed,
    kSegments: f.k_segments,
    maxMotionLength: f.max_motion_length,
    dataset,
    composite,
    distractors: f.reward_model_type === "mdm" && f.reward_type !== "matching" ? 31 : 0,
  };
  const sampler = new PromptSampler(samplerOptions);
  let heldOut: HeldOutSet | null = null;
  if (f.eval_interval > 0) {
    const testSplit = options.heldOutDataset ?? await HumanMLDataset.load({
      dataset: f.dataset,
      dataRoot: f.data_dir ?? undefined,
      split: "test",
      seed: f.seed,
      disableRandomCrop: true,
    });
    heldOut = drawHeldOut({ ...samplerOptions, dataset: testSplit }, f.eval_prompts, N);
  }
  const tables = cosineTables(models.diffusionSteps);
  const plan: SamplingPlan = f.grpo_type === "flow_grpo"
    ? flowPlan(tables, f.train_timesteps, f.noise_scale)
    : ddpmPlan(tables);
  const spec = f.use_physics_reward ? specForFeatures(policy.nfeats) : null;
  const reward = createRewardFn(
    be,
    encoder,
    {
      rewardModelType: f.reward_model_type,
      rewardType: f.reward_type,
      matching: {
        similarity: f.tmr_similarity_type,
        normalization: f.tmr_normalization,
        maxDistance: f.tmr_max_distance,
        scale: f.tmr_scale,
      },
      dense: f.use_dense_reward,
      alpha: f.alpha,
      physics: f.use_physics_reward,
      betaS: f.beta_s,
      betaP: f.beta_p,
      lambdaSkate: f.lambda_skate,
      lambdaJerk: f.lambda_jerk,
      fps: f.fps,
    },
    dataset.mean,
    dataset.std,
    spec,
  );
  const optimizer = new AdamW(be, policy.trainable(), { lr: f.learning_rate, weightDecay: 0 });
  const guidance = options.guidance ?? f.guidance_param ?? DEFAULT_GUIDANCE;
  const samplesPerTransition = f.batch_size * f.group_size * (guidance !== 1 ? 2 : 1);
  const ctx: GrpoStepContext = {
    be,
    policy,
    reference,
    optimizer,
    clipper: createClipper(be, policy),
    featurizer,
    reward,
    plan,
    options: {
      groupSize: f.group_size,
      guidance,
      seed: f.seed,
      clipEpsilon: f.clip_epsilon,
      klBeta: f.kl_penalty,
      learningRate: f.learning_rate,
      maxGradNorm: options.maxGradNorm ?? f.max_grad_norm ?? DEFAULT_MAX_GRAD_NORM,
      trainSteps: options.trainSteps ?? (f.train_transitions ? f.train_transitions : null),
      transitionBatch: f.transition_batch || defaultTransitionBatch(be, samplesPerTransition),
      // Masked models ignore padding, so the longest prompt suffices; others see 196 frames.
      frames: policy.config.maskFrames ? "max" : f.max_motion_length,
    },
  };
  const config: Record<string, unknown> = {
    flags: f,
    trainer: {
      guidance: ctx.options.guidance,
      max_grad_norm: ctx.options.maxGradNorm,
      train_steps: ctx.options.trainSteps,
      transition_batch: ctx.options.transitionBatch,
      frames: ctx.options.frames,
      save_interval: saveInterval,
      weight_decay: 0,
      adam_betas: [optimizer.beta1, optimizer.beta2],
      adam_eps: optimizer.eps,
      sampler: plan.kind,
      sampler_steps: plan.steps.length,
      diffusion_steps: models.diffusionSteps,
      text_featurizer: featurizer.name,
      reward_encoder: encoder.name,
      backend: be.describe(),
    },
  };

  await Deno.mkdir(saveDir, { recursive: true });
  let start = 0;
  const resumeDir = await latestCheckpoint(saveDir);
  if (resumeDir !== null) {
    const state = await loadGrpoCheckpoint(resumeDir, policy, optimizer);
    checkResumable(state.config, f, resumeDir);
    sampler.restore(state.prompts);
    start = state.step;
    log(`Resuming from ${resumeDir} (step ${start})`);
  }

  const sink = fanOut(createSinks(f.train_platform_type, saveDir));
  const progress = options.progress === false
    ? null
    : new ProgressDisplay({ total: f.num_steps, startStep: start });
  const stopAt = Math.min(f.num_steps, options.stopAfter ?? Infinity);
  let last: GrpoStepMetrics | null = null;
  let step = start;
  const evaluate = async (atStep: number): Promise<GrpoStepMetrics> => {
    const h = await heldOutReward({
      be,
      policy,
      featurizer,
      reward,
      plan,
      guidance: ctx.options.guidance,
      seed: f.seed,
      frames: ctx.options.frames,
    }, heldOut!);
    // Per-prompt rewards, for paired comparisons between evaluations and runs.
    const line = JSON.stringify({ step: atStep, per_prompt: Array.from(h.perPrompt) }) + "\n";
    await Deno.writeTextFile(join(saveDir, "held_out.jsonl"), line, { append: true });
    return { held_out_reward: h.mean, held_out_reward_ci: h.interval };
  };
  // The last steps of a run, of a checkpoint period and of an evaluation period are finished
  // (metrics logged, weights read) before the next one starts; between them, step k + 1 is
  // queued as soon as step k's work is, and step k's metrics (its read-back) arrive while the GPU
  // runs step k + 1. The same work in the same order: the results do not change.
  const savesAt = (atStep: number) => atStep % saveInterval === 0 || atStep === f.num_steps;
  const evaluatesAt = (atStep: number) => heldOut !== null && atStep % f.eval_interval === 0;
  const finishesAlone = (atStep: number) =>
    savesAt(atStep) || evaluatesAt(atStep) || atStep === stopAt;
  const finish = async (done: InFlightStep) => {
    const { metrics } = await done.result;
    const atStep = done.step + 1;
    if (evaluatesAt(atStep)) Object.assign(metrics, await evaluate(atStep));
    last = metrics;
    await sink.log(atStep, metrics);
    options.onStep?.(atStep, metrics);
    progress?.update(atStep, metrics.mean_reward);
    if (savesAt(atStep)) {
      await saveGrpoCheckpoint(saveDir, policy, optimizer, {
        format: GRPO_CHECKPOINT_FORMAT,
        step: atStep,
        prompts: done.prompts,
        config,
      });
      progress?.message(`Saved ${join(saveDir, checkpointName(atStep))}`);
    }
  };
  try {
    if (heldOut !== null && start === 0) await sink.log(0, await evaluate(0));
    let batch = step < stopAt ? sampler.next(f.batch_size, f.group_size) : null;
    let inFlight: InFlightStep | null = null;
    for (; step < stopAt; step++) {
      // The prompts are drawn one step ahead, so that the next step's text features and reward
      // text embeddings are computed on the host while this step's GPU work runs; a checkpoint
      // keeps the position after this step's draw.
      const prompts = sampler.state();
      const next = step + 1 < stopAt ? sampler.next(f.batch_size, f.group_size) : null;
      const prefetch = next === null ? undefined : () => {
        featurizer.prefetch?.(next.texts);
        reward.prefetch?.(next);
      };
      const started = await startGrpoStep(ctx, batch!, step, prefetch);
      if (inFlight !== null) await finish(inFlight);
      inFlight = { step, prompts, result: started.result };
      if (finishesAlone(step + 1)) {
        await finish(inFlight);
        inFlight = null;
      }
      batch = next;
    }
    progress?.finish();
    let finalModel: string | null = null;
    if (step >= f.num_steps) {
      finalModel = join(saveDir, "model_final.pt");
      await saveTorchStateDict(finalModel, await policy.toStateDict(true));
      const enc = new TextEncoder();
      await writeFileAtomic(
        join(dirname(finalModel), "args.json"),
        enc.encode(JSON.stringify(models.args, null, 2) + "\n"),
      );
      await writeFileAtomic(
        join(saveDir, "config.json"),
        enc.encode(JSON.stringify(config, null, 2) + "\n"),
      );
      log(`Saved ${finalModel}`);
    }
    return { steps: step, resumedFrom: start, finalModel, lastMetrics: last };
  } finally {
    await sink.close();
    if (options.encoder === undefined) await encoder.release?.();
    if (options.featurizer === undefined) await featurizer.release?.();
    optimizer.free();
    ctx.clipper.free();
    policy.destroy();
    reference?.destroy();
    if (ownBackend) be.destroy();
  }
}

/** Flags a resumed run may change: they do not alter the training trajectory. */
const RESUMABLE_CHANGES = new Set([
  "num_steps",
  "device",
  "train_platform_type",
  "save_dir",
  "save_interval",
  "eval_interval",
  "eval_prompts",
]);

/**
 * Why the newest checkpoint in `saveDir` cannot be resumed with `flags` (a trajectory-defining
 * flag differs), or null when there is none or it can. Lets a caller that owns the folder (the
 * experiment runner) start over instead of stopping.
 */
export async function resumeProblem(
  saveDir: string,
  flags: TrainGrpoFlags,
): Promise<string | null> {
  const dir = await latestCheckpoint(saveDir);
  if (dir === null) return null;
  const state = JSON.parse(await Deno.readTextFile(join(dir, "state.json")));
  try {
    checkResumable(state.config ?? {}, flags, dir);
    return null;
  } catch (e) {
    if (e instanceof GrpoSetupError) return e.message;
    throw e;
  }
}

/** Throws unless the checkpoint's run used the same trajectory-defining flags. */
function checkResumable(saved: Record<string, unknown>, flags: TrainGrpoFlags, dir: string): void {
  const old = (saved.flags ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(flags)) {
    if (RESUMABLE_CHANGES.has(name) || !(name in old)) continue;
    if (JSON.stringify(old[name]) !== JSON.stringify(value)) {
      throw new GrpoSetupError(
        `Cannot resume from "${dir}": --${name} was ${JSON.stringify(old[name])}, now ` +
          `${JSON.stringify(value)} (use another --save_dir for a different run)`,
      );
    }
  }
}
