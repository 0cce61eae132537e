/**
 * The flag table of `deno task eval-humanml` (the seed's `python -m eval.eval_humanml`): its own
 * flags (`--eval_mode`, `--guidance_param`) plus the rows it shares with `train-grpo`, taken from
 * `cli/train_grpo_flags.ts` so both commands define them once.
 * @module
 */
import { type FlagSpec, type FlagValues, pickFlags } from "./_flags.ts";
import { TRAIN_GRPO_FLAGS } from "./train_grpo_flags.ts";

const EVAL_ONLY_FLAGS = [
  {
    name: "model_path",
    kind: "path",
    default: null,
    required: true,
    mustExist: true,
    group: "core",
    meaning: "Model checkpoint to evaluate (model####.pt or model_final.pt)",
  },
  {
    name: "eval_mode",
    kind: "enum",
    values: ["wo_mm", "mm_short", "debug"],
    default: "wo_mm",
    group: "core",
    meaning: "wo_mm: 20 replications without MultiModality; mm_short: 5 with it; debug: short run",
  },
  {
    name: "guidance_param",
    kind: "float",
    default: 2.5,
    range: { min: 0 },
    group: "core",
    meaning: "Classifier-free guidance scale s (1 means no guidance)",
  },
] as const satisfies readonly FlagSpec[];

/** Every flag of `eval-humanml`, in `--help` order. */
export const EVAL_HUMANML_FLAGS = [
  EVAL_ONLY_FLAGS[0],
  ...pickFlags(TRAIN_GRPO_FLAGS, ["dataset", "data_dir"]),
  EVAL_ONLY_FLAGS[1],
  EVAL_ONLY_FLAGS[2],
  ...pickFlags(TRAIN_GRPO_FLAGS, [
    "use_composite_dataset",
    "composite_data_path",
    "composite_k_segments",
    "device",
    "seed",
  ]),
];

/** One row of the eval-humanml table. */
export type EvalHumanmlFlagSpec = (typeof EVAL_HUMANML_FLAGS)[number];

/** The values of every eval-humanml flag, keyed by snake_case name. */
export type EvalHumanmlFlags = FlagValues<EvalHumanmlFlagSpec>;
