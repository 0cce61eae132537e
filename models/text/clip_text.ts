/**
 * CLIP ViT-B/32 text features, the conditioning of official MDM checkpoints
 * (GuyTevet/motion-diffusion-model `model/mdm.py` `encode_text`), from a local ONNX export of
 * HF's CLIPTextModelWithProjection (assets.ts) run by onnxruntime-web.
 *
 * MDM's rule for HumanML3D/KIT (`max_text_len` 20): tokens = [start] + BPE(text) + [end]; when
 * longer than 22, keep the first 22 and make the last one the end token; pad with zeros to 22,
 * then with zeros to CLIP's context of 77. The feature is CLIP's projected embedding at the end
 * token (`text_embeds`, float32, NOT normalised). Padding follows the end token, so under CLIP's
 * causal mask it cannot change the feature; the attention mask, when the export has one, is all
 * ones as in OpenAI's model (no padding mask).
 *
 * Differences from the original that remain: the HF tokenizer.json cleans text with NFC,
 * whitespace collapsing and lowercasing, without OpenAI's `ftfy.fix_text`/`html.unescape` (same
 * ids for plain captions); MDM runs CLIP with float16 weights on the GPU, an fp32 export differs
 * from that by float16 rounding (about 1e-3 relative).
 *
 * Features are memoised by text for the featurizer's lifetime; `name` records the SHA-256 of the
 * ONNX file, so run configs and result files name the exact model.
 * @module
 */
import type { TextFeaturizer } from "../../rewards/encoder.ts";
import type { OnnxDevice, OnnxSession } from "../../onnx/session.ts";
import { TextAssetError, type TextModelFiles } from "./assets.ts";
import type { HfTokenizer } from "./hf_tokenizer.ts";
import { type OpenedTextModel, openTextModel } from "./onnx_text_model.ts";

/** MDM's `max_text_len` for HumanML3D and KIT. */
export const MDM_MAX_TEXT_LEN = 20;
/** CLIP's context length (`default_context_length` in MDM). */
export const CLIP_CONTEXT_LENGTH = 77;
/** Texts per ONNX run. */
const CHUNK = 32;

/**
 * MDM's CLIP token row for one text: `[sot] + bpe + [eot]`, truncated to `maxTextLen + 2` with the
 * last token set to `eot`, zero-padded to `contextLength`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mdmClipTokens } from "./clip_text.ts";
 * const row = mdmClipTokens([5, 6, 7], 98, 99, 2, 6);
 * assert.deepEqual([...row], [98n, 5n, 6n, 99n, 0n, 0n]); // 7 dropped, 99 last
 * ```
 */
export function mdmClipTokens(
  bpe: readonly number[],
  sot: number,
  eot: number,
  maxTextLen = MDM_MAX_TEXT_LEN,
  contextLength = CLIP_CONTEXT_LENGTH,
): BigInt64Array {
  const keep = maxTextLen + 2;
  if (!Number.isInteger(maxTextLen) || maxTextLen < 0 || keep > contextLength) {
    throw new RangeError(
      `Cannot tokenize for CLIP: max text length ${maxTextLen} + 2 must fit the context ` +
        `length ${contextLength}`,
    );
  }
  const tokens = [sot, ...bpe, eot];
  if (tokens.length > keep) {
    tokens.length = keep;
    tokens[keep - 1] = eot;
  }
  const row = new BigInt64Array(contextLength); // (contextLength) zero padding
  tokens.forEach((t, i) => row[i] = BigInt(t));
  return row;
}

/** Options of {@linkcode ClipTextFeaturizer.load}. */
export interface ClipTextOptions {
  /** The files; default located under `$MOTION_GRPO_ASSETS` (assets.ts). */
  files?: TextModelFiles;
  /** onnxruntime-web backend (default "wasm"). */
  device?: OnnxDevice;
  /** MDM's max_text_len (default 20). */
  maxTextLen?: number;
}

/** CLIP text features as MDM computes them; see the module doc. */
export class ClipTextFeaturizer implements TextFeaturizer {
  /** `clip@sha256:<hex of the ONNX file>`. */
  readonly name: string;
  readonly dim: number;
  /** What the features depend on, for run configs. */
  readonly params: Readonly<{
    model: string;
    sha256: string;
    tokenizer: string;
    max_text_len: number;
    context_length: number;
  }>;
  readonly #session: OnnxSession;
  readonly #tokenizer: HfTokenizer;
  readonly #sot: number;
  readonly #eot: number;
  readonly #memo = new Map<string, Float32Array>(); // text → (dim)
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(model: OpenedTextModel, maxTextLen: number, dim: number) {
    const { session, tokenizer, files, sha256 } = model;
    this.#session = session;
    this.#tokenizer = tokenizer;
    this.#sot = tokenizer.tokenId("<|startoftext|>");
    this.#eot = tokenizer.tokenId("<|endoftext|>");
    this.dim = dim;
    this.name = `clip@sha256:${sha256}`;
    this.params = {
      model: files.model,
      sha256,
      tokenizer: files.tokenizer,
      max_text_len: maxTextLen,
      context_length: CLIP_CONTEXT_LENGTH,
    };
  }

