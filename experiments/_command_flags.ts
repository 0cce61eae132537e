/**
 * The flag tables a manifest's `params` are checked against, one per command. `train-grpo` and
 * `eval-humanml` use the commands' own tables; `construct-composite` defines its flags with
 * commander directly, so its rows are restated here from the seed's
 * `scripts/construct_composite_dataset.py` (see `cli/construct_composite.ts`).
 * @module
 */
import type { FlagSpec } from "../cli/_flags.ts";
import { TRAIN_GRPO_FLAGS } from "../cli/train_grpo_flags.ts";
import { EVAL_HUMANML_FLAGS } from "../cli/eval_humanml_flags.ts";

/** The commands a manifest can stand for. */
export const MANIFEST_COMMANDS = ["train-grpo", "eval-humanml", "construct-composite"] as const;

/** A command a manifest can stand for. */
export type ManifestCommand = (typeof MANIFEST_COMMANDS)[number];

const CONSTRUCT_COMPOSITE_FLAGS: readonly FlagSpec[] = [
  {
    name: "dataset",
    kind: "enum",
    values: ["humanml", "kit"],
    default: "humanml",
    group: "core",
    meaning: "Dataset",
  },
  { name: "data_root", kind: "path", default: null, group: "core", meaning: "Dataset root" },
  {
    name: "split",
    kind: "enum",
    values: ["train", "val", "test"],
    default: "train",
    group: "core",
    meaning: "Split to draw from",
  },
  {
    name: "k_segments",
    kind: "int",
    default: 3,
    values: [3, 4, 5],
    group: "core",
    meaning: "Segments per sample",
  },
  { name: "output_dir", kind: "string", default: null, group: "core", meaning: "Output folder" },
  {
    name: "target_length",
    kind: "int",
    default: 196,
    range: { min: 1 },
    group: "core",
    meaning: "Target total length in frames",
  },
  {
    name: "tolerance",
    kind: "int",
    default: 20,
    range: { min: 0 },
    group: "core",
    meaning: "Allowed deviation from the target length in frames",
  },
  {
    name: "fps",
    kind: "float",
    default: 20.0,
    range: { min: 0, minExclusive: true },
    group: "core",
    meaning: "Frame rate",
  },
  {
    name: "max_samples",
    kind: "int",
    default: 1000,
    range: { min: 1 },
    group: "core",
    meaning: "Samples to build",
  },
  {
    name: "compute_b_matrix",
    kind: "bool",
    default: false,
    group: "core",
    meaning: "Compute the K x K segment/sub-text similarity matrix",
  },
  { name: "device", kind: "device", default: "auto", group: "core", meaning: "Compute device" },
  {
    name: "seed",
    kind: "int",
    default: 10,
    range: { min: 0, max: 0xffffffff },
    group: "core",
    meaning: "Random seed",
  },
];

/** The flag table of each manifest command. */
export const COMMAND_FLAGS: Readonly<Record<ManifestCommand, readonly FlagSpec[]>> = {
  "train-grpo": TRAIN_GRPO_FLAGS,
  "eval-humanml": EVAL_HUMANML_FLAGS,
  "construct-composite": CONSTRUCT_COMPOSITE_FLAGS,
};
