/**
 * The official T2M evaluator of Guo et al. (MDM's `EvaluatorMDMWrapper`) as a
 * {@linkcode TextMotionEncoder}: `finest.tar` converted to ONNX (onnx/t2m_evaluator.ts) and run
 * by onnxruntime-web, GloVe + POS inputs (word_vectorizer.ts), and the evaluator's own motion
 * statistics (`t2m_mean.npy`/`t2m_std.npy`, not the dataset's Mean/Std).
 *
 * Motions come in RAW (un-normalised 263-dim HumanML3D features); they are normalised with the
 * evaluator statistics, frames past each length are zero (in normalised units, as the HumanML3D
 * loader pads ground truth to 196 frames: the result equals that protocol exactly, since at
 * least 4 zero frames follow every motion), the 4 foot contacts are dropped, and the motion
 * encoder runs over `floor(length / 4)` movement steps. Lengths below 4 frames have no movement
 * step and are refused, as PyTorch's packed GRU refuses them. (MDM scores generated motions with
 * whatever the model produced past the length, so its numbers on generated motions can differ
 * slightly from ours, which ignore those frames as the TextMotionEncoder contract requires.)
 *
 * Texts: see caption_tokens.ts for how a string becomes `word/POS` tokens; {@linkcode
 * OfficialT2mEvaluator.encodeTokens} takes token lists directly (the exact protocol for
 * HumanML3D captions).
 * @module
 */
import { loadNpy, npyToFloat32 } from "../../datasets/npy.ts";
import {
  convertT2mEvaluator,
  loadT2mEvaluator,
  T2M_UNIT_LENGTH,
} from "../../onnx/t2m_evaluator.ts";
import { createSession, type OnnxDevice, type OnnxSession } from "../../onnx/session.ts";
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import { checkMotionBatch } from "../motion_batch.ts";
import { CaptionTokenizer, type UnknownCaptionPolicy } from "./caption_tokens.ts";
import { loadGlove } from "./glove.ts";
import { T2M_POS_DIM, T2mWordVectorizer } from "./word_vectorizer.ts";

/** Rows per ONNX run (bounds activation memory: the real motion GRU is 1024 wide). */
const CHUNK = 64;

/** Options of {@linkcode loadOfficialT2mEvaluator}. */
export interface OfficialT2mEvaluatorOptions {
  /** `t2m/text_mot_match/model/finest.tar`. */
  evaluatorPath: string;
  /** Folder with `our_vab_data.npy`, `our_vab_words.pkl`, `our_vab_idx.pkl`. */
  gloveDir: string;
  /** The evaluator's feature mean (MDM `dataset/t2m_mean.npy`), (263). */
  meanPath: string;
  /** The evaluator's feature std (MDM `dataset/t2m_std.npy`), (263). */
  stdPath: string;
  /** onnxruntime-web backend. */
  device: OnnxDevice;
  /** Caption → `word/POS` tokens, e.g. from `readCaptionTokenMap` (caption_tokens.ts). */
  captionTokens?: ReadonlyMap<string, readonly string[]>;
  /** What to do with a caption that has no known tokens (default "approximate", warned once). */
  unknownCaptions?: UnknownCaptionPolicy;
}

/** The evaluator pair; see the module doc. */
export class OfficialT2mEvaluator implements TextMotionEncoder {
  readonly name = "t2m-evaluator";
  readonly dim: number;
  /** Raw feature width F (263 for HumanML3D). */
  readonly features: number;
  readonly vectorizer: T2mWordVectorizer;
  readonly tokenizer: CaptionTokenizer;
  readonly #text: OnnxSession;
  readonly #motion: OnnxSession;
  readonly #mean: Float32Array; // (F)
  readonly #std: Float32Array; // (F)
  #warned = false;

  /** Use {@linkcode loadOfficialT2mEvaluator}; the sessions belong to the new object. */
  constructor(parts: {
    text: OnnxSession;
    motion: OnnxSession;
    dim: number;
    mean: Float32Array;
    std: Float32Array;
    vectorizer: T2mWordVectorizer;
    tokenizer: CaptionTokenizer;
  }) {
    this.dim = parts.dim;
    this.features = parts.mean.length;
    this.vectorizer = parts.vectorizer;
    this.tokenizer = parts.tokenizer;
    this.#text = parts.text;
    this.#motion = parts.motion;
    this.#mean = parts.mean;
    this.#std = parts.std;
  }

