/**
 * How the benchmarks reach PyTorch: the interpreter is `MOTION_GRPO_PYTHON` (default Debian's
 * `/usr/bin/python3`, torch CPU), the device `MOTION_GRPO_TORCH_DEVICE` (`cpu`, the default, or
 * `cuda`). Our CPU backend is always compared with torch on the CPU with the same thread count as
 * ours (`torchThreads`: 1 unless MOTION_GRPO_CPU_THREADS asks for more); the
 * WebGPU backend with the device the variable names, so a GPU machine compares GPU with GPU.
 * Both sides compute in float32 (the scripts turn TF32 off on CUDA).
 * @module
 */
import type { Backend } from "../kernels/backend.ts";
import { cpuThreads } from "../kernels/wasm/pool.ts";

/** Torch's CPU thread count: our CPU backend's (kernels/wasm/pool.ts). */
export function torchThreads(): number {
  return cpuThreads();
}

export const PYTHON = Deno.env.get("MOTION_GRPO_PYTHON") ?? "/usr/bin/python3";

/** The torch device named by MOTION_GRPO_TORCH_DEVICE. */
export function envTorchDevice(): "cpu" | "cuda" {
  const d = Deno.env.get("MOTION_GRPO_TORCH_DEVICE") ?? "cpu";
  if (d !== "cpu" && d !== "cuda") {
    throw new RangeError(`MOTION_GRPO_TORCH_DEVICE must be cpu or cuda, got "${d}"`);
  }
  return d;
}

/** The torch device to compare backend `be` with: cpu for our CPU backend, else the env's. */
export function torchDeviceFor(be: Backend): "cpu" | "cuda" {
  return be.kind === "cpu" ? "cpu" : envTorchDevice();
}

/** Runs `script args` on `device` and parses its stdout as JSON; throws with its stderr. */
export async function runTorch(
  script: string,
  args: string[],
  device: "cpu" | "cuda",
): Promise<unknown> {
  const r = await new Deno.Command(PYTHON, {
    args: [script, ...args],
    env: { MOTION_GRPO_TORCH_DEVICE: device },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr).trim());
  return JSON.parse(new TextDecoder().decode(r.stdout));
}
