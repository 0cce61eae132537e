/**
 * motion-grpo: GRPO fine-tuning of text-to-motion diffusion models on WebGPU and WebAssembly.
 * @module
 */
export * from "./kernels/backend.ts";
export * from "./kernels/rng/philox.ts";
export * from "./diffusion/denoiser.ts";
