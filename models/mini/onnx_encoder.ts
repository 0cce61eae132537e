/**
 * The mini profile's frozen encoders run as ONNX files on onnxruntime-web (onnx/session.ts: WASM
 * by default, WebGPU on request), the form every frozen network takes in the project. The files
 * come from `deno run -A cli/export_onnx.ts --model_dir DIR --output_dir OUT`
 * (`text_encoder.onnx`, and `motion_encoder.onnx` for an encoder pair; graph `x` (B, T, F) +
 * `lengths` int64 (B) → `mu`, `logvar`). Inputs are prepared exactly as on the engine
 * (mini_encoder.ts): texts through the same {@linkcode WordFeaturizer}, raw motions normalised
 * with the folder's `stats.safetensors` (`(x - mean) / (std + 1e-12)`), zero after each length.
 * Embeddings are mu (N, D).
 *
 * @example
 * ```ts ignore
 * import { loadMiniOnnxEncoder } from "./onnx_encoder.ts";
 * const enc = await loadMiniOnnxEncoder("assets/mini/tmr", { onnxDir: "out/onnx/tmr" });
 * const mu = await enc.encodeTexts(["a person walks forward"]); // (1, 64)
 * await enc.release();
 * ```
 * @module
 */
import type { TextFeaturizer, TextMotionEncoder } from "../../rewards/encoder.ts";
import { createSession, type OnnxDevice, type OnnxSession } from "../../onnx/session.ts";
import { checkMotionBatch } from "../motion_batch.ts";
import { normalizeTmrMotion } from "../tmr/normalize.ts";
import type { MiniModelConfig } from "./config.ts";
import { readMiniConfig, readMiniStats } from "./mini_encoder.ts";
import { WordFeaturizer } from "./word_featurizer.ts";

/** Rows encoded per session run (bounds activation memory; the engine path uses the same). */
const CHUNK = 32;

/** File names written by cli/export_onnx.ts for a mini model folder. */
export const MINI_ONNX_FILES = {
  text: "text_encoder.onnx",
  motion: "motion_encoder.onnx",
} as const;

/** Options of {@linkcode loadMiniOnnxEncoder} and {@linkcode loadMiniOnnxTextFeaturizer}. */
export interface MiniOnnxOptions {
  /** Folder holding the ONNX files; default the model folder itself. */
  onnxDir?: string;
  /** onnxruntime-web backend; default "wasm". */
  device?: OnnxDevice;
  /** WASM threads (see onnx/session.ts: fixed by the first WASM session of the process). */
  numThreads?: number;
}

/** One exported TMR encoder: its open session and the widths its config gives. */
export class OnnxTmrSide {
  constructor(
    readonly session: OnnxSession,
    readonly path: string,
    readonly nfeats: number,
    readonly latentDim: number,
  ) {}

  /** Mu (n, D) of `x` (n, L, F) with `lengths` (n) valid rows. */
  async mu(x: Float32Array, lengths: Int32Array, n: number, L: number): Promise<Float32Array> {
    const out = await this.session.run({
      x: { data: x, dims: [n, L, this.nfeats] },
      lengths: { data: BigInt64Array.from(lengths, (v) => BigInt(v)), dims: [n] },
    });
    const mu = out.mu;
    if (!(mu.data instanceof Float32Array) || mu.data.length !== n * this.latentDim) {
      throw new RangeError(
        `Cannot encode with ONNX model "${this.path}": mu has shape [${mu.dims.join(", ")}], ` +
          `expected [${n}, ${this.latentDim}]`,
      );
    }
    return mu.data;
  }
}

/** Opens the TMR encoder ONNX file `path` and checks its graph names. */
export async function openOnnxTmrSide(
  path: string,
  cfg: MiniModelConfig["text_encoder"],
  opts: MiniOnnxOptions,
): Promise<OnnxTmrSide> {
  const session = await createSession(path, { device: opts.device, numThreads: opts.numThreads });
  const missing = [
    ...["x", "lengths"].filter((n) => !session.inputNames.includes(n)).map((n) => `input ${n}`),
    ...(session.outputNames.includes("mu") ? [] : ["output mu"]),
  ];
  if (missing.length > 0) {
    await session.release();
    throw new TypeError(
      `Cannot use ONNX model "${path}": it has no ${missing.join(", ")} (export it with ` +
        "cli/export_onnx.ts)",
    );
  }
  return new OnnxTmrSide(session, path, cfg.nfeats, cfg.latentDim);
}

/** Mu (N, D) of texts through a text session, in chunks. */
async function encodeTextsWith(
  side: OnnxTmrSide,
  words: WordFeaturizer,
  texts: readonly string[],
): Promise<Float32Array> {
  const D = side.latentDim;
  const out = new Float32Array(texts.length * D); // (N, D)
  for (let at = 0; at < texts.length; at += CHUNK) {
    const wf = words.featurize(texts.slice(at, at + CHUNK)); // x (n, L, Dw)
    out.set(await side.mu(wf.x, wf.lengths, wf.N, wf.L), at * D);
  }
  return out;
}

/** The mini text encoder on ONNX as the denoiser's text conditioning: mu (N, D) per text. */
export class MiniOnnxTextFeaturizer implements TextFeaturizer {
  readonly name: string;
  readonly dim: number;
  readonly #text: OnnxTmrSide;
  readonly #words: WordFeaturizer;

  constructor(name: string, text: OnnxTmrSide, words: WordFeaturizer) {
    if (text.nfeats !== words.dim) {
      throw new RangeError(
        `Cannot create ${name}: the text encoder reads ${text.nfeats} features, words have ` +
          `${words.dim}`,
      );
    }
    this.name = name;
    this.dim = text.latentDim;
    this.#text = text;
    this.#words = words;
  }

