/**
 * Hyper-parameters and state-dict layout of TMR's `ACTORStyleEncoder` (Mathux/TMR,
 * `src/model/actor.py`; NUMERICS.md section 7).
 * @module
 */
import type { StateDict } from "../checkpoint/state_dict.ts";

/** Encoder hyper-parameters (TMR's names in comments). */
export interface TmrConfig {
  /** Input features per frame/token: 263 (HumanML3D motion), 768 (DistilBERT text). */
  nfeats: number;
  /** `latent_dim`, default 256. */
  latentDim: number;
  /** `ff_size`, default 1024. */
  ffSize: number;
  /** `num_layers`, 6 in TMR's config. */
  layers: number;
  /** `num_heads`, default 4. */
  heads: number;
  /** `vae`: two tokens (mu, logvar) when true, one (mu) when false. */
  vae: boolean;
}

/** TMR's motion encoder on HumanML3D features. */
export const TMR_MOTION_CONFIG: Readonly<TmrConfig> = {
  nfeats: 263,
  latentDim: 256,
  ffSize: 1024,
  layers: 6,
  heads: 4,
  vae: true,
};

/** TMR's text encoder on DistilBERT hidden states. */
export const TMR_TEXT_CONFIG: Readonly<TmrConfig> = { ...TMR_MOTION_CONFIG, nfeats: 768 };

/** Rows of TMR's sinusoidal table (`max_len`): longer sequences are an error there and here. */
export const TMR_PE_MAX_LEN = 5000;

/** State-dict prefix of encoder layer `i`. */
export function tmrLayerPrefix(i: number): string {
  return `seqTransEncoder.layers.${i}`;
}

/** Number of learned tokens prepended to the sequence. */
export function tmrTokenCount(cfg: TmrConfig): number {
  return cfg.vae ? 2 : 1;
}

/** Checks every field; returns `cfg`. Throws RangeError naming `where` and the field. */
export function validateTmrConfig(cfg: TmrConfig, where = "TMR config"): TmrConfig {
  for (const k of ["nfeats", "latentDim", "ffSize", "layers", "heads"] as const) {
    const v = cfg[k];
    if (!Number.isInteger(v) || v <= 0) {
      throw new RangeError(`Cannot use ${where}: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (cfg.latentDim % cfg.heads !== 0) {
    throw new RangeError(
      `Cannot use ${where}: latentDim ${cfg.latentDim} is not divisible by heads ${cfg.heads}`,
    );
  }
  if (cfg.latentDim % 2 !== 0) {
    throw new RangeError(`Cannot use ${where}: latentDim ${cfg.latentDim} must be even`);
  }
  if (typeof cfg.vae !== "boolean") {
    throw new TypeError(`Cannot use ${where}: vae must be a boolean, got ${cfg.vae}`);
  }
  return cfg;
}

/** Every parameter key with its shape, in TMR's state-dict order. */
export function tmrParamShapes(cfg: TmrConfig): Map<string, number[]> {
  const C = cfg.latentDim, FF = cfg.ffSize;
  const m = new Map<string, number[]>();
  m.set("tokens", [tmrTokenCount(cfg), C]);
  m.set("projection.weight", [C, cfg.nfeats]);
  m.set("projection.bias", [C]);
  for (let i = 0; i < cfg.layers; i++) {
    const p = tmrLayerPrefix(i);
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
  return m;
}

/**
 * The config a TMR encoder state dict implies: nfeats and latentDim from `projection.weight`,
 * vae from the rows of `tokens`, ffSize from layer 0's `linear1.weight`, layers by counting.
 * The head count is not recorded in the weights: it is `heads` (TMR's 4 by default).
 */
export function inferTmrConfig(sd: StateDict, heads = 4, file = "state dict"): TmrConfig {
  const need = (key: string, rank: number): number[] => {
    const t = sd.get(key);
    if (!t) throw new TypeError(`Cannot infer TMR config from "${file}": missing key ${key}`);
    if (t.shape.length !== rank) {
      throw new TypeError(
        `Cannot infer TMR config from "${file}": ${key} has shape [${t.shape}], ` +
          `expected ${rank} dimensions`,
      );
    }
    return t.shape;
  };
  const [C, nfeats] = need("projection.weight", 2);
  const [nTok] = need("tokens", 2);
  const [FF] = need(`${tmrLayerPrefix(0)}.linear1.weight`, 2);
  if (nTok !== 1 && nTok !== 2) {
    throw new TypeError(`Cannot infer TMR config from "${file}": tokens has ${nTok} rows, not 1|2`);
  }
  let layers = 0;
  while (sd.has(`${tmrLayerPrefix(layers)}.self_attn.in_proj_weight`)) layers++;
  return validateTmrConfig(
    { nfeats, latentDim: C, ffSize: FF, layers, heads, vae: nTok === 2 },
    `TMR config inferred from "${file}"`,
  );
}
