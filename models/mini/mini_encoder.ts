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
import { encodeTmrMotions, engineTmrMu, type TmrMu } from "../tmr/encode_motions.ts";
import type { MiniModelConfig } from "./config.ts";
import { WordFeaturizer } from "./word_featurizer.ts";

/** Texts encoded per forward pass (bounds activation memory). */
const CHUNK = 32;

/** Mu (N, D) of texts through a text encoder (engine or ONNX), in chunks. */
async function encodeTextsWith(
  enc: TmrMu,
  words: WordFeaturizer,
  texts: readonly string[],
): Promise<Float32Array> {
  const D = enc.latentDim;
  const out = new Float32Array(texts.length * D); // (N, D)
  for (let at = 0; at < texts.length; at += CHUNK) {
    const wf = words.featurize(texts.slice(at, at + CHUNK)); // x (n, L, Dw)
    out.set(await enc.mu(wf.x, wf.lengths, wf.N, wf.L), at * D);
  }
  return out;
}

/** The mini text encoder as the denoiser's text conditioning: mu (N, D) per text. */
export class MiniTextFeaturizer implements TextFeaturizer {
  readonly name: string;
  readonly dim: number;
  readonly #enc: TmrMu;
  readonly #words: WordFeaturizer;

  /** `text`: the engine's encoder, or any {@linkcode TmrMu} (an ONNX session, onnx_encoder.ts). */
  constructor(name: string, text: TmrEncoder | TmrMu, words: WordFeaturizer) {
    const enc = engineTmrMu(text);
    checkWords(name, enc, words);
    this.name = name;
    this.dim = enc.latentDim;
    this.#enc = enc;
    this.#words = words;
  }

  /** Mu (N, dim) of N texts. */
  encode(texts: readonly string[]): Promise<Float32Array> {
    return encodeTextsWith(this.#enc, this.#words, texts);
  }

  /** Frees the encoder's session, if it has one. */
  async release(): Promise<void> {
    await this.#enc.release?.();
  }
}

function checkWords(name: string, text: TmrMu, words: WordFeaturizer): void {
  if (text.nfeats !== words.dim) {
    throw new RangeError(
      `Cannot create ${name}: the text encoder reads ${text.nfeats} features, ` +
        `words have ${words.dim}`,
    );
  }
}

/** A mini text–motion encoder pair; see the module doc. */
export class MiniEncoder implements TextMotionEncoder {
  readonly name: string;
  readonly dim: number;
  readonly #text: TmrMu;
  readonly #motion: TmrMu;
  readonly #words: WordFeaturizer;
  readonly #mean: Float32Array; // (F)
  readonly #std: Float32Array; // (F)

  /** `text`/`motion`: the engine's encoders, or {@linkcode TmrMu}s (ONNX, onnx_encoder.ts). */
  constructor(
    name: string,
    text: TmrEncoder | TmrMu,
    motion: TmrEncoder | TmrMu,
    words: WordFeaturizer,
    stats: { mean: Float32Array; std: Float32Array },
  ) {
    const t = engineTmrMu(text), m = engineTmrMu(motion);
    const F = m.nfeats;
    if (stats.mean.length !== F || stats.std.length !== F) {
      throw new RangeError(
        `Cannot create ${name}: statistics have ${stats.mean.length}/${stats.std.length} ` +
          `entries, the motion encoder reads ${F} features`,
      );
    }
    if (t.latentDim !== m.latentDim) {
      throw new RangeError(
        `Cannot create ${name}: text latent ${t.latentDim} differs from motion ` +
          `latent ${m.latentDim}`,
      );
    }
    checkWords(name, t, words);
    this.name = name;
    this.dim = t.latentDim;
    this.#text = t;
    this.#motion = m;
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

  /** Frees the encoders' sessions, if they have any. */
  async release(): Promise<void> {
    await this.#text.release?.();
    await this.#motion.release?.();
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