  /** Embeddings (N, D) of N texts: HumanML3D lines or captions (see caption_tokens.ts). */
  // async: tokenisation errors reject the promise like every other failure here.
  // deno-lint-ignore require-await
  async encodeTexts(texts: readonly string[]): Promise<Float32Array> {
    const resolved = texts.map((t) => this.tokenizer.tokens(t));
    const approximated = texts.filter((_, i) => resolved[i].source === "approximate");
    if (approximated.length > 0 && !this.#warned) {
      this.#warned = true;
      console.warn(
        `T2M evaluator: ${approximated.length} caption(s) (e.g. "${approximated[0]}") are not ` +
          "in the caption → tokens map; their tokens are approximated without a POS tagger " +
          "(words as written, POS OTHER), so their embeddings differ from the official " +
          "pipeline's. Shown once; see tokenizer.approximated for the running count.",
      );
    }
    const tokens = resolved.map((r) => r.tokens);
    return this.encodeTokens(tokens);
  }

  /** Embeddings (N, D) of N `word/POS` token lists (unpadded, as in HumanML3D text files). */
  async encodeTokens(tokenLists: readonly (readonly string[])[]): Promise<Float32Array> {
    const N = tokenLists.length, D = this.dim;
    const out = new Float32Array(N * D); // (N, D)
    for (let at = 0; at < N; at += CHUNK) {
      const b = this.vectorizer.batch(tokenLists.slice(at, at + CHUNK));
      const W = this.vectorizer.dim;
      const { embedding } = await this.#text.run({
        word_embs: { data: b.wordEmbs, dims: [b.N, b.L, W] },
        pos_onehot: { data: b.posOnehot, dims: [b.N, b.L, T2M_POS_DIM] },
        lengths: { data: BigInt64Array.from(b.lengths, (l) => BigInt(l)), dims: [b.N] },
      });
      out.set(embedding.data as Float32Array, at * D);
    }
    return out;
  }

  /**
   * Embeddings (N, D) of N raw motions `features` (N, T, F) with `lengths` (N) valid frames,
   * each in [4, T]. Frames past a length are never read.
   */
  async encodeMotions(
    features: Float32Array,
    lengths: ArrayLike<number>,
    N: number,
    T: number,
  ): Promise<Float32Array> {
    const F = this.features, D = this.dim;
    checkMotionBatch(
      features,
      lengths,
      N,
      T,
      F,
      T2M_UNIT_LENGTH,
      "the evaluator needs one movement step of 4 frames",
    );
    const out = new Float32Array(N * D); // (N, D)
    for (let at = 0; at < N; at += CHUNK) {
      const n = Math.min(CHUNK, N - at);
      const lens = Array.from({ length: n }, (_, i) => lengths[at + i]);
      // The two stride-2 convolutions let the last movement step see up to 2 frames past
      // 4*floor(len/4); padding by 4 zero frames gives what the evaluator computes on motions
      // zero-padded to 196 frames (padding only at the input is not the same: the first
      // convolution's output past the end would then be zero instead of its bias and edge).
      const Tc = Math.max(...lens) + T2M_UNIT_LENGTH;
      const x = new Float32Array(n * Tc * F); // (n, Tc, F), zero past each length
      for (let i = 0; i < n; i++) {
        for (let t = 0; t < lens[i]; t++) {
          const src = ((at + i) * T + t) * F, dst = (i * Tc + t) * F;
          for (let c = 0; c < F; c++) {
            x[dst + c] = (features[src + c] - this.#mean[c]) / this.#std[c];
          }
        }
      }
      const { embedding } = await this.#motion.run({
        motion: { data: x, dims: [n, Tc, F] },
        lengths: { data: BigInt64Array.from(lens, (l) => BigInt(l)), dims: [n] },
      });
      out.set(embedding.data as Float32Array, at * D);
    }
    return out;
  }

  /** Frees both ONNX sessions. */
  async release(): Promise<void> {
    await this.#text.release();
    await this.#motion.release();
  }
}

