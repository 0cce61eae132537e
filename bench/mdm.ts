/**
 * MDM denoiser benchmark on a backend against PyTorch doing the same work in the same run
 * (bench/_torch_mdm.py; on CPU with our thread count, `torchThreads`; against CUDA for WebGPU
 * when MOTION_GRPO_TORCH_DEVICE=cuda, see bench/torch.ts):
 * - fwd+bwd: one training forward and full backward (every parameter gradient) on B motions;
 * - rollout: DDPM sampling with classifier-free guidance (one doubled-batch forward per step,
 *   posterior mean, fresh noise), `steps` steps of the cosine schedule.
 * Prints milliseconds (minimum over repetitions: on a shared machine other processes only add
 * time), GFLOP/s (matrix products and attention only) and `ratio = our_time / torch_time`
 * (below 1: we are faster).
 *
 * Usage: `deno run -A bench/mdm.ts [--small-only]`
 */
import type { Backend } from "../kernels/backend.ts";
import { createCpuBackend } from "../kernels/cpu_backend.ts";
import { cosineTables } from "../diffusion/schedule.ts";
import { ddpmPlan } from "../diffusion/plan.ts";
import { freeRollout, rollout } from "../diffusion/sampler.ts";
import type { DenoiserInput } from "../diffusion/denoiser.ts";
import type { MdmConfig } from "../models/mdm/config.ts";
import { MdmDenoiser } from "../models/mdm/mdm.ts";
import { PYTHON, runTorch, torchDeviceFor, torchThreads } from "./torch.ts";

/** One benchmarked setting. */
export interface MdmBenchCase {
  label: string;
  config: MdmConfig;
  /** Batch of the training step; the rollout runs 2B (conditional + unconditional). */
  B: number;
  T: number;
  /** Sampling steps of the rollout (the released fast model uses 50). */
  steps: number;
  /** Repetitions of fwd+bwd (minimum taken). */
  reps: number;
}

/** Milliseconds of each measurement, and the PyTorch ones (null when PyTorch is unavailable). */
export interface MdmBenchRow {
  label: string;
  fwdBwdMs: number;
  rolloutMs: number;
  torchFwdBwdMs: number | null;
  torchRolloutMs: number | null;
  fwdBwdGflops: number;
  rolloutGflops: number;
}

const SMALL: MdmConfig = {
  nfeats: 263,
  latentDim: 64,
  layers: 2,
  ffSize: 128,
  heads: 4,
  textDim: 512,
  maskFrames: false,
};
const OFFICIAL: MdmConfig = { ...SMALL, latentDim: 512, layers: 8, ffSize: 1024, maskFrames: true };

/** The small test config and MDM's released shape (HumanML3D, 196 frames, batch 4). */
export const MDM_BENCH_CASES: readonly MdmBenchCase[] = [
  { label: "small (C 64, 2 layers, T 20, B 3)", config: SMALL, B: 3, T: 20, steps: 50, reps: 10 },
  {
    label: "official (C 512, 8 layers, T 196, B 4)",
    config: OFFICIAL,
    B: 4,
    T: 196,
    steps: 50,
    reps: 2,
  },
];

/** FLOPs of one forward: matrix products (2 per multiply-add) and the two attention products. */
export function mdmForwardFlops(c: MdmConfig, B: number, T: number): number {
  const S = T + 1, C = c.latentDim, FF = c.ffSize;
  const perToken = 2 * (3 * C * C + C * C + 2 * C * FF) + 2 * 2 * S * C;
  return B * (S * c.layers * perToken + 2 * T * C * 2 * c.nfeats + 2 * (c.textDim * C + 2 * C * C));
}

const TORCH_SCRIPT = new URL("./_torch_mdm.py", import.meta.url).pathname;

function inputFor(be: Backend, c: MdmConfig, B: number, T: number, seed: number): DenoiserInput {
  const x = be.tensor([B, T, c.nfeats]), text = be.tensor([B, c.textDim]);
  be.randn(x, B * T * c.nfeats, { seed, stream: 1, offset: 0 });
  be.randn(text, B * c.textDim, { seed, stream: 2, offset: 0 });
  const lengths = Int32Array.from({ length: B }, (_, b) => T - 7 * b);
  return {
    x,
    timesteps: Int32Array.from({ length: B }, (_, b) => (11 * b + 3) % 50),
    text,
    condMask: new Float32Array(B).fill(1),
    frameMask: null,
    lengths,
  };
}

/** Minimum milliseconds of one training forward + full backward. */
async function timeFwdBwd(be: Backend, k: MdmBenchCase): Promise<number> {
  const model = MdmDenoiser.random(be, k.config, 1, {
    training: "full",
    maxBatch: k.B,
    maxFrames: k.T,
  });
  const input = inputFor(be, k.config, k.B, k.T, 3);
  const dout = be.tensor([k.B, k.T, k.config.nfeats]);
  be.randn(dout, dout.size, { seed: 3, stream: 4, offset: 0 });
  let best = Infinity;
  for (let i = 0; i < k.reps + 1; i++) {
    const t0 = performance.now();
    model.zeroGrad();
    model.forward(input, k.B, k.T);
    model.backward(dout);
    await be.sync();
    if (i > 0) best = Math.min(best, performance.now() - t0); // i = 0 warms up
  }
  model.destroy();
  return best;
}

