/**
 * The MDM denoiser: configuration, weights, forward/backward on the engine, LoRA adapters.
 * @module
 */
export * from "./config.ts";
export * from "./encoder_layer.ts";
export * from "./init.ts";
export * from "./load.ts";
export * from "./lora.ts";
export * from "./mdm.ts";