  /** Mu (N, dim) of N texts. */
  encode(texts: readonly string[]): Promise<Float32Array> {
    return encodeTextsWith(this.#text, this.#words, texts);
  }

  /** Releases the ONNX session. */
  release(): Promise<void> {
    return this.#text.session.release();
  }
}

/** A mini text–motion encoder pair on ONNX; see the module doc. */
export class MiniOnnxEncoder implements TextMotionEncoder {
  readonly name: string;
  readonly dim: number;
  readonly #text: OnnxTmrSide;
  readonly #motion: OnnxTmrSide;
  readonly #words: WordFeaturizer;
  readonly #mean: Float32Array; // (F)
  readonly #std: Float32Array; // (F)

  constructor(
    name: string,
    text: OnnxTmrSide,
    motion: OnnxTmrSide,
    words: WordFeaturizer,
    stats: { mean: Float32Array; std: Float32Array },
  ) {
    const F = motion.nfeats;
    if (stats.mean.length !== F || stats.std.length !== F) {
      throw new RangeError(
        `Cannot create ${name}: statistics have ${stats.mean.length}/${stats.std.length} ` +
          `entries, the motion encoder reads ${F} features`,
      );
    }
    if (text.latentDim !== motion.latentDim) {
      throw new RangeError(
        `Cannot create ${name}: text latent ${text.latentDim} differs from motion latent ` +
          `${motion.latentDim}`,
      );
    }
    if (text.nfeats !== words.dim) {
      throw new RangeError(
        `Cannot create ${name}: the text encoder reads ${text.nfeats} features, words have ` +
          `${words.dim}`,
      );
    }
    this.name = name;
    this.dim = text.latentDim;
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
   * t < lengths[n]. Frames beyond the lengths are never read (the input is zero there and
   * masked), so their contents cannot change the result.
   */
  async encodeMotions(
    features: Float32Array,
    lengths: ArrayLike<number>,
    N: number,
    T: number,
  ): Promise<Float32Array> {
    const F = this.#motion.nfeats, D = this.dim;
    checkMotionBatch(features, lengths, N, T, F);
    const out = new Float32Array(N * D); // (N, D)
    for (let at = 0; at < N; at += CHUNK) {
      const n = Math.min(CHUNK, N - at);
      const lens = Int32Array.from({ length: n }, (_, i) => lengths[at + i]); // (n)
      // Cropped to the chunk's longest motion, as on the engine: padding never changes mu.
      const Tc = Math.max(1, ...lens);
      const x = new Float32Array(n * Tc * F); // (n, Tc, F), zero after each length
      for (let i = 0; i < n; i++) {
        const src = features.subarray((at + i) * T * F, ((at + i) * T + lens[i]) * F);
        x.set(normalizeTmrMotion(src, this.#mean, this.#std), i * Tc * F);
      }
      out.set(await this.#motion.mu(x, lens, n, Tc), at * D);
    }
    return out;
  }

  /** Releases both ONNX sessions. */
  async release(): Promise<void> {
    await this.#text.session.release();
    await this.#motion.session.release();
  }
}

/**
 * The text–motion encoder pair of model folder `dir` (its `config.json`, `stats.safetensors`)
 * on the ONNX files in `opts.onnxDir` (default `dir`).
 */
export async function loadMiniOnnxEncoder(
  dir: string,
  opts: MiniOnnxOptions = {},
): Promise<MiniOnnxEncoder> {
  const cfg = await readMiniConfig(dir);
  if (!cfg.motion || !cfg.motion_encoder) {
    throw new TypeError(
      `Cannot load mini encoder pair "${dir}": its config.json says it has no motion encoder ` +
        "(a text-only folder: use loadMiniOnnxTextFeaturizer)",
    );
  }
  const stats = await readMiniStats(dir);
  const onnxDir = opts.onnxDir ?? dir;
  const words = new WordFeaturizer(cfg.featurizer.dim, cfg.featurizer.max_words);
  const text = await openOnnxTmrSide(`${onnxDir}/${MINI_ONNX_FILES.text}`, cfg.text_encoder, opts);
  let motion: OnnxTmrSide;
  try {
    motion = await openOnnxTmrSide(
      `${onnxDir}/${MINI_ONNX_FILES.motion}`,
      cfg.motion_encoder,
      opts,
    );
  } catch (e) {
    await text.session.release();
    throw e;
  }
  try {
    return new MiniOnnxEncoder(`mini-${cfg.role}-onnx`, text, motion, words, stats);
  } catch (e) {
    await text.session.release();
    await motion.session.release();
    throw e;
  }
}

/** The text encoder of model folder `dir` on ONNX as a {@linkcode TextFeaturizer}. */
export async function loadMiniOnnxTextFeaturizer(
  dir: string,
  opts: MiniOnnxOptions = {},
): Promise<MiniOnnxTextFeaturizer> {
  const cfg = await readMiniConfig(dir);
  const words = new WordFeaturizer(cfg.featurizer.dim, cfg.featurizer.max_words);
  const path = `${opts.onnxDir ?? dir}/${MINI_ONNX_FILES.text}`;
  const text = await openOnnxTmrSide(path, cfg.text_encoder, opts);
  try {
    return new MiniOnnxTextFeaturizer(`mini-${cfg.role}-text-onnx`, text, words);
  } catch (e) {
    await text.session.release();
    throw e;
  }
}
