/**
 * The official T2M evaluator of Guo et al. (paper profile): GloVe vectors, the `word/POS`
 * vectoriser, caption → token resolution, and the evaluator as a `TextMotionEncoder`.
 * @module
 */
export * from "./assets.ts";
export * from "./caption_tokens.ts";
export * from "./glove.ts";
export * from "./official_evaluator.ts";
export * from "./word_vectorizer.ts";
