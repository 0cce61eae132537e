/**
 * MDM checkpoints: `model{step:09d}.pt` (a plain state dict, or `{'model': sd, 'model_avg': ema}`
 * when trained with `--use_ema`) and the `args.json` of hyperparameters beside it.
 * @module
 */
import { dirname, join } from "node:path";
import { asStateDict, loadTorchFile } from "./torch_pt.ts";
import type { StateDict } from "./state_dict.ts";

/** Buffers MDM recomputes at construction; its loader deletes them before `load_state_dict`. */
const DROPPED_BUFFERS = ["sequence_pos_encoder.pe", "embed_timestep.sequence_pos_encoder.pe"];

/** Options of {@linkcode loadMdmStateDict}. */
export interface LoadMdmOptions {
  /** Prefer the EMA weights `model_avg` when present (default true, as MDM evaluates). */
  useAvg?: boolean;
}

/**
 * Loads MDM denoiser weights: `model_avg` when present (unless `useAvg` is false), else `model`,
 * else the file's plain state dict; `clip_model.*` (the frozen text encoder) and the
 * positional-encoding buffers are dropped, as MDM's `load_model_wo_clip` does.
 */
export async function loadMdmStateDict(
  path: string,
  options: LoadMdmOptions = {},
): Promise<StateDict> {
  return selectMdmStateDict(await loadTorchFile(path), path, options);
}

/** The selection and filtering of {@linkcode loadMdmStateDict} on an already decoded file. */
export function selectMdmStateDict(
  value: unknown,
  file: string,
  options: LoadMdmOptions = {},
): StateDict {
  if (!(value instanceof Map)) {
    throw new TypeError(`Cannot load checkpoint "${file}": expected a dict of tensors at the top`);
  }
  let where = "";
  let sd: unknown = value;
  if ((options.useAvg ?? true) && value.has("model_avg")) {
    [where, sd] = ["model_avg", value.get("model_avg")];
  } else if (value.has("model")) [where, sd] = ["model", value.get("model")];
  const checked = asStateDict(sd, file, where);
  const out: StateDict = new Map();
  for (const [k, t] of checked) {
    if (k.startsWith("clip_model.") || DROPPED_BUFFERS.includes(k)) continue;
    out.set(k, t);
  }
  return out;
}

/** MDM hyperparameters from `args.json`; missing fields take MDM's argument-parser defaults. */
export interface MdmArgs {
  /** `trans_enc` | `trans_dec` | `gru`. */
  arch: string;
  /** Transformer width (default 512). */
  latent_dim: number;
  /** Encoder layers (default 8). */
  layers: number;
  /** Feed-forward width: fixed at 1024 in MDM's model construction, not saved by it. */
  ff_size: number;
  /** Attention heads: fixed at 4 in MDM's model construction, not saved by it. */
  heads: number;
  /** `humanml` (263 features) | `kit` (251) | ... */
  dataset: string;
  /** Probability of dropping the text condition in training (CFG); 0 means no guidance. */
  cond_mask_prob: number;
  /** Whether the transformer masks padded frames (the released 50-step model does). */
  mask_frames: boolean;
  /** Number of diffusion steps T (MDM default 1000; the released fast model uses 50). */
  diffusion_steps: number;
  /** `cosine` | `linear`. */
  noise_schedule: string;
  /** Fixed small posterior variance (default true). */
  sigma_small: boolean;
  /** trans_dec only: also inject the condition as a token. */
  emb_trans_dec: boolean;
  /** `clip` | `bert`. */
  text_encoder_type: string;
  /** Trained with an EMA copy (`model_avg`). */
  use_ema: boolean;
  /** Trained without any condition. */
  unconstrained: boolean;
  /** Training seed. */
  seed: number;
  /** Every field of the file, untouched. */
  raw: Record<string, unknown>;
}

const DEFAULTS: Omit<MdmArgs, "raw"> = {
  arch: "trans_enc",
  latent_dim: 512,
  layers: 8,
  ff_size: 1024,
  heads: 4,
  dataset: "humanml",
  cond_mask_prob: 0.1,
  mask_frames: false,
  diffusion_steps: 1000,
  noise_schedule: "cosine",
  sigma_small: true,
  emb_trans_dec: false,
  text_encoder_type: "clip",
  use_ema: false,
  unconstrained: false,
  seed: 10,
};

/** Alternative spellings seen in MDM forks' args files. */
const ALIASES: Record<string, keyof typeof DEFAULTS> = { num_heads: "heads", num_layers: "layers" };

/**
 * Reads MDM's `args.json`. `path` may be the JSON file itself or the checkpoint beside it.
 * Fields of the wrong JSON type are a TypeError naming the file and the field.
 */
export async function readArgsJson(path: string): Promise<MdmArgs> {
  const file = path.endsWith(".json") ? path : join(dirname(path), "args.json");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read MDM arguments "${file}": file not found`);
    }
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Cannot read MDM arguments "${file}": ${(e as Error).message}`);
  }
  return parseMdmArgs(raw, file);
}

/** Validates a parsed `args.json` object (see {@linkcode readArgsJson}). */
export function parseMdmArgs(raw: unknown, file = "args.json"): MdmArgs {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError(`Cannot read MDM arguments "${file}": expected a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [k, v] of Object.entries(obj)) {
    const field = (k in DEFAULTS ? k : ALIASES[k]) as keyof typeof DEFAULTS | undefined;
    if (field === undefined || v === null) continue;
    const want = jsType(DEFAULTS[field]);
    if (jsType(v) !== want) {
      throw new TypeError(
        `Cannot read MDM arguments "${file}": field ${k} is ${
          JSON.stringify(v)
        }, expected a ${want}`,
      );
    }
    if (want === "number" && field !== "cond_mask_prob" && !Number.isInteger(v)) {
      throw new TypeError(
        `Cannot read MDM arguments "${file}": field ${k} is ${v}, expected an integer`,
      );
    }
    out[field] = v;
  }
  return { ...(out as Omit<MdmArgs, "raw">), raw: obj };
}

/**
 * Checks that `sd` holds every key of `spec` with exactly that shape; throws a RangeError
 * naming the file and the first offending key:
 * `Cannot load checkpoint "x.pt": missing key seqTransEncoder.layers.3.linear1.weight` or
 * `...: key input_process.poseEmbedding.weight has shape [512, 251], expected [512, 263]`.
 * Keys of `sd` that `spec` does not list are allowed.
 */
export function expectShapes(
  sd: StateDict,
  spec: Readonly<Record<string, readonly number[]>>,
  file: string,
): void {
  for (const [key, shape] of Object.entries(spec)) {
    const t = sd.get(key);
    if (t === undefined) {
      throw new RangeError(`Cannot load checkpoint "${file}": missing key ${key}`);
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new RangeError(
        `Cannot load checkpoint "${file}": key ${key} has shape [${t.shape.join(", ")}], ` +
          `expected [${shape.join(", ")}]`,
      );
    }
  }
}

function jsType(v: unknown): string {
  return typeof v;
}