async function loadStat(path: string, what: string): Promise<Float32Array> {
  let arr;
  try {
    arr = await loadNpy(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Deno.errors.NotFound(
      `Cannot load the T2M evaluator: its feature ${what} "${path}" does not exist (MDM ships ` +
        `it as dataset/t2m_${what}.npy; the HumanML3D Mean.npy/Std.npy are different statistics ` +
        "and must not be used instead)",
    );
  }
  if (arr.shape.length !== 1) {
    throw new TypeError(
      `Cannot load the T2M evaluator ${what} "${path}": expected shape (F), found (${arr.shape})`,
    );
  }
  return Float32Array.from(npyToFloat32(arr, path));
}

/** The feature width the converted motion graph reads: conv input + 4 foot contacts. */
function motionFeatures(movementConvIn: number): number {
  return movementConvIn + 4;
}

/**
 * Loads the official evaluator: converts `finest.tar` to ONNX in memory, opens the sessions on
 * `device`, reads GloVe and the statistics, and checks that the sizes agree.
 *
 * @example
 * ```ts ignore
 * const ev = await loadOfficialT2mEvaluator({
 *   evaluatorPath: `${root}/t2m/text_mot_match/model/finest.tar`,
 *   gloveDir: `${root}/glove`,
 *   meanPath: `${root}/dataset/t2m_mean.npy`,
 *   stdPath: `${root}/dataset/t2m_std.npy`,
 *   device: "wasm",
 *   captionTokens: await readCaptionTokenMap(`${root}/dataset/HumanML3D/texts`), // caption_tokens.ts
 * });
 * const e = await ev.encodeTexts(["a person walks forward"]); // (1, 512)
 * ```
 */
export async function loadOfficialT2mEvaluator(
  opts: OfficialT2mEvaluatorOptions,
): Promise<OfficialT2mEvaluator> {
  const where = `Cannot load the T2M evaluator "${opts.evaluatorPath}"`;
  const exists = await Deno.stat(opts.evaluatorPath).then(() => true, () => false);
  if (!exists) {
    throw new Deno.errors.NotFound(
      `${where}: the file does not exist (MDM's prepare/download_t2m_evaluators.sh puts it at ` +
        "t2m/text_mot_match/model/finest.tar)",
    );
  }
  const weights = await loadT2mEvaluator(opts.evaluatorPath);
  const glove = await loadGlove(opts.gloveDir);
  const mean = await loadStat(opts.meanPath, "mean");
  const std = await loadStat(opts.stdPath, "std");

  const conv = weights.movementEncoder.get("main.0.weight");
  const posEmb = weights.textEncoder.get("pos_emb.weight"); // (W, P)
  const out3 = weights.textEncoder.get("output_net.3.weight"); // (D, H)
  const motOut = weights.motionEncoder.get("output_net.3.weight");
  if (!conv || !posEmb || !out3 || !motOut) {
    throw new TypeError(`${where}: missing movement/text/motion encoder weights`);
  }
  const F = motionFeatures(conv.shape[1]);
  if (mean.length !== F || std.length !== F) {
    throw new RangeError(
      `${where}: the statistics have ${mean.length} (${opts.meanPath}) and ${std.length} ` +
        `(${opts.stdPath}) entries, the evaluator reads ${F} features`,
    );
  }
  if (std.some((s) => !(s > 0))) {
    throw new RangeError(`${where}: "${opts.stdPath}" holds a std that is not positive`);
  }
  if (posEmb.shape[0] !== glove.dim || posEmb.shape[1] !== T2M_POS_DIM) {
    throw new RangeError(
      `${where}: the text encoder reads ${posEmb.shape[0]}-dim words and ${posEmb.shape[1]} POS ` +
        `classes; GloVe "${opts.gloveDir}" has ${glove.dim}-dim vectors and there are ` +
        `${T2M_POS_DIM} classes`,
    );
  }
  if (out3.shape[0] !== motOut.shape[0]) {
    throw new RangeError(
      `${where}: text embeddings have ${out3.shape[0]} dims, motion embeddings ${motOut.shape[0]}`,
    );
  }
  const onnx = convertT2mEvaluator(weights);
  const text = await createSession(onnx.text, { device: opts.device });
  let motion: OnnxSession;
  try {
    motion = await createSession(onnx.motion, { device: opts.device });
  } catch (e) {
    await text.release();
    throw e;
  }
  return new OfficialT2mEvaluator({
    text,
    motion,
    dim: out3.shape[0],
    mean,
    std,
    vectorizer: new T2mWordVectorizer(glove),
    tokenizer: new CaptionTokenizer(opts.captionTokens, opts.unknownCaptions),
  });
}
