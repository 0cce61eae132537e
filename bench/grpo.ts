/**
 * One GRPO step through the trainer's own `grpoStep` (train/grpo/grpo_step.ts) against PyTorch
 * doing the same step (bench/_torch_grpo.py), with peak memory on both sides.
 *
 * The step: guided DDPM rollout (guidance 2.5) of N = B*G samples recording every transition, a
 * fixed cheap reward (minus the mean squared root velocity, features 1 and 2, over valid frames of
 * the final motion, on the host), group advantages, for each trained transition a reference x0
 * (frozen copy) and the policy x0 on the doubled CFG batch, clipped surrogate (eps 0.2) + KL
 * (beta 0.01), backward, gradient clip 1.0, AdamW (lr 1e-5, weight decay 0); full fine-tuning,
 * random weights. One warm-up step, then the minimum over `--reps` timed steps; the mini config
 * runs two rounds of (ours, PyTorch) and takes each side's minimum over both.
 *
 * Configs:
 * - mini: the shipped mini MDM's shape (assets/mini/mdm/args.json: latent 64, 2 layers, ff 256,
 *   4 heads, text dim 64, frame mask, 10 diffusion steps), B 1, G 4, T 60; CPU backend;
 * - mini at exp5's shape: the same model, B 1, G 8, T 195 (`deno task exp5`'s steps); CPU backend,
 *   one round;
 * - official: latent 512, 8 layers, ff 1024, 4 heads, 263 features, 196 frames, frame mask,
 *   50 steps, B 1, G 4 (CFG batch 8); WebGPU on a hardware adapter only (or the CPU backend with
 *   `--official-on-cpu`, to check the path), with a 4 GiB GPU-memory target.
 *
 * Memory: ours is the engine's accounting (`Backend.memory().peakBytes`: tensors on the CPU, every
 * GPU buffer on WebGPU) and, on the CPU, the process's peak resident set (VmHWM of
 * /proc/self/status, reset at the start of the config through /proc/self/clear_refs when the
 * kernel allows it); torch's is `torch.cuda.max_memory_allocated()` on CUDA, the VmHWM of its
 * process on the CPU (not `ru_maxrss`, which a child inherits from this process at the fork).
 *
 * Usage: `deno run -A bench/grpo.ts [--small-only] [--webgpu-only] [--official-on-cpu]
 * [--trained K] [--steps S] [--reps R] [--transition-batch P]` (`--webgpu-only`: skip the mini CPU step; `--trained`: trained transitions of the official config, default
 * all; `--steps`: diffusion steps of the official config, default 50; `--reps`: timed steps,
 * default 3 for mini, 1 for official; `--transition-batch`: trained transitions per
 * forward/backward of the official config, on both sides, default the trainer's for the backend:
 * 4 on WebGPU). Torch on the CPU runs our thread count (`torchThreads`); against WebGPU it runs on
 * MOTION_GRPO_TORCH_DEVICE (bench/torch.ts).
 * @module
 */
import type { Backend, Tensor } from "../kernels/backend.ts";
import { createCpuBackend } from "../kernels/cpu_backend.ts";
import { adapterDescription } from "../kernels/webgpu/device.ts";
import { gpuIgnore } from "../kernels/webgpu/probe.ts";
import { createWebGpuBackend } from "../kernels/webgpu_backend.ts";
import { Rng } from "../kernels/rng/philox.ts";
import { cosineTables } from "../diffusion/schedule.ts";
import { ddpmPlan } from "../diffusion/plan.ts";
import { MDM_DEFAULTS, type MdmConfig } from "../models/mdm/config.ts";
import { MdmDenoiser } from "../models/mdm/mdm.ts";
import { AdamW } from "../train/adamw.ts";
import {
  createClipper,
  defaultTransitionBatch,
  grpoStep,
  type GrpoStepContext,
  type StartedGrpoStep,
  startGrpoStep,
} from "../train/grpo/grpo_step.ts";
import type { PromptBatch } from "../train/grpo/prompts.ts";
import type { RewardFn } from "../train/grpo/rewards.ts";
import type { TextFeaturizer } from "../rewards/encoder.ts";
import { PYTHON, runTorch, torchDeviceFor, torchThreads } from "./torch.ts";

