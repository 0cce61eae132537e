/**
 * The mini profile's frozen networks: hash-seeded word features, TMR-architecture text–motion
 * encoder pairs (reward model, independent evaluator) and the conditioning text encoder, their
 * contrastive training, and the bit-exact build of the shipped `assets/mini/` folders.
 * @module
 */
export * from "./build_mini_models.ts";
export * from "./config.ts";
export * from "./mini_encoder.ts";
export * from "./retrieval_check.ts";
export * from "./train_mini_pair.ts";
export * from "./word_featurizer.ts";
