/**
 * Evaluation metrics of the T2M protocol (R-precision, matching score, FID, diversity,
 * multimodality) on embeddings, and the aggregation of replications into the standard table.
 * @module
 */
export * from "./embeddings.ts";
export * from "./distance.ts";
export * from "./r_precision.ts";
export * from "./matching_score.ts";
export * from "./linalg.ts";
export * from "./fid.ts";
export * from "./diversity.ts";
export * from "./multimodality.ts";
export * from "./protocol.ts";
export * from "./summary.ts";
export * from "./format_table.ts";
