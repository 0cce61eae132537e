/**
 * The flag table of `deno task train-grpo`: name, type, default, meaning and allowed values of
 * every flag, exactly as the seed's `python -m train.train_grpo` defines them (defaults from the
 * seed's argument parser and the usage guide `grpo_usage.zh.md`). The command's parser, its
 * `--help`, the `--dry-run` report and the README flag reference are all generated from it;
 * `eval-humanml` picks its shared flags (`--model_path`, `--dataset`, composite data, `--device`,
 * `--seed`) from here too (see `cli/eval_humanml_flags.ts`).
 * @module
 */
import type { FlagSpec, FlagValues } from "./_flags.ts";

/** Sections of the flag reference, in the guide's order. */
export const FLAG_GROUPS = [
  "core",
  "lora",
  "reward model",
  "reward shaping",
  "composite data",
  "flow-grpo",
  "logging",
  "trainer",
] as const;

/** Every flag of `train-grpo`, in `--help` order. */
export const TRAIN_GRPO_FLAGS = [
  // --- core -------------------------------------------------------------------------------
  {
    name: "model_path",
    kind: "path",
    default: null,
    required: true,
    mustExist: true,
    group: "core",
    meaning: "Pretrained model checkpoint to fine-tune (model####.pt)",
  },
  {
    name: "ref_model_path",
    kind: "path",
    default: null,
    mustExist: true,
    group: "core",
    meaning: "Reference model for the KL term, if different from --model_path",
  },
  {
    // Required as in the seed's training options: a run never writes to a guessed folder.
    name: "save_dir",
    kind: "string",
    default: null,
    required: true,
    group: "core",
    meaning: "Folder for model_final.pt, periodic checkpoints, the resolved config and metrics",
  },
  {
    name: "dataset",
    kind: "enum",
    values: ["humanml", "kit"],
    default: "humanml",
    group: "core",
    meaning: "Dataset: humanml (HumanML3D) or kit (KIT-ML)",
  },
  {
    name: "data_dir",
    kind: "string",
    default: null,
    group: "core",
    defaultText: "./dataset/HumanML3D or ./dataset/KIT-ML",
    meaning: "Dataset root folder (the seed's --data_dir)",
  },
  {
    name: "batch_size",
    kind: "int",
    default: 1,
    range: { min: 1 },
    group: "core",
    meaning: "Prompts per GRPO step",
  },
  {
    name: "group_size",
    kind: "int",
    default: 4,
    range: { min: 2 }, // advantages are normalised within a group: one sample has no spread
    group: "core",
    meaning: "GRPO group size G (samples per prompt)",
  },
  {
    name: "num_steps",
    kind: "int",
    default: 600_000,
    range: { min: 1 },
    group: "core",
    meaning: "Training stops after this many steps",
  },
  {
    name: "learning_rate",
    kind: "float",
    default: 5e-7,
    range: { min: 0, minExclusive: true },
    group: "core",
    meaning: "GRPO learning rate (1e-6 to 5e-7 recommended)",
  },
  {
    name: "clip_epsilon",
    kind: "float",
    default: 0.2,
    range: { min: 0, max: 1, minExclusive: true, maxExclusive: true },
    group: "core",
    meaning: "PPO clipping parameter epsilon (typically 0.1 to 0.3)",
  },
  {
    name: "kl_penalty",
    kind: "float",
    default: 1.0,
    range: { min: 0 },
    group: "core",
    meaning: "KL divergence penalty weight beta against the reference model",
  },
  {
    name: "grpo_type",
    kind: "enum",
    values: ["normal_grpo", "flow_grpo"],
    default: "normal_grpo",
    group: "core",
    meaning: "GRPO trainer: normal_grpo (standard) or flow_grpo (SDE sampling, Flow-GRPO)",
  },
  {
    name: "device",
    kind: "device",
    default: "auto",
    group: "core",
    meaning: "Compute device: GPU index, cuda, cuda:N, mps (WebGPU adapter), cpu, or auto",
  },
  {
    name: "seed",
    kind: "int",
    default: 10,
    range: { min: 0, max: 0xffffffff }, // the Philox key is a u32
    group: "core",
    meaning: "Random seed",
  },
  // --- LoRA ---------------------------------------------------------------------------------
  {
    name: "use_lora",
    kind: "bool",
    default: false,
    group: "lora",
    meaning: "Train LoRA adapters on attention and text-embedding layers only",
  },
  {
    name: "lora_r",
    kind: "int",
    default: 8,
    range: { min: 1 },
    group: "lora",
    meaning: "LoRA rank (typically 8 to 16); only with --use_lora",
  },
  {
    name: "lora_alpha",
    kind: "int",
    default: 16,
    range: { min: 1 },
    group: "lora",
    meaning: "LoRA scaling alpha (typically 16 to 32); only with --use_lora",
  },
  // --- reward model -------------------------------------------------------------------------
  {
    name: "reward_model_type",
    kind: "enum",
    values: ["mdm", "tmr"],
    default: "mdm",
    group: "reward model",
    meaning: "Reward model: mdm (MDM's T2M evaluator) or tmr (TMR encoders)",
  },
  {
    name: "reward_type",
    kind: "enum",
    values: ["matching", "r_precision", "combined", "cosine"],
    default: "matching",
    group: "reward model",
    meaning: "Reward: matching, r_precision or combined with mdm; cosine or matching with tmr",
  },
  {
    name: "tmr_text_encoder_path",
    kind: "path",
    default: null,
    mustExist: true,
    group: "reward model",
    meaning: "TMR text encoder weights (text_encoder.pt); required with tmr",
  },
  {
    name: "tmr_motion_encoder_path",
    kind: "path",
    default: null,
    mustExist: true,
    group: "reward model",
    meaning: "TMR motion encoder weights (motion_encoder.pt); required with tmr",
  },
  {
    name: "tmr_movement_encoder_path",
    kind: "path",
    default: null,
    mustExist: true,
    group: "reward model",
    meaning: "TMR movement encoder weights (motion_decoder.pt); required with tmr",
  },
  {
    name: "tmr_similarity_type",
    kind: "enum",
    values: ["cosine", "euclidean"],
    default: "cosine",
    group: "reward model",
    meaning: "TMR matching similarity: cosine (distance 1 - cos) or euclidean",
  },
  {
    name: "tmr_normalization",
    kind: "enum",
    values: ["linear", "exponential", "sigmoid"],
    default: "linear",
    group: "reward model",
    meaning: "TMR matching distance-to-reward map: linear, exponential or sigmoid",
  },
  {
    name: "tmr_max_distance",
    kind: "float",
    default: 10.0,
    range: { min: 0, minExclusive: true },
    group: "reward model",
    meaning: "Max distance of the linear normalisation clip(1 - d/max_distance, 0, 1)",
  },
  {
    name: "tmr_scale",
    kind: "float",
    default: 2.0,
    range: { min: 0, minExclusive: true },
    group: "reward model",
    meaning: "Scale of the exponential exp(-d/scale) and sigmoid 2/(1+exp(d/scale)) maps",
  },
  // --- reward shaping -----------------------------------------------------------------------
  {
    name: "use_dense_reward",
    kind: "bool",
    default: false,
    group: "reward shaping",
    meaning: "Segment-Dense reward (each segment against its sub-text); off means Global",
  },
  {
    name: "use_physics_reward",
    kind: "bool",
    default: false,
    group: "reward shaping",
    meaning: "Add the physics reward R_phy = exp(-lambda_skate L_skate - lambda_jerk L_jerk)",
  },
  {
    name: "k_segments",
    kind: "int",
    default: 1,
    range: { min: 1 },
    group: "reward shaping",
    meaning: "Sub-texts per prompt; must equal --composite_k_segments with a composite dataset",
  },
  {
    name: "max_motion_length",
    kind: "int",
    default: 196,
    range: { min: 1 },
    group: "reward shaping",
    meaning: "Longest motion in frames; longer motions are cut",
  },
  {
    name: "alpha",
    kind: "float",
    default: 0.5,
    range: { min: 0 },
    group: "reward shaping",
    meaning: "Negative penalty weight of Segment-Dense mode (0 scores positives only)",
  },
  {
    name: "beta_s",
    kind: "float",
    default: 1.0,
    range: { min: 0 },
    group: "reward shaping",
    meaning: "Semantic reward weight in R = beta_s R_sem + beta_p R_phy",
  },
  {
    name: "beta_p",
    kind: "float",
    default: 0.1,
    range: { min: 0 },
    group: "reward shaping",
    meaning: "Physics reward weight in R = beta_s R_sem + beta_p R_phy",
  },
  {
    name: "lambda_skate",
    kind: "float",
    default: 1.0,
    range: { min: 0 },
    group: "reward shaping",
    meaning: "Foot-skating penalty weight of the physics reward",
  },
  {
    name: "lambda_jerk",
    kind: "float",
    default: 1.0,
    range: { min: 0 },
    group: "reward shaping",
    meaning: "Jerk penalty weight of the physics reward",
  },
  {
    name: "fps",
    kind: "float",
    default: 20.0,
    range: { min: 0, minExclusive: true },
    group: "reward shaping",
    defaultText: "20.0; 12.5 with --dataset kit",
    meaning: "Dataset frame rate, used for segment durations and the jerk",
  },
  {
    name: "disable_random_crop",
    kind: "bool",
    default: false,
    group: "reward shaping",
    meaning: "Disable random crop and offset augmentation (forced on by --use_composite_dataset)",
  },
  // --- composite data -----------------------------------------------------------------------
  {
    name: "use_composite_dataset",
    kind: "bool",
    default: false,
    group: "composite data",
    meaning: "Use a composite dataset built by construct-composite",
  },
  {
    name: "composite_data_path",
    kind: "path",
    default: null,
    mustExist: true,
    group: "composite data",
    meaning: "Composite dataset .npy file; required with --use_composite_dataset",
  },
  {
    name: "composite_k_segments",
    kind: "int",
    default: 3,
    values: [3, 4, 5],
    group: "composite data",
    meaning: "Segments K per composite sample, as built by construct-composite --k_segments",
  },
  // --- Flow-GRPO ----------------------------------------------------------------------------
  {
    name: "noise_scale",
    kind: "float",
    default: 0.7,
    range: { min: 0, minExclusive: true }, // zero noise makes the SDE log-probability undefined
    group: "flow-grpo",
    meaning: "SDE noise scale a (typically 0.5 to 1.0); only with --grpo_type flow_grpo",
  },
  {
    name: "train_timesteps",
    kind: "int",
    default: 10,
    range: { min: 1 },
    group: "flow-grpo",
    meaning: "Sampling steps during training; only with --grpo_type flow_grpo",
  },
  {
    name: "inference_timesteps",
    kind: "int",
    default: 40,
    range: { min: 1 },
    group: "flow-grpo",
    meaning: "Sampling steps at inference; only with --grpo_type flow_grpo",
  },
  // --- logging ------------------------------------------------------------------------------
  {
    name: "train_platform_type",
    kind: "enum",
    values: ["NoPlatform", "TensorboardPlatform", "WandBPlatform", "ClearmlPlatform"],
    default: "NoPlatform",
    group: "logging",
    meaning: "Where training metrics go (TensorboardPlatform writes event files to --save_dir)",
  },
  // --- trainer (not in the seed's parser; the seed's behaviour is the default) ---------------
  {
    name: "guidance_param",
    kind: "float",
    default: 2.5,
    range: { min: 0 },
    group: "trainer",
    meaning:
      "Classifier-free guidance scale of the rollouts (MDM's --guidance_param); 1 = no guidance",
  },
  {
    name: "train_transitions",
    kind: "int",
    default: 0,
    range: { min: 0 },
    defaultText: "0 (all)",
    group: "trainer",
    meaning:
      "Denoising transitions trained per step: 0 = every stochastic one, else a seeded random subset",
  },
  {
    name: "transition_batch",
    kind: "int",
    default: 0,
    range: { min: 0 },
    defaultText: "0 (auto: 1 on the CPU; on a GPU up to 4, at most 32 samples per call)",
    group: "trainer",
    meaning: "Trained transitions per forward/backward call (a larger batch keeps a GPU busier); " +
      "the gradient is the same sum, rounded differently",
  },
  {
    name: "max_grad_norm",
    kind: "float",
    default: 1.0,
    range: { min: 0 },
    group: "trainer",
    meaning: "Global gradient-norm clip before each AdamW update; 0 disables it",
  },
  {
    name: "eval_interval",
    kind: "int",
    default: 0,
    range: { min: 0 },
    defaultText: "0 (off)",
    group: "trainer",
    meaning:
      "Steps between held-out reward evaluations (fixed test-split prompts and noise; also at step 0)",
  },
  {
    name: "eval_prompts",
    kind: "int",
    default: 32,
    range: { min: 1 },
    group: "trainer",
    meaning: "Prompts of the held-out reward evaluation (one sample each)",
  },
  {
    name: "save_interval",
    kind: "int",
    default: 100,
    range: { min: 1 },
    group: "trainer",
    meaning:
      "Steps between resumable checkpoints (a rerun into the same --save_dir resumes from the last)",
  },
] as const satisfies readonly FlagSpec[];

