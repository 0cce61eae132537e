/**
 * The scalars a GRPO training step logs, named as in the seed trainer's usage guide so that
 * TensorBoard charts and JSONL columns keep their familiar names.
 *
 * @module
 */

/** Every per-step metric name of the GRPO trainers, grouped as the usage guide lists them. */
export const GRPO_METRIC_NAMES = [
  // Loss
  "loss",
  "policy_loss",
  "kl_penalty",
  // Reward
  "mean_reward",
  "std_reward",
  "min_reward",
  "max_reward",
  // Advantage
  "mean_advantage",
  "std_advantage",
  // Log-probabilities
  "mean_log_prob_current",
  "mean_log_prob_ref",
  "mean_ratio",
  // Optimizer
  "grad_norm",
  "learning_rate",
] as const;

/** One of `GRPO_METRIC_NAMES`. */
export type GrpoMetricName = (typeof GRPO_METRIC_NAMES)[number];
