/**
 * The evaluation runner: the T2M protocol on a model (generation, embedding, metrics per
 * replication, aggregation), its composite-dataset variant, result files, and text → motion
 * sampling to files.
 * @module
 */
export * from "./generate.ts";
export * from "./evaluate_model.ts";
export * from "./evaluate_composite.ts";
export * from "./result_json.ts";
export * from "./load_assets.ts";
export * from "./open_backend.ts";
export * from "./run_eval_humanml.ts";
export * from "./sample.ts";
export * from "./run_sample.ts";
