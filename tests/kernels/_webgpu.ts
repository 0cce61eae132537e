/**
 * Shared set-up of the WebGPU kernel tests: one WebGPU backend and one CPU twin per test file,
 * tensors mirrored on both, and comparisons of a WebGPU tensor against its CPU twin.
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { createWebGpuBackend, type WebGpuBackend } from "../../kernels/webgpu_backend.ts";
import { assertClose } from "../_util.ts";

export { gpuIgnore } from "../../kernels/webgpu/probe.ts";

/** The device and its buffers outlive single tests, so the resource sanitizer is off. */
export const GPU_TEST = { sanitizeResources: false, sanitizeOps: false } as const;

let shared: Promise<WebGpuBackend> | null = null;

/** The WebGPU backend shared by the tests of one file (created on first use). */
export function gpu(): Promise<WebGpuBackend> {
  shared ??= createWebGpuBackend();
  return shared;
}

/** The CPU twin with the reference GEMM. */
export const cpu: Backend = createCpuBackend();

/** `n` uniforms in [lo, hi) from a fixed Philox stream. */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed, 7);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.uniform();
  return out;
}

/** The same data as a tensor on each backend: [gpu, cpu]. */
export function both(g: Backend, shape: number[], data?: Float32Array): [Tensor, Tensor] {
  return [g.tensor(shape, data), cpu.tensor(shape, data)];
}

/** Asserts a WebGPU tensor matches its CPU twin: |g - c| <= atol + rtol |c|. */
export async function assertTwin(
  g: Backend,
  gt: Tensor,
  ct: Tensor,
  atol: number,
  rtol: number,
  label: string,
): Promise<void> {
  assertClose(await g.read(gt), await cpu.read(ct), atol, rtol, label);
}
