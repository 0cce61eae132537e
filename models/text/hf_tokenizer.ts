/**
 * HuggingFace `tokenizer.json` files read by `@huggingface/tokenizers` (a plain-JS copy of the
 * Rust `tokenizers` pipeline: normalizer, pre-tokenizer, model). Only the bare token ids are
 * taken from it; special tokens, truncation and padding follow the original code of each model
 * and are applied by the callers (clip_text.ts, distilbert.ts), so a `truncation` or `padding`
 * section in the file has no effect.
 * @module
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { TextAssetError } from "./assets.ts";

/** A loaded tokenizer.json. */
export class HfTokenizer {
  readonly #tok: Tokenizer;
  /** The file it came from (for messages). */
  readonly file: string;

  /** Wraps a parsed tokenizer.json (`file` names it in messages). */
  constructor(json: unknown, file = "tokenizer.json") {
    if (typeof json !== "object" || json === null || !("model" in json)) {
      throw new TextAssetError(`Cannot load tokenizer "${file}": it has no "model" section`);
    }
    try {
      this.#tok = new Tokenizer(json, {});
    } catch (e) {
      throw new TextAssetError(`Cannot load tokenizer "${file}": ${(e as Error).message}`, {
        cause: e,
      });
    }
    this.file = file;
  }

  /** Reads and parses `path`. */
  static async load(path: string): Promise<HfTokenizer> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      throw new TextAssetError(`Cannot read tokenizer "${path}": ${(e as Error).message}`, {
        cause: e,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new TextAssetError(`Cannot parse tokenizer "${path}": ${(e as Error).message}`, {
        cause: e,
      });
    }
    return new HfTokenizer(json, path);
  }

  /** Token ids of `text` without any special token (normalised, pre-tokenized, model). */
  encodeBare(text: string): number[] {
    return this.#tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** The id of a vocabulary or added token; throws naming the file when it is absent. */
  tokenId(token: string): number {
    const id = this.#tok.token_to_id(token);
    if (id === undefined) {
      throw new TextAssetError(`Cannot use tokenizer "${this.file}": it has no token ${token}`);
    }
    return id;
  }
}