/**
 * One DDPM rollout of the sampler (diffusion/sampler.ts) with guidance 2.5: per step one forward
 * on [cond; uncond] (2B), the guided x0, the posterior mean and the noise.
 */
async function timeRollout(be: Backend, k: MdmBenchCase): Promise<number> {
  const { B, T, config: c } = k;
  const model = MdmDenoiser.random(be, c, 1, { maxBatch: 2 * B, maxFrames: T });
  const input = inputFor(be, c, B, T, 5);
  const lengths = new Int32Array(B).fill(T);
  const opts = {
    plan: ddpmPlan(cosineTables(k.steps)),
    guidance: 2.5,
    seed: 9,
    stream: 0,
    record: false,
  };
  // Warm-up, so that the timed rollout runs optimised code (the first one costs about twice the
  // steady state while the JIT compiles): `reps` forwards at the rollout's batch, then a 2-step
  // rollout through the same sampler path.
  const warmOut = be.tensor([2 * B, T, c.nfeats]), warmIn = inputFor(be, c, 2 * B, T, 5);
  for (let i = 0; i < k.reps; i++) model.predictX0(warmOut, warmIn, 2 * B, T);
  const warm = rollout(model, input.text, lengths, B, T, {
    ...opts,
    plan: ddpmPlan(cosineTables(2)),
  });
  await be.read(warm.x0);
  freeRollout(be, warm);
  for (const t of [warmOut, warmIn.x, warmIn.text]) be.free(t);
  const t0 = performance.now();
  const r = rollout(model, input.text, lengths, B, T, opts);
  await be.read(r.x0);
  const ms = performance.now() - t0;
  freeRollout(be, r);
  model.destroy();
  return ms;
}

/** PyTorch's minimum milliseconds per case (nulls when it is unavailable) and its description. */
async function torchTimes(
  cases: readonly MdmBenchCase[],
  device: "cpu" | "cuda",
): Promise<{ torch: string; ms: (number | null)[][] }> {
  const spec = cases.map((k) => ({
    nfeats: k.config.nfeats,
    latent: k.config.latentDim,
    layers: k.config.layers,
    ff: k.config.ffSize,
    heads: k.config.heads,
    mask_frames: k.config.maskFrames,
    B: k.B,
    T: k.T,
    steps: k.steps,
    reps: k.reps,
  }));
  try {
    const out = await runTorch(
      TORCH_SCRIPT,
      [String(torchThreads()), JSON.stringify(spec)],
      device,
    ) as {
      torch: string;
      cases: number[][];
    };
    return { torch: out.torch, ms: out.cases.map((row) => row.map((v) => v * 1e3)) };
  } catch (e) {
    console.warn(`PyTorch timings skipped: ${PYTHON} ${TORCH_SCRIPT} failed: ${e}`);
    return { torch: `PyTorch ${device} (unavailable)`, ms: cases.map(() => [null, null]) };
  }
}

const fmt = (ms: number) => `${ms.toFixed(1).padStart(9)} ms`;
const ratio = (a: number, b: number | null) => (b === null ? "n/a" : (a / b).toFixed(2));

/** Runs the benchmark on the CPU backend, prints one block per case, returns the rows. */
export async function benchMdm(
  cases: readonly MdmBenchCase[] = MDM_BENCH_CASES,
  be: Backend = createCpuBackend(),
): Promise<MdmBenchRow[]> {
  const { torch: torchName, ms: torch } = await torchTimes(cases, torchDeviceFor(be));
  console.log(`mdm on ${be.describe()} vs ${torchName} (ratio = our_time / torch_time)`);
  const rows: MdmBenchRow[] = [];
  for (const [i, k] of cases.entries()) {
    const fwdBwdMs = await timeFwdBwd(be, k);
    const rolloutMs = await timeRollout(be, k);
    const [tFb, tRo] = torch[i];
    const fwd = mdmForwardFlops(k.config, k.B, k.T);
    // Backward of every product costs two products (input and weight gradients).
    const fwdBwdGflops = (3 * fwd) / fwdBwdMs / 1e6;
    const rolloutGflops = (k.steps * mdmForwardFlops(k.config, 2 * k.B, k.T)) / rolloutMs / 1e6;
    rows.push({
      label: k.label,
      fwdBwdMs,
      rolloutMs,
      torchFwdBwdMs: tFb,
      torchRolloutMs: tRo,
      fwdBwdGflops,
      rolloutGflops,
    });
    console.log(`  ${k.label}`);
    console.log(
      `    fwd+bwd  ours ${fmt(fwdBwdMs)} ${fwdBwdGflops.toFixed(1).padStart(5)} GF/s | ` +
        `torch ${tFb === null ? "n/a" : fmt(tFb)} | ratio ${ratio(fwdBwdMs, tFb)}`,
    );
    console.log(
      `    rollout  ours ${fmt(rolloutMs)} ${rolloutGflops.toFixed(1).padStart(5)} GF/s | ` +
        `torch ${tRo === null ? "n/a" : fmt(tRo)} | ratio ${ratio(rolloutMs, tRo)} ` +
        `(${k.steps} steps, CFG batch ${2 * k.B})`,
    );
  }
  be.destroy();
  return rows;
}

if (import.meta.main) {
  await benchMdm(Deno.args.includes("--small-only") ? MDM_BENCH_CASES.slice(0, 1) : undefined);
}
