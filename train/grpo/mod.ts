/**
 * GRPO / Flow-GRPO fine-tuning of MDM on the engine: prompts, rewards, the step, checkpoints and
 * the training loop behind `deno task train-grpo`.
 * @module
 */
export * from "./prompts.ts";
export * from "./rewards.ts";
export * from "./reward_models.ts";
export * from "./load_models.ts";
export * from "./grpo_step.ts";
export * from "./checkpoint.ts";
export * from "./trainer.ts";
