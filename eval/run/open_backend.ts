/**
 * Opens the compute backend a `--device` asks for: a WebGPU adapter (the seed's CUDA index or
 * MPS) or the CPU path. `auto` takes a hardware WebGPU adapter when there is one, else the CPU
 * (a software adapter such as llvmpipe is far slower than the CPU path, so auto never picks it).
 * @module
 */
import type { Backend } from "../../kernels/backend.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { createWebGpuBackend } from "../../kernels/webgpu_backend.ts";
import { adapterDescription, gpuAvailable } from "../../kernels/webgpu/device.ts";
import type { DeviceRequest } from "../../cli/_flags.ts";

/** An opened backend and the line that says which device is used. */
export interface OpenedBackend {
  backend: Backend;
  /** E.g. `webgpu (NVIDIA H100 ...)` or `cpu (wasm-simd gemm)`, plus notes. */
  description: string;
}

/**
 * Opens the backend for `device`.
 *
 * @throws Error naming `--device` when a WebGPU device is requested and none exists.
 */
export async function openBackend(device: DeviceRequest): Promise<OpenedBackend> {
  if (device.kind === "cpu") {
    const backend = createCpuBackend();
    return { backend, description: backend.describe() };
  }
  if (device.kind === "auto") {
    const info = await gpuAvailable() ? await adapterDescription() : null;
    if (info === null || info.isSoftwareAdapter) {
      const backend = createCpuBackend();
      const why = info === null ? "no WebGPU adapter" : `only the software adapter ${info.device}`;
      return { backend, description: `${backend.describe()} (--device auto: ${why})` };
    }
  }
  if (!(await gpuAvailable())) {
    throw new Error(
      "Cannot open --device: no WebGPU adapter is available on this machine (use --device cpu)",
    );
  }
  const backend = await createWebGpuBackend();
  const note = device.kind === "webgpu" && device.index !== 0
    ? ` (--device index ${device.index}: WebGPU exposes one adapter per process; using it)`
    : "";
  return { backend, description: backend.describe() + note };
}
