/**
 * The official text models from local ONNX files under `$MOTION_GRPO_ASSETS` (assets.ts): CLIP
 * text features that condition official MDM checkpoints, DistilBERT token features and the
 * official TMR encoder pair built on them, with HuggingFace tokenizer.json files.
 * @module
 */
export * from "./assets.ts";
export * from "./clip_text.ts";
export * from "./distilbert.ts";
export * from "./hf_tokenizer.ts";
export * from "./official_tmr.ts";
