/**
 * The mini profile's frozen encoders behind the reward and evaluation interfaces: a
 * TMR-architecture text encoder on hash-seeded word features ({@linkcode WordFeaturizer}) and a
 * motion encoder on raw HumanML3D features normalised with the encoder's own statistics
 * (`stats.safetensors`: `mean`, `std` of the train clips it learned from). Embeddings are the
 * encoders' mu (D = latent width).
 *
 * A model folder holds `text_encoder.pt`, `motion_encoder.pt` (TMR state-dict keys, readable by
 * `torch.load`), `stats.safetensors`, `config.json` and `build.json`; the text-only conditioning
 * encoder has no motion encoder or statistics.
 * @module
 */
import type { Backend } from "../../kernels/backend.ts";
import type { TextFeaturizer, TextMotionEncoder } from "../../rewards/encoder.ts";
import { toFloat32 } from "../checkpoint/state_dict.ts";
import { readSafetensors } from "../checkpoint/safetensors.ts";
import { loadStateDictFile } from "../checkpoint/torch_pt.ts";
import { TmrEncoder } from "../tmr/encoder.ts";
import { encodeTmrMotions } from "../tmr/encode_motions.ts";
import type { MiniModelConfig } from "./config.ts";
import { WordFeaturizer } from "./word_featurizer.ts";

/** Texts encoded per forward pass (bounds activation memory). */
const CHUNK = 32;

/** Mu (N, D) of texts through a text encoder, in chunks. */
async function encodeTextsWith(
  enc: TmrEncoder,
  words: WordFeaturizer,
  texts: readonly string[],
): Promise<Float32Array> {
  const be = enc.backend, D = enc.config.latentDim;
  const out = new Float32Array(texts.length * D); // (N, D)
  for (let at = 0; at < texts.length; at += CHUNK) {
    const part = texts.slice(at, at + CHUNK);
    const wf = words.featurize(part);
    const x = be.tensor([wf.N, wf.L, wf.dim], wf.x); // (n, L, Dw)
    try {
      const mu = await be.read(enc.forward(x, wf.lengths, wf.N, wf.L).mu);
      out.set(mu.subarray(0, wf.N * D), at * D);
    } finally {
      be.free(x);
    }
  }
  return out;
}

/** The mini text encoder as the denoiser's text conditioning: mu (N, D) per text. */
export class MiniTextFeaturizer implements TextFeaturizer {
  readonly name: string;
  readonly dim: number;
  readonly #enc: TmrEncoder;
  readonly #words: WordFeaturizer;

  constructor(name: string, text: TmrEncoder, words: WordFeaturizer) {
    if (text.config.nfeats !== words.dim) {
      throw new RangeError(
        `Cannot create ${name}: the text encoder reads ${text.config.nfeats} features, ` +
          `words have ${words.dim}`,
      );
    }
    this.name = name;
    this.dim = text.config.latentDim;
    this.#enc = text;
    this.#words = words;
  }

  /** Mu (N, dim) of N texts. */
  encode(texts: readonly string[]): Promise<Float32Array> {
    return encodeTextsWith(this.#enc, this.#words, texts);
  }
}

/** A mini text–motion encoder pair; see the module doc. */
export class MiniEncoder implements TextMotionEncoder {
  readonly name: string;
  readonly dim: number;
  readonly #text: TmrEncoder;
  readonly #motion: TmrEncoder;
  readonly #words: WordFeaturizer;
  readonly #mean: Float32Array; // (F)
  readonly #std: Float32Array; // (F)

  constructor(
    name: string,
    text: TmrEncoder,
    motion: TmrEncoder,
    words: WordFeaturizer,
    stats: { mean: Float32Array; std: Float32Array },
  ) {
    const F = motion.config.nfeats;
    if (stats.mean.length !== F || stats.std.length !== F) {
      throw new RangeError(
        `Cannot create ${name}: statistics have ${stats.mean.length}/${stats.std.length} ` +
          `entries, the motion encoder reads ${F} features`,
      );
    }
    if (text.config.latentDim !== motion.config.latentDim) {
      throw new RangeError(
        `Cannot create ${name}: text latent ${text.config.latentDim} differs from motion ` +
          `latent ${motion.config.latentDim}`,
      );
    }
    if (text.config.nfeats !== words.dim) {
      throw new RangeError(
        `Cannot create ${name}: the text encoder reads ${text.config.nfeats} features, ` +
          `words have ${words.dim}`,
      );
    }
    this.name = name;
    this.dim = text.config.latentDim;
    this.#text = text;
    this.#motion = motion;
    this.#words = words;
    this.#mean = stats.mean;
    this.#std = stats.std;
  }