/** One row of the train-grpo table. */
export type TrainGrpoFlagSpec = (typeof TRAIN_GRPO_FLAGS)[number];

/** The values of every train-grpo flag, keyed by snake_case name. */
export type TrainGrpoFlags = FlagValues<TrainGrpoFlagSpec>;

/** Names of every train-grpo flag. */
export type TrainGrpoFlagName = TrainGrpoFlagSpec["name"];

/** The TMR options that act only with `--reward_model_type tmr --reward_type matching`. */
export const TMR_MATCHING_FLAGS = [
  "tmr_similarity_type",
  "tmr_normalization",
  "tmr_max_distance",
  "tmr_scale",
] as const satisfies readonly TrainGrpoFlagName[];

/** The three encoder paths `--reward_model_type tmr` needs. */
export const TMR_ENCODER_FLAGS = [
  "tmr_text_encoder_path",
  "tmr_motion_encoder_path",
  "tmr_movement_encoder_path",
] as const satisfies readonly TrainGrpoFlagName[];

/** Flags used only by `--grpo_type flow_grpo`. */
export const FLOW_GRPO_FLAGS = [
  "noise_scale",
  "train_timesteps",
  "inference_timesteps",
] as const satisfies readonly TrainGrpoFlagName[];

/** Flags used only with `--use_lora`. */
export const LORA_FLAGS = ["lora_r", "lora_alpha"] as const satisfies readonly TrainGrpoFlagName[];

/** Reward types allowed by each reward model. */
export const REWARD_TYPES = {
  mdm: ["matching", "r_precision", "combined"],
  tmr: ["cosine", "matching"],
} as const;
