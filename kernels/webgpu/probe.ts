/**
 * `gpuIgnore`: whether this process has no WebGPU adapter, probed once at import (a top-level
 * await). For tests (`ignore: gpuIgnore`) and benchmarks only: importing it starts the WebGPU
 * runtime, which commands must not do before they need a device.
 * @module
 */
import { gpuAvailable } from "./device.ts";

/** True when no adapter exists: GPU tests use `Deno.test({ ignore: gpuIgnore, ... })`. */
export const gpuIgnore: boolean = !(await gpuAvailable());
