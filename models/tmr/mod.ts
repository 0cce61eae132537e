/**
 * TMR's text and motion encoders (ACTORStyleEncoder) on the engine, loading TMR's files, motion
 * normalisation, retrieval scores and TMR's contrastive loss.
 * @module
 */
export * from "./config.ts";
export * from "./contrastive.ts";
export * from "./encoder.ts";
export * from "./load.ts";
export * from "./normalize.ts";
export * from "./score.ts";
