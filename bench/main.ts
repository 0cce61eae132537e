/**
 * `deno task bench`: every benchmark, each printed as a ratio against a reference run in the same
 * process (plain TypeScript loops) or the same script (PyTorch CPU through Debian's torch, same
 * thread count), with GFLOP/s beside it.
 *
 *   deno task bench                # GEMM, then MDM fwd+bwd and a 50-step rollout, small + official
 *   deno task bench --small-only   # skip the official-size MDM case (minutes on 2 cores)
 *
 * The MDM cases run on the CPU backend, and again on WebGPU when a hardware adapter exists (a
 * software adapter such as llvmpipe is for correctness only and is skipped).
 * @module
 */
import { benchGemm } from "./gemm.ts";
import { benchMdm, MDM_BENCH_CASES } from "./mdm.ts";
import { adapterDescription, gpuIgnore } from "../kernels/webgpu/device.ts";
import { createWebGpuBackend } from "../kernels/webgpu_backend.ts";

const cases = Deno.args.includes("--small-only") ? MDM_BENCH_CASES.slice(0, 1) : MDM_BENCH_CASES;

await benchGemm();
console.log();
await benchMdm(cases);
const adapter = gpuIgnore ? null : await adapterDescription();
if (adapter && !adapter.isSoftwareAdapter) {
  console.log();
  await benchMdm(cases, await createWebGpuBackend());
} else {
  console.log(
    `\nwebgpu: skipped (${adapter ? `software adapter ${adapter.description}` : "no adapter"})`,
  );
}
