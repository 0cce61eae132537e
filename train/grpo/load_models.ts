/**
 * The denoisers of a GRPO run: the policy from `--model_path` (+ its `args.json`), with LoRA
 * adapters under `--use_lora` (`--lora_r`, `--lora_alpha`), and the frozen reference:
 * `--ref_model_path` when given, else the initial model (with LoRA: the policy itself with its
 * adapters off, so no copy; full fine-tuning: a frozen copy loaded once).
 *
 * The network shape comes from args.json (`mdmConfigFromArgs`); the text dimension from its
 * `text_featurizer.dim` (mini models), else CLIP's 512.
 * @module
 */
import { dirname, join } from "node:path";
import type { Backend } from "../../kernels/backend.ts";
import { loadMdmStateDict, readArgsJson } from "../../models/checkpoint/mdm_checkpoint.ts";
import type { StateDict } from "../../models/checkpoint/state_dict.ts";
import { type MdmConfig, mdmConfigFromArgs } from "../../models/mdm/config.ts";
import { MdmDenoiser } from "../../models/mdm/mdm.ts";

/** What {@linkcode loadGrpoModels} reads of the flags. */
export interface ModelFlags {
  model_path: string;
  ref_model_path: string | null;
  use_lora: boolean;
  lora_r: number;
  lora_alpha: number;
  seed: number;
}

/** The loaded models. */
export interface GrpoModels {
  policy: MdmDenoiser;
  reference: MdmDenoiser | null;
  config: MdmConfig;
  /** args.json of `--model_path`, untouched. */
  args: Record<string, unknown>;
  argsFile: string;
  /** Diffusion steps of the model (args.json `diffusion_steps`). */
  diffusionSteps: number;
}

/** The network shape of args.json, accepting mini featurizers (see the module doc). */
export function grpoMdmConfig(args: Record<string, unknown>, file: string): MdmConfig {
  const rest = { ...args };
  const tf = args.text_featurizer as { dim?: unknown } | undefined;
  delete rest.text_encoder_type; // a mini featurizer's name; the featurizer is resolved apart
  const config = mdmConfigFromArgs(rest, file);
  if (tf && typeof tf.dim === "number") config.textDim = tf.dim;
  return config;
}

/**
 * Loads the policy and reference of a run. `maxBatch` / `maxFrames` plan the memory of the
 * doubled CFG batch (2 * batch * group) and the longest motion.
 */
export async function loadGrpoModels(
  be: Backend,
  flags: ModelFlags,
  maxBatch: number,
  maxFrames: number,
): Promise<GrpoModels> {
  const argsInfo = await readArgsJson(flags.model_path);
  const argsFile = flags.model_path.endsWith(".json")
    ? flags.model_path
    : join(dirname(flags.model_path), "args.json");
  const config = grpoMdmConfig(argsInfo.raw, argsFile);
  if (argsInfo.noise_schedule !== "cosine") {
    throw new TypeError(
      `Cannot fine-tune --model_path "${flags.model_path}": noise_schedule ` +
        `"${argsInfo.noise_schedule}" is not supported (only cosine)`,
    );
  }
  const sd = await loadMdmStateDict(flags.model_path);
  const plan = { maxBatch, maxFrames };
  const policy = MdmDenoiser.fromStateDict(be, sd, config, {
    ...plan,
    training: flags.use_lora ? "lora" : "full",
    lora: flags.use_lora ? { rank: flags.lora_r, alpha: flags.lora_alpha, seed: flags.seed } : null,
  }, flags.model_path);
  let reference: MdmDenoiser | null = null;
  let refSd: StateDict | null = null;
  let refFile = flags.model_path;
  if (flags.ref_model_path !== null) {
    refSd = await loadMdmStateDict(flags.ref_model_path);
    refFile = flags.ref_model_path;
  } else if (!flags.use_lora) {
    refSd = sd;
  }
  if (refSd !== null) {
    reference = MdmDenoiser.fromStateDict(
      be,
      refSd,
      config,
      { ...plan, training: "none" },
      refFile,
    );
  }
  return {
    policy,
    reference,
    config,
    args: argsInfo.raw,
    argsFile,
    diffusionSteps: argsInfo.diffusion_steps,
  };
}