  /** Opens the ONNX model and tokenizer; checks the graph's names and learns `dim`. */
  static load(opts: ClipTextOptions = {}): Promise<ClipTextFeaturizer> {
    const maxTextLen = opts.maxTextLen ?? MDM_MAX_TEXT_LEN;
    const graph = {
      label: "CLIP",
      inputs: ["input_ids"],
      output: "text_embeds",
      outputHint: "export CLIPTextModelWithProjection",
    };
    return openTextModel("clip", opts, graph, async (model) => {
      const probe = await runClip(model.session, new BigInt64Array(CLIP_CONTEXT_LENGTH), 1);
      return new ClipTextFeaturizer(model, maxTextLen, probe.length);
    });
  }

  /** The (77) token row MDM feeds CLIP for `text`. */
  tokenize(text: string): BigInt64Array {
    const bpe = this.#tokenizer.encodeBare(text);
    return mdmClipTokens(bpe, this.#sot, this.#eot, this.params.max_text_len);
  }

  /** Features (N, dim) of N texts (memoised by text). */
  encode(texts: readonly string[]): Promise<Float32Array> {
    // One ONNX run at a time: concurrent callers wait their turn.
    const job = this.#queue.then(() => this.#encode(texts));
    this.#queue = job.catch(() => {});
    return job;
  }

  async #encode(texts: readonly string[]): Promise<Float32Array> {
    const D = this.dim, L = CLIP_CONTEXT_LENGTH;
    const todo = [...new Set(texts.filter((t) => !this.#memo.has(t)))];
    for (let at = 0; at < todo.length; at += CHUNK) {
      const part = todo.slice(at, at + CHUNK);
      const ids = new BigInt64Array(part.length * L); // (n, 77)
      part.forEach((t, i) => ids.set(this.tokenize(t), i * L));
      const emb = await runClip(this.#session, ids, part.length); // (n, D)
      if (emb.length !== part.length * D) {
        throw new TextAssetError(
          `Cannot use CLIP model "${this.params.model}": text_embeds has ${emb.length} values ` +
            `for ${part.length} texts of ${D}`,
        );
      }
      part.forEach((t, i) => this.#memo.set(t, emb.slice(i * D, (i + 1) * D)));
    }
    const out = new Float32Array(texts.length * D); // (N, D)
    texts.forEach((t, i) => out.set(this.#memo.get(t)!, i * D));
    return out;
  }

  /** Computes and memoises the features of `texts` now; `encode` reports any error later. */
  prefetch(texts: readonly string[]): void {
    this.encode(texts).catch(() => {});
  }

  /** Frees the ONNX session. */
  release(): Promise<void> {
    return this.#session.release();
  }
}

/** text_embeds (n, D) of token rows `ids` (n, 77). */
async function runClip(session: OnnxSession, ids: BigInt64Array, n: number): Promise<Float32Array> {
  const L = ids.length / n;
  const feeds: Record<string, { data: BigInt64Array; dims: number[] }> = {
    input_ids: { data: ids, dims: [n, L] },
  };
  if (session.inputNames.includes("attention_mask")) {
    feeds.attention_mask = { data: new BigInt64Array(n * L).fill(1n), dims: [n, L] };
  }
  const out = await session.run(feeds);
  const emb = out.text_embeds;
  if (!(emb.data instanceof Float32Array) || emb.dims.length !== 2 || emb.dims[0] !== n) {
    throw new TextAssetError(
      `Cannot use the CLIP model: text_embeds has shape [${emb.dims}], expected [${n}, D] ` +
        "float32",
    );
  }
  return emb.data;
}

/**
 * Why CLIP features `f` cannot condition a model with args.json `args` (null when they can): the
 * width must equal `clip_dim` (MDM's default 512), and a SHA-256 recorded as
 * `text_featurizer.sha256` must match the ONNX file's.
 */
export function clipMismatch(
  f: { dim: number; params: { sha256: string } },
  args: Record<string, unknown>,
): string | null {
  const want = typeof args.clip_dim === "number" ? args.clip_dim : 512;
  if (f.dim !== want) return `it gives ${f.dim} features, the model takes ${want} (clip_dim)`;
  const tf = args.text_featurizer as { sha256?: unknown } | undefined;
  if (
    tf && typeof tf === "object" && typeof tf.sha256 === "string" && tf.sha256 !== f.params.sha256
  ) {
    return `its SHA-256 is ${f.params.sha256}, the model was trained with ${tf.sha256}`;
  }
  return null;
}
