/**
 * Frozen networks as ONNX: a dependency-free graph writer, onnxruntime-web sessions (WASM, or
 * WebGPU on the engine's device) and converters from PyTorch state dicts (T2M evaluator, TMR).
 * @module
 */
export * from "./proto.ts";
export * from "./graph.ts";
export * from "./session.ts";
export * from "./t2m_evaluator.ts";
export * from "./tmr_encoder.ts";
