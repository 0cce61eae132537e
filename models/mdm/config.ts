/**
 * MDM denoiser configuration (trans_enc architecture, CLIP text conditioning) and the parameter
 * names and shapes of its PyTorch state dict (NUMERICS.md section 1).
 * @module
 */

/** Shapes of one MDM trans_enc network. */
export interface MdmConfig {
  /** Motion feature dimension F: 263 (HumanML3D) or 251 (KIT). */
  nfeats: number;
  /** Model width C (MDM default 512). */
  latentDim: number;
  /** Number of post-norm encoder layers (MDM default 8). */
  layers: number;
  /** Feed-forward width (MDM hard-codes 1024). */
  ffSize: number;
  /** Attention heads NH (MDM hard-codes 4). */
  heads: number;
  /** Text feature dimension D (CLIP ViT-B/32: 512). */
  textDim: number;
  /**
   * Key padding mask from the lengths: only models trained with `--mask_frames` (the released
   * 50-step model) use it; the 1000-step paper model attends padded frames too.
   */
  maskFrames: boolean;
}

/** Feature dimension per dataset name in args.json. */
export const NFEATS_BY_DATASET: Readonly<Record<string, number>> = { humanml: 263, kit: 251 };

/** MDM's defaults (model/mdm.py and utils/model_util.py). */
export const MDM_DEFAULTS: Readonly<MdmConfig> = {
  nfeats: 263,
  latentDim: 512,
  layers: 8,
  ffSize: 1024,
  heads: 4,
  textDim: 512,
  maskFrames: false,
};

/** Throws RangeError unless the shapes are consistent (positive integers, heads divide C). */
export function validateMdmConfig(c: MdmConfig, where = "MDM config"): MdmConfig {
  for (const k of ["nfeats", "latentDim", "layers", "ffSize", "heads", "textDim"] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) {
      throw new RangeError(`Cannot use ${where}: ${k} must be a positive integer, got ${c[k]}`);
    }
  }
  if (c.latentDim % c.heads !== 0) {
    throw new RangeError(
      `Cannot use ${where}: latentDim ${c.latentDim} is not divisible by heads ${c.heads}`,
    );
  }
  if (c.latentDim % 2 !== 0) {
    throw new RangeError(`Cannot use ${where}: latentDim ${c.latentDim} must be even (sin/cos pe)`);
  }
  return c;
}

/**
 * Reads the network shape from MDM's `args.json` fields: `dataset` (humanml | kit), `latent_dim`,
 * `layers`, `mask_frames`; `ff_size` and `heads` (or `num_heads`) when present (MDM itself never
 * writes them: it hard-codes 1024 and 4). `arch` must be trans_enc and `text_encoder_type`, when
 * present, clip.
 */
export function mdmConfigFromArgs(args: Record<string, unknown>, file = "args.json"): MdmConfig {
  const fail = (detail: string): never => {
    throw new TypeError(`Cannot read MDM config from "${file}": ${detail}`);
  };
  const num = (key: string, fallback: number): number => {
    const v = args[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number") return fail(`${key} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  if (args.arch !== undefined && args.arch !== "trans_enc") {
    fail(`arch "${args.arch}" is not supported (only trans_enc)`);
  }
  if (args.text_encoder_type !== undefined && args.text_encoder_type !== "clip") {
    fail(`text_encoder_type "${args.text_encoder_type}" is not supported (only clip)`);
  }
  const dataset = args.dataset ?? "humanml";
  if (typeof dataset !== "string" || !(dataset in NFEATS_BY_DATASET)) {
    fail(`dataset ${JSON.stringify(dataset)} is not one of ${Object.keys(NFEATS_BY_DATASET)}`);
  }
  const mask = args.mask_frames ?? false;
  if (typeof mask !== "boolean") fail(`mask_frames must be a boolean, got ${JSON.stringify(mask)}`);
  return validateMdmConfig({
    nfeats: NFEATS_BY_DATASET[dataset as string],
    latentDim: num("latent_dim", MDM_DEFAULTS.latentDim),
    layers: num("layers", MDM_DEFAULTS.layers),
    ffSize: num("ff_size", MDM_DEFAULTS.ffSize),
    heads: num("heads", num("num_heads", MDM_DEFAULTS.heads)),
    textDim: MDM_DEFAULTS.textDim,
    maskFrames: mask as boolean,
  }, `MDM config from "${file}"`);
}

/** State-dict key prefix of encoder layer `i`. */
export function layerPrefix(i: number): string {
  return `seqTransEncoder.layers.${i}`;
}

/**
 * Parameter names and shapes, in PyTorch's `named_parameters()` order for MDM (input_process,
 * seqTransEncoder, embed_timestep, embed_text, output_process). Buffers are not included.
 */
export function mdmParamShapes(c: MdmConfig): Map<string, number[]> {
  const C = c.latentDim, FF = c.ffSize;
  const m = new Map<string, number[]>();
  m.set("input_process.poseEmbedding.weight", [C, c.nfeats]);
  m.set("input_process.poseEmbedding.bias", [C]);
  for (let i = 0; i < c.layers; i++) {
    const p = layerPrefix(i);
    m.set(`${p}.self_attn.in_proj_weight`, [3 * C, C]);
    m.set(`${p}.self_attn.in_proj_bias`, [3 * C]);
    m.set(`${p}.self_attn.out_proj.weight`, [C, C]);
    m.set(`${p}.self_attn.out_proj.bias`, [C]);
    m.set(`${p}.linear1.weight`, [FF, C]);
    m.set(`${p}.linear1.bias`, [FF]);
    m.set(`${p}.linear2.weight`, [C, FF]);
    m.set(`${p}.linear2.bias`, [C]);
    m.set(`${p}.norm1.weight`, [C]);
    m.set(`${p}.norm1.bias`, [C]);
    m.set(`${p}.norm2.weight`, [C]);
    m.set(`${p}.norm2.bias`, [C]);
  }
  m.set("embed_timestep.time_embed.0.weight", [C, C]);
  m.set("embed_timestep.time_embed.0.bias", [C]);
  m.set("embed_timestep.time_embed.2.weight", [C, C]);
  m.set("embed_timestep.time_embed.2.bias", [C]);
  m.set("embed_text.weight", [C, c.textDim]);
  m.set("embed_text.bias", [C]);
  m.set("output_process.poseFinal.weight", [c.nfeats, C]);
  m.set("output_process.poseFinal.bias", [c.nfeats]);
  return m;
}

/** The two names MDM saves its sinusoidal table under (the same tensor, shape (L, 1, C)). */
export const PE_KEYS = ["sequence_pos_encoder.pe", "embed_timestep.sequence_pos_encoder.pe"];

/** Rows of the sinusoidal table when a checkpoint carries none (MDM's max_len). */
export const PE_MAX_LEN = 5000;