/** One benchmarked GRPO setting. */
export interface GrpoBenchCase {
  name: "mini" | "mini, exp5's shape" | "official";
  config: MdmConfig;
  /** Prompts per step. */
  B: number;
  /** Group size: N = B*G samples, CFG batch 2N. */
  G: number;
  T: number;
  /** Diffusion steps of the DDPM plan. */
  steps: number;
  /** Trained transitions per step; null = every stochastic step (the trainer's default). */
  trained: number | null;
  /** Timed steps after the warm-up (minimum taken). */
  reps: number;
  /**
   * Rounds of (ours, PyTorch) run one after the other, the minimum of each side over all of them
   * taken: on a shared machine a slow moment then hits both sides rather than one.
   */
  rounds?: number;
  /** Trained transitions per denoiser call; null = the trainer's default for the backend. */
  transitionBatch?: number | null;
}

/** Hyper-parameters shared by both sides. */
export const GRPO_BENCH_HPARAMS = {
  guidance: 2.5,
  clipEpsilon: 0.2,
  klBeta: 0.01,
  learningRate: 1e-5,
  maxGradNorm: 1.0,
} as const;

/** The 4 GiB GPU-memory target of the official config. */
export const GPU_MEMORY_TARGET_BYTES = 4 * 1024 ** 3;

const MINI: MdmConfig = {
  nfeats: 263,
  latentDim: 64,
  layers: 2,
  ffSize: 256,
  heads: 4,
  textDim: 64,
  maskFrames: true,
};
/** MDM's official HumanML3D model (its defaults), trained with the frame mask. */
const OFFICIAL: MdmConfig = { ...MDM_DEFAULTS, maskFrames: true };

/** The mini config (CPU). */
export function miniCase(reps = 3): GrpoBenchCase {
  return {
    name: "mini",
    config: MINI,
    B: 1,
    G: 4,
    T: 60,
    steps: 10,
    trained: null,
    reps,
    rounds: 2,
  };
}

/**
 * The mini config at the shape of `deno task exp5`'s steps (CPU): group 8 and the rollout's 195
 * frames (its prompts' longest), where the attention's T^2 work weighs more than at T 60.
 */
export function exp5Case(reps = 2): GrpoBenchCase {
  return { ...miniCase(reps), name: "mini, exp5's shape", G: 8, T: 195, rounds: 1 };
}

/** The official config (GPU); `trained` null = all stochastic steps. */
export function officialCase(
  trained: number | null = null,
  reps = 1,
  steps = 50,
): GrpoBenchCase {
  return { name: "official", config: OFFICIAL, B: 1, G: 4, T: 196, steps, trained, reps };
}

/** Result of one config on one backend. */
export interface GrpoBenchRow {
  name: string;
  backend: string;
  oursMs: number;
  /** Per step over `RUN_STEPS` consecutive steps, overlapped as `train-grpo` runs them (GPU). */
  oursRunMs: number | null;
  trained: number;
  /** Engine accounting: peak bytes of tensors / GPU buffers over the config's run. */
  enginePeakBytes: number;
  /** Process peak resident set over the config's run (CPU backend; null when unreadable). */
  processPeakBytes: number | null;
  torch: TorchGrpo | null;
}

/** What bench/_torch_grpo.py reports. */
export interface TorchGrpo {
  torch: string;
  ms: number;
  /** Per step over `run_steps` consecutive steps (null when not asked). */
  run_ms: number | null;
  trained: number;
  peak_bytes: number;
  peak_kind: string;
}

/** Deterministic text features: the same per text, so a group shares its conditioning. */
function benchFeaturizer(dim: number): TextFeaturizer {
  return {
    name: "bench-random",
    dim,
    encode(texts) {
      const out = new Float32Array(texts.length * dim);
      texts.forEach((t, i) => {
        let h = 0;
        for (const ch of t) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
        const rng = new Rng(h, 0x42454e43); // "BENC"
        for (let k = 0; k < dim; k++) out[i * dim + k] = rng.normal();
      });
      return Promise.resolve(out);
    },
  };
}

/** Reward = minus the mean over valid frames of the squared root velocity (features 1, 2). */
const rootVelocityReward: RewardFn = async (x0: Tensor, batch: PromptBatch, T: number) => {
  const host = await readAny(x0); // (N, T, F)
  const N = batch.lengths.length, F = host.length / (N * T);
  const r = new Float32Array(N);
  for (let b = 0; b < N; b++) {
    const len = Math.min(batch.lengths[b], T);
    let s = 0;
    for (let t = 0; t < len; t++) {
      const o = (b * T + t) * F;
      s += host[o + 1] * host[o + 1] + host[o + 2] * host[o + 2];
    }
    r[b] = -s / len;
  }
  return {
    sem: r,
    phy: null,
    total: { total: r, flags: new Uint8Array(N), nonFiniteSem: 0, nonFinitePhy: 0 },
  };
};

