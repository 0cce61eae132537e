/**
 * `deno task bench`: every benchmark, each printed as a ratio against a reference run in the same
 * process (plain TypeScript loops) or the same script (PyTorch through `MOTION_GRPO_PYTHON`,
 * default Debian's /usr/bin/python3; on the CPU with the same thread count), with GFLOP/s or
 * memory beside it.
 *
 *   deno task bench                # GEMM, MDM fwd+bwd and rollout, one GRPO step; small + official
 *   deno task bench --small-only   # skip the official-size cases (minutes on 2 cores)
 *   deno task bench --only grpo    # only some parts: a comma list of gemm, mdm, grpo
 *   deno task bench --only mdm,grpo --webgpu-only   # GPU machine: skip the CPU-backend runs
 *
 * `--webgpu-only` skips the CPU-backend runs (GEMM, MDM on the CPU, the mini GRPO step).
 * GRPO flags (bench/grpo.ts): `--trained K` trained transitions of the official step (default
 * all 50), `--steps S` its diffusion steps, `--reps R` timed steps, `--official-on-cpu` also runs
 * the official step on the CPU backend (a path check: use a small --trained and --steps).
 *
 * The MDM cases run on the CPU backend, and again on WebGPU when a hardware adapter exists (a
 * software adapter such as llvmpipe is for correctness only and is skipped); the official GRPO
 * step runs on WebGPU only. Our CPU backend is compared with torch on the CPU, WebGPU with torch
 * on `MOTION_GRPO_TORCH_DEVICE` (cpu or cuda, bench/torch.ts).
 * @module
 */
import { benchGemm } from "./gemm.ts";
import { benchGrpo, parseGrpoFlags } from "./grpo.ts";
import { benchMdm, MDM_BENCH_CASES } from "./mdm.ts";
import { adapterDescription } from "../kernels/webgpu/device.ts";
import { gpuIgnore } from "../kernels/webgpu/probe.ts";
import { createWebGpuBackend } from "../kernels/webgpu_backend.ts";

const PARTS = ["gemm", "mdm", "grpo"] as const;
type Part = typeof PARTS[number];

/** The parts `--only a,b` names (all without the flag). */
function selectedParts(args: readonly string[]): Set<Part> {
  const i = args.indexOf("--only");
  if (i < 0) return new Set(PARTS);
  const names = (args[i + 1] ?? "").split(",").map((s) => s.trim()).filter((s) => s);
  for (const n of names) {
    if (!(PARTS as readonly string[]).includes(n)) {
      throw new RangeError(`bench: --only takes a comma list of ${PARTS.join(", ")}, got "${n}"`);
    }
  }
  if (names.length === 0) throw new RangeError(`bench: --only needs ${PARTS.join(", ")}`);
  return new Set(names as Part[]);
}

const parts = selectedParts(Deno.args);
const smallOnly = Deno.args.includes("--small-only");
const webgpuOnly = Deno.args.includes("--webgpu-only");
const cases = smallOnly ? MDM_BENCH_CASES.slice(0, 1) : MDM_BENCH_CASES;
let first = true;
const gap = () => {
  if (!first) console.log();
  first = false;
};

if (parts.has("gemm") && !webgpuOnly) {
  gap();
  await benchGemm();
}
if (parts.has("mdm")) {
  gap();
  if (!webgpuOnly) await benchMdm(cases);
  const adapter = gpuIgnore ? null : await adapterDescription();
  if (adapter && !adapter.isSoftwareAdapter) {
    if (!webgpuOnly) console.log();
    await benchMdm(cases, await createWebGpuBackend());
  } else {
    console.log(
      `\nwebgpu: skipped (${adapter ? `software adapter ${adapter.description}` : "no adapter"})`,
    );
  }
}
if (parts.has("grpo")) {
  gap();
  await benchGrpo(parseGrpoFlags(Deno.args));
}
