/**
 * DistilBERT (`distilbert-base-uncased`) token features, the text input of the official TMR
 * encoders (Mathux/TMR `TextToEmb`: the tokenizer with padding, the model's `last_hidden_state`
 * of EVERY token including [CLS] and [SEP], each text's length = its attention-mask sum), from a
 * local ONNX export (assets.ts) run by onnxruntime-web.
 *
 * Token ids: `[CLS] + wordpieces + [SEP]`; a text longer than the model's positions (512) keeps
 * its first `maxLength - 2` pieces (HF truncation of a single sequence). A batch is zero-padded to
 * its longest text with the attention mask, so the valid rows of each text are those it has
 * alone (up to float rounding).
 *
 * No memo here (768 floats per token would grow without bound over a dataset); callers memoise
 * what they derive (official_tmr.ts keeps each text's embedding).
 * @module
 */
import type { OnnxDevice, OnnxSession } from "../../onnx/session.ts";
import { TextAssetError, type TextModelFiles } from "./assets.ts";
import type { HfTokenizer } from "./hf_tokenizer.ts";
import { type OpenedTextModel, openTextModel } from "./onnx_text_model.ts";

/** DistilBERT's position table size (`max_position_embeddings`). */
export const DISTILBERT_MAX_LENGTH = 512;

/**
 * `[cls] + pieces + [sep]`, keeping the first `maxLength - 2` pieces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bertTokens } from "./distilbert.ts";
 * assert.deepEqual(bertTokens([7, 8, 9], 101, 102, 4), [101, 7, 8, 102]);
 * ```
 */
export function bertTokens(
  pieces: readonly number[],
  cls: number,
  sep: number,
  maxLength = DISTILBERT_MAX_LENGTH,
): number[] {
  if (!Number.isInteger(maxLength) || maxLength < 2) {
    throw new RangeError(`Cannot tokenize for BERT: max length ${maxLength} must be >= 2`);
  }
  return [cls, ...pieces.slice(0, maxLength - 2), sep];
}

/** Hidden states of a batch of texts. */
export interface TokenFeatures {
  /** Rows of valid tokens, zero after each length. */
  x: Float32Array; // (N, L, dim)
  /** Tokens per text, [CLS] and [SEP] included. */
  lengths: Int32Array; // (N)
  N: number;
  /** The longest length. */
  L: number;
  dim: number;
}

/** Options of {@linkcode DistilBertFeaturizer.load}. */
export interface DistilBertOptions {
  /** The files; default located under `$MOTION_GRPO_ASSETS` (assets.ts). */
  files?: TextModelFiles;
  /** onnxruntime-web backend (default "wasm"). */
  device?: OnnxDevice;
  /** Tokens per text at most, specials included (default 512, the model's positions). */
  maxLength?: number;
}

/** DistilBERT last hidden states per token; see the module doc. */
export class DistilBertFeaturizer {
  /** `distilbert@sha256:<hex of the ONNX file>`. */
  readonly name: string;
  /** Hidden width (768). */
  readonly dim: number;
  readonly maxLength: number;
  /** The ONNX file and its SHA-256. */
  readonly params: Readonly<{ model: string; sha256: string; tokenizer: string }>;
  readonly #session: OnnxSession;
  readonly #tokenizer: HfTokenizer;
  readonly #cls: number;
  readonly #sep: number;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(model: OpenedTextModel, maxLength: number, dim: number) {
    const { session, tokenizer, files, sha256 } = model;
    this.#session = session;
    this.#tokenizer = tokenizer;
    this.#cls = tokenizer.tokenId("[CLS]");
    this.#sep = tokenizer.tokenId("[SEP]");
    this.maxLength = maxLength;
    this.dim = dim;
    this.name = `distilbert@sha256:${sha256}`;
    this.params = { model: files.model, sha256, tokenizer: files.tokenizer };
  }

  /** Opens the ONNX model and tokenizer; checks the graph's names and learns `dim`. */
  static load(opts: DistilBertOptions = {}): Promise<DistilBertFeaturizer> {
    const graph = {
      label: "DistilBERT",
      inputs: ["input_ids", "attention_mask"],
      output: "last_hidden_state",
    };
    return openTextModel("distilbert", opts, graph, async (model) => {
      const cls = model.tokenizer.tokenId("[CLS]"), sep = model.tokenizer.tokenId("[SEP]");
      const ids = BigInt64Array.of(BigInt(cls), BigInt(sep));
      const probe = await runBert(model.session, ids, [2], 2);
      return new DistilBertFeaturizer(
        model,
        opts.maxLength ?? DISTILBERT_MAX_LENGTH,
        probe.length / 2,
      );
    });
  }

  /** The token ids of `text`, specials included. */
  tokenize(text: string): number[] {
    return bertTokens(this.#tokenizer.encodeBare(text), this.#cls, this.#sep, this.maxLength);
  }

  /** Hidden states of `texts` as one zero-padded batch (call with a bounded batch). */
  features(texts: readonly string[]): Promise<TokenFeatures> {
    const job = this.#queue.then(() => this.#features(texts));
    this.#queue = job.catch(() => {});
    return job;
  }

  async #features(texts: readonly string[]): Promise<TokenFeatures> {
    const N = texts.length, W = this.dim;
    const rows = texts.map((t) => this.tokenize(t));
    const lengths = Int32Array.from(rows, (r) => r.length); // (N)
    const L = Math.max(1, ...lengths);
    if (N === 0) return { x: new Float32Array(0), lengths, N, L, dim: W };
    const ids = new BigInt64Array(N * L); // (N, L) zero padding
    rows.forEach((r, i) => r.forEach((id, j) => ids[i * L + j] = BigInt(id)));
    const hidden = await runBert(this.#session, ids, lengths, L); // (N, L, W)
    if (hidden.length !== N * L * W) {
      throw new TextAssetError(
        `Cannot use DistilBERT model "${this.params.model}": last_hidden_state has ` +
          `${hidden.length} values, expected ${N}x${L}x${W}`,
      );
    }
    const x = new Float32Array(N * L * W); // (N, L, W), padded rows stay zero
    for (let i = 0; i < N; i++) {
      x.set(hidden.subarray(i * L * W, (i * L + lengths[i]) * W), i * L * W);
    }
    return { x, lengths, N, L, dim: W };
  }

  /** Frees the ONNX session. */
  release(): Promise<void> {
    return this.#session.release();
  }
}

/** last_hidden_state (n, L, W) of `ids` (n, L) whose row i has `lengths[i]` valid tokens. */
async function runBert(
  session: OnnxSession,
  ids: BigInt64Array,
  lengths: ArrayLike<number>,
  L: number,
): Promise<Float32Array> {
  const n = lengths.length;
  const mask = new BigInt64Array(n * L); // (n, L) 1 on valid tokens
  for (let i = 0; i < n; i++) mask.fill(1n, i * L, i * L + lengths[i]);
  const out = await session.run({
    input_ids: { data: ids, dims: [n, L] },
    attention_mask: { data: mask, dims: [n, L] },
  });
  const h = out.last_hidden_state;
  if (!(h.data instanceof Float32Array) || h.dims.length !== 3 || h.dims[0] !== n) {
    throw new TextAssetError(
      `Cannot use the DistilBERT model: last_hidden_state has shape [${h.dims}], expected ` +
        `[${n}, ${L}, W] float32`,
    );
  }
  return h.data;
}