/** The backend whose tensor the reward reads (set per run: RewardFn gets no backend). */
let rewardBackend: Backend | null = null;
function readAny(t: Tensor): Promise<Float32Array> {
  if (rewardBackend === null) throw new Error("bench/grpo.ts: reward backend not set");
  return rewardBackend.read(t);
}

/** B prompts repeated G times, every sample T frames. */
function promptBatch(B: number, G: number, T: number): PromptBatch {
  const prompts = Array.from({ length: B }, (_, b) => ({
    text: `a person walks forward and turns ${b}`,
    length: T,
    segmentTexts: [`a person walks forward and turns ${b}`],
    durations: [T],
    distractors: [],
  }));
  return {
    prompts,
    groupSize: G,
    texts: prompts.flatMap((p) => Array(G).fill(p.text)),
    lengths: new Int32Array(B * G).fill(T),
  };
}

/** Peak resident set of this process (VmHWM), bytes; null when /proc is unreadable. */
export function processPeakBytes(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Restarts VmHWM at the current resident set (Linux clear_refs 5); false when not allowed. */
function resetProcessPeak(): boolean {
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

/** A GRPO step context of case `k` on `be` (random weights), its prompt batch, and its teardown. */
export function grpoBenchContext(
  be: Backend,
  k: GrpoBenchCase,
): { ctx: GrpoStepContext; batch: PromptBatch; destroy: () => void } {
  const N = k.B * k.G, h = GRPO_BENCH_HPARAMS;
  const plan = { maxBatch: 2 * N, maxFrames: k.T };
  const policy = MdmDenoiser.random(be, k.config, 1, { ...plan, training: "full" });
  const reference = MdmDenoiser.random(be, k.config, 1, { ...plan, training: "none" });
  const ctx: GrpoStepContext = {
    be,
    policy,
    reference,
    optimizer: new AdamW(be, policy.trainable(), { lr: h.learningRate, weightDecay: 0 }),
    clipper: createClipper(be, policy),
    featurizer: benchFeaturizer(k.config.textDim),
    reward: rootVelocityReward,
    plan: ddpmPlan(cosineTables(k.steps)),
    options: {
      groupSize: k.G,
      guidance: h.guidance,
      seed: 7,
      clipEpsilon: h.clipEpsilon,
      klBeta: h.klBeta,
      learningRate: h.learningRate,
      maxGradNorm: h.maxGradNorm,
      trainSteps: k.trained,
      frames: k.T,
      transitionBatch: k.transitionBatch ?? defaultTransitionBatch(be, 2 * N),
    },
  };
  rewardBackend = be;
  return {
    ctx,
    batch: promptBatch(k.B, k.G, k.T),
    destroy() {
      rewardBackend = null;
      policy.destroy();
      reference.destroy();
    },
  };
}

/**
 * Our milliseconds for one step (minimum over reps after a warm-up), per step over a run of
 * `RUN_STEPS` consecutive steps overlapped as `train-grpo` runs them (step i + 1 queued before
 * step i's metrics are awaited; WebGPU only, null on the CPU), and the engine peak.
 */
async function timeOurs(
  be: Backend,
  k: GrpoBenchCase,
): Promise<{ ms: number; runMs: number | null; trained: number; peak: number }> {
  const { ctx, batch, destroy } = grpoBenchContext(be, k);
  try {
    await grpoStep(ctx, batch, 0); // warm-up: JIT, pipelines, scratch pools
    await be.sync();
    let best = Infinity, trained = 0;
    for (let i = 1; i <= k.reps; i++) {
      const t0 = performance.now();
      const r = await grpoStep(ctx, batch, i);
      await be.sync();
      best = Math.min(best, performance.now() - t0);
      trained = r.metrics.trained_transitions;
    }
    // On the CPU a step's work is done when it is queued: nothing to overlap.
    if (be.kind === "cpu") return { ms: best, runMs: null, trained, peak: be.memory().peakBytes };
    const t0 = performance.now();
    let inFlight: StartedGrpoStep | null = null;
    for (let i = 0; i < RUN_STEPS; i++) {
      const started: StartedGrpoStep = await startGrpoStep(ctx, batch, k.reps + 1 + i);
      if (inFlight !== null) await inFlight.result;
      inFlight = started;
    }
    await inFlight!.result;
    await be.sync();
    const runMs = (performance.now() - t0) / RUN_STEPS;
    return { ms: best, runMs, trained, peak: be.memory().peakBytes };
  } finally {
    destroy();
  }
}

/** Consecutive steps of the run timed on both sides (`TorchGrpo.run_ms`, `GrpoBenchRow.oursRunMs`). */
export const RUN_STEPS = 3;

async function torchStep(
  k: GrpoBenchCase,
  device: "cpu" | "cuda",
  transitionBatch: number,
  threads = torchThreads(),
): Promise<TorchGrpo | null> {
  const h = GRPO_BENCH_HPARAMS, c = k.config;
  const spec = {
    nfeats: c.nfeats,
    latent: c.latentDim,
    layers: c.layers,
    ff: c.ffSize,
    heads: c.heads,
    text_dim: c.textDim,
    mask_frames: c.maskFrames,
    B: k.B,
    G: k.G,
    T: k.T,
    steps: k.steps,
    trained: k.trained,
    reps: k.reps,
    run_steps: device === "cpu" ? 0 : RUN_STEPS,
    guidance: h.guidance,
    clip_eps: h.clipEpsilon,
    kl_beta: h.klBeta,
    lr: h.learningRate,
    max_grad_norm: h.maxGradNorm,
    transition_batch: transitionBatch,
  };
  const script = new URL("./_torch_grpo.py", import.meta.url).pathname;
  try {
    return await runTorch(
      script,
      [String(threads), JSON.stringify(spec)],
      device,
    ) as TorchGrpo;
  } catch (e) {
    console.warn(`PyTorch GRPO step skipped: ${PYTHON} ${script} failed: ${e}`);
    return null;
  }
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** The faster of two PyTorch results (either may be missing). */
function faster(a: TorchGrpo | null, b: TorchGrpo | null): TorchGrpo | null {
  if (a === null) return b;
  return b !== null && b.ms < a.ms ? b : a;
}

/**
 * Runs one config on `be`, prints its block. The engine peak is counted from the call (tensors
 * already live on `be` count too: pass a fresh backend to measure the step alone).
 */
export async function benchGrpoCase(be: Backend, k: GrpoBenchCase): Promise<GrpoBenchRow> {
  const onCpu = be.kind === "cpu";
  be.resetPeak();
  const peakReset = onCpu && resetProcessPeak();
  const P = k.transitionBatch ?? defaultTransitionBatch(be, 2 * k.B * k.G);
  let ours: Awaited<ReturnType<typeof timeOurs>> | null = null;
  let processPeak: number | null = null;
  let torch: TorchGrpo | null = null, torchOne: TorchGrpo | null = null;
  for (let round = 0; round < (k.rounds ?? 1); round++) {
    const o = await timeOurs(be, k);
    if (round === 0) processPeak = onCpu ? processPeakBytes() : null;
    ours = ours === null || o.ms < ours.ms ? o : ours;
    torch = faster(torch, await torchStep(k, torchDeviceFor(be), P));
    // with several CPU threads, also PyTorch's one-thread time (on small models often its best)
    if (onCpu && torchThreads() > 1) torchOne = faster(torchOne, await torchStep(k, "cpu", P, 1));
  }
  if (ours === null) throw new RangeError(`GRPO benchmark ${k.name}: rounds must be at least 1`);
  const where = onCpu ? "CPU" : "WebGPU";
  const cfgBatch = 2 * k.B * k.G;
  console.log(
    `grpo step (${k.name}, ${where}) on ${be.describe()} vs ${torch?.torch ?? "PyTorch n/a"}`,
  );
  console.log(
    `  B ${k.B}, G ${k.G}, CFG batch ${cfgBatch}, T ${k.T}, ${k.steps} DDPM steps, ` +
      `trained transitions ${ours.trained}${
        torch && torch.trained !== ours.trained ? ` (torch ${torch.trained})` : ""
      }, ${P} per forward/backward (both sides)`,
  );
  console.log(
    `  grpo step (${k.name}, ${where}) ours ${ours.ms.toFixed(1)} ms | torch ` +
      `${torch ? `${torch.ms.toFixed(1)} ms` : "n/a"} | ratio ` +
      `${torch ? (ours.ms / torch.ms).toFixed(2) : "n/a"}`,
  );
  if (ours.runMs !== null) {
    const run = torch?.run_ms ?? null;
    console.log(
      `  in a run of ${RUN_STEPS} steps (train-grpo's overlap) ours ${ours.runMs.toFixed(1)} ` +
        `ms/step | torch ${run !== null ? `${run.toFixed(1)} ms/step` : "n/a"} | ratio ` +
        `${run !== null ? (ours.runMs / run).toFixed(2) : "n/a"}`,
    );
  }
  if (torchOne !== null) {
    console.log(
      `  grpo step (${k.name}, ${where}) torch on 1 thread ${torchOne.ms.toFixed(1)} ms | ` +
        `ratio ours / that ${(ours.ms / torchOne.ms).toFixed(2)}`,
    );
  }
  if (onCpu) {
    const rss = processPeak === null
      ? "n/a"
      : `${mib(processPeak)}${peakReset ? "" : " (process peak since start)"}`;
    console.log(
      `  memory ours: process peak RSS ${rss}, engine tensors peak ${mib(ours.peak)} | torch: ` +
        (torch ? `${torch.peak_kind} ${mib(torch.peak_bytes)}` : "n/a"),
    );
  } else {
    console.log(
      `  memory ours: GPU buffers peak ${mib(ours.peak)} (engine accounting) | torch: ` +
        (torch ? `${torch.peak_kind} ${mib(torch.peak_bytes)}` : "n/a"),
    );
  }
  if (k.name === "official") {
    const ok = ours.peak <= GPU_MEMORY_TARGET_BYTES;
    console.log(
      `  within 4 GiB target: ${ok ? "yes" : "no"} (ours ${mib(ours.peak)}` +
        `${onCpu ? ", engine tensors on the CPU backend" : ""})`,
    );
  }
  return {
    name: k.name,
    backend: be.describe(),
    oursMs: ours.ms,
    oursRunMs: ours.runMs,
    trained: ours.trained,
    enginePeakBytes: ours.peak,
    processPeakBytes: processPeak,
    torch,
  };
}

/** Command-line options of the GRPO benchmark. */
export interface GrpoBenchFlags {
  smallOnly: boolean;
  /** Skip the CPU-backend runs (the mini step), keep the WebGPU ones. */
  webgpuOnly: boolean;
  officialOnCpu: boolean;
  trained: number | null;
  steps: number;
  reps: number | null;
  /** Transitions per forward/backward of the official case; null = the backend's default. */
  transitionBatch: number | null;
}

/**
 * Parses `--small-only --webgpu-only --official-on-cpu --trained K --steps S --reps R` from
 * `args`.
 */
export function parseGrpoFlags(args: readonly string[]): GrpoBenchFlags {
  const value = (flag: string): number | null => {
    const i = args.indexOf(flag);
    if (i < 0) return null;
    const v = Number(args[i + 1]);
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`bench: ${flag} needs a positive integer, got "${args[i + 1]}"`);
    }
    return v;
  };
  return {
    smallOnly: args.includes("--small-only"),
    webgpuOnly: args.includes("--webgpu-only"),
    officialOnCpu: args.includes("--official-on-cpu"),
    trained: value("--trained"),
    steps: value("--steps") ?? 50,
    reps: value("--reps"),
    transitionBatch: value("--transition-batch"),
  };
}

/**
 * The mini config on the CPU backend (at its own shape and at exp5's), then (unless `--small-only`) the official one on WebGPU
 * when a hardware adapter exists, and the official one on the CPU backend with
 * `--official-on-cpu` (even with `--small-only`).
 */
export async function benchGrpo(flags: GrpoBenchFlags): Promise<GrpoBenchRow[]> {
  const rows: GrpoBenchRow[] = [];
  if (!flags.webgpuOnly) {
    const cpu = createCpuBackend();
    rows.push(await benchGrpoCase(cpu, miniCase(flags.reps ?? 3)));
    console.log();
    rows.push(await benchGrpoCase(cpu, exp5Case(flags.reps ?? 2)));
    cpu.destroy();
  }
  const official = {
    ...officialCase(flags.trained, flags.reps ?? 1, flags.steps),
    transitionBatch: flags.transitionBatch,
  };
  if (!flags.smallOnly) {
    const adapter = gpuIgnore ? null : await adapterDescription();
    if (adapter && !adapter.isSoftwareAdapter) {
      const gpu = await createWebGpuBackend();
      console.log();
      rows.push(await benchGrpoCase(gpu, official));
      gpu.destroy();
    } else {
      console.log(
        `grpo step (official, WebGPU): skipped (${
          adapter ? `software adapter ${adapter.description}` : "no adapter"
        })`,
      );
    }
  }
  if (flags.officialOnCpu) {
    const be = createCpuBackend();
    console.log();
    rows.push(await benchGrpoCase(be, official));
    be.destroy();
  }
  return rows;
}

if (import.meta.main) {
  await benchGrpo(parseGrpoFlags(Deno.args));
}