  /** Mu (N, D) of N texts. */
  encodeTexts(texts: readonly string[]): Promise<Float32Array> {
    return encodeTextsWith(this.#text, this.#words, texts);
  }

  /**
   * Mu (N, D) of N raw motions `features` (N, T, F); frame t of motion n counts when
   * t < lengths[n]. Frames beyond the lengths are never read (the encoder input is zero there
   * and masked), so their contents cannot change the result.
   */
  encodeMotions(
    features: Float32Array,
    lengths: ArrayLike<number>,
    N: number,
    T: number,
  ): Promise<Float32Array> {
    return encodeTmrMotions(this.#motion, this.#mean, this.#std, features, lengths, N, T);
  }
}

/** Parses a model folder's `config.json`, naming the file on failure. */
export async function readMiniConfig(dir: string): Promise<MiniModelConfig> {
  const path = `${dir}/config.json`;
  let cfg: MiniModelConfig;
  try {
    cfg = JSON.parse(await Deno.readTextFile(path)) as MiniModelConfig;
  } catch (err) {
    throw new Deno.errors.NotFound(
      `Cannot load mini model "${dir}": cannot read ${path} (${(err as Error).message})`,
    );
  }
  if (!cfg.text_encoder || cfg.featurizer?.kind !== "fnv1a32-philox-words") {
    throw new TypeError(
      `Cannot load mini model "${dir}": ${path} lacks text_encoder or an fnv1a32-philox-words ` +
        "featurizer",
    );
  }
  return cfg;
}

/** Reads `mean` and `std` (F) from a folder's `stats.safetensors`. */
export async function readMiniStats(
  dir: string,
): Promise<{ mean: Float32Array; std: Float32Array }> {
  const path = `${dir}/stats.safetensors`;
  const sd = readSafetensors(await Deno.readFile(path), path);
  const mean = sd.get("mean"), std = sd.get("std");
  if (!mean || !std) {
    throw new TypeError(`Cannot load mini statistics "${path}": needs mean and std`);
  }
  return { mean: Float32Array.from(toFloat32(mean)), std: Float32Array.from(toFloat32(std)) };
}

async function loadEncoder(
  be: Backend,
  dir: string,
  file: string,
  cfg: MiniModelConfig["text_encoder"],
) {
  const path = `${dir}/${file}`;
  return TmrEncoder.fromStateDict(
    be,
    await loadStateDictFile(path),
    cfg,
    { maxBatch: CHUNK },
    path,
  );
}

/** The text–motion encoder pair in `dir` (reward model or evaluator) on backend `be`. */
export async function loadMiniEncoder(dir: string, be: Backend): Promise<TextMotionEncoder> {
  const cfg = await readMiniConfig(dir);
  if (!cfg.motion || !cfg.motion_encoder) {
    throw new TypeError(
      `Cannot load mini encoder pair "${dir}": its config.json says it has no motion encoder ` +
        "(a text-only folder: use loadMiniTextFeaturizer)",
    );
  }
  const words = new WordFeaturizer(cfg.featurizer.dim, cfg.featurizer.max_words);
  const text = await loadEncoder(be, dir, "text_encoder.pt", cfg.text_encoder);
  const motion = await loadEncoder(be, dir, "motion_encoder.pt", cfg.motion_encoder);
  return new MiniEncoder(`mini-${cfg.role}`, text, motion, words, await readMiniStats(dir));
}

/** The text encoder in `dir` as a {@linkcode TextFeaturizer} (mu, dim = latent width). */
export async function loadMiniTextFeaturizer(dir: string, be: Backend): Promise<TextFeaturizer> {
  const cfg = await readMiniConfig(dir);
  const words = new WordFeaturizer(cfg.featurizer.dim, cfg.featurizer.max_words);
  const text = await loadEncoder(be, dir, "text_encoder.pt", cfg.text_encoder);
  return new MiniTextFeaturizer(`mini-${cfg.role}-text`, text, words);
}
