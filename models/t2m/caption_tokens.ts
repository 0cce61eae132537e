/**
 * How a caption string becomes the `word/POS` tokens the T2M text encoder reads.
 *
 * HumanML3D ships the tokens next to each caption (`caption#word/POS ...#from#to`), produced by
 * spaCy (`en_core_web_sm`: words that are not alphabetic dropped, nouns and verbs lemmatised).
 * This version has no tagger, so a text is resolved in this order:
 * 1. a HumanML3D line (`caption#word/POS ...`, with or without `#from#to`): its tokens;
 * 2. a caption found in the caption → tokens map built from the dataset's text files
 *    ({@linkcode captionTokenMap}, {@linkcode readCaptionTokenMap}); lookups ignore case,
 *    surrounding blanks and repeated spaces;
 * 3. otherwise, by the `unknownCaptions` policy: `"error"` throws, `"approximate"` uses
 *    {@linkcode approximateTokens} (no lemmas, POS OTHER except for the VIP words, which the
 *    vectoriser tags by itself) and the caller warns once.
 * @module
 */
import { type Caption, parseCaptionFile } from "../../datasets/humanml/text.ts";

/** What to do with a caption that has no known tokens. */
export type UnknownCaptionPolicy = "approximate" | "error";

/** A caption was not found in the caption → tokens map and the policy is `"error"`. */
export class UnknownCaptionError extends Error {
  /** The caption that was not found. */
  readonly caption: string;
  /** Wraps the message; `caption` is kept for callers. */
  constructor(message: string, caption: string) {
    super(message);
    this.name = "UnknownCaptionError";
    this.caption = caption;
  }
}

/** The lookup key of a caption: lower case, trimmed, inner blanks collapsed. */
export function captionKey(caption: string): string {
  return caption.trim().replace(/\s+/g, " ").toLowerCase();
}

/** Caption → tokens map of parsed captions; the first tokens seen for a key win. */
export function captionTokenMap(captions: Iterable<Caption>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const c of captions) {
    const key = captionKey(c.caption);
    if (!map.has(key)) map.set(key, c.tokens);
  }
  return map;
}

/**
 * Reads every `*.txt` caption file in `textsDir` (HumanML3D's `texts/`) into a caption → tokens
 * map; a malformed file is an error naming its line.
 */
export async function readCaptionTokenMap(textsDir: string): Promise<Map<string, string[]>> {
  const names: string[] = [];
  for await (const e of Deno.readDir(textsDir)) {
    if (e.isFile && e.name.endsWith(".txt")) names.push(e.name);
  }
  names.sort(); // a fixed order, so that "first tokens win" does not depend on the file system
  const captions: Caption[] = [];
  for (const name of names) {
    const path = `${textsDir.replace(/\/+$/, "")}/${name}`;
    const parsed = parseCaptionFile(await Deno.readTextFile(path), path);
    if (!parsed.ok) throw new SyntaxError(`Cannot read caption tokens: ${parsed.error}`);
    captions.push(...parsed.captions);
  }
  return captionTokenMap(captions);
}

/**
 * The tokens of a HumanML3D line `caption#word/POS ...[#from#to]`, or null when `text` is not
 * one (no `#`, or a second field that is not all `word/POS`).
 */
export function taggedLineTokens(text: string): string[] | null {
  const fields = text.split("#");
  if (fields.length < 2) return null;
  const tokens = fields[1].trim().split(/\s+/).filter((t) => t !== "");
  if (tokens.length === 0 || tokens.some((t) => t.split("/").length !== 2)) return null;
  return tokens;
}

/**
 * Tokens of a plain caption without a tagger, imitating HumanML3D's preprocessing as far as
 * possible: hyphens removed, words split at anything that is not a letter, words kept as
 * written (no lemmatisation, so "walks" stays "walks"), POS `OTHER` for all.
 */
export function approximateTokens(caption: string): string[] {
  const words = caption.replaceAll("-", "").match(/\p{L}+/gu) ?? [];
  return words.map((w) => `${w}/OTHER`);
}

/** Resolves caption strings to tokens; see the module doc. */
export class CaptionTokenizer {
  readonly policy: UnknownCaptionPolicy;
  readonly #map: ReadonlyMap<string, readonly string[]>;
  /** Captions approximated so far (for the caller's one-time warning). */
  approximated = 0;

  /**
   * @param map caption → tokens (keys made with {@linkcode captionKey}; other keys are re-keyed)
   * @param policy what to do with an unknown caption
   */
  constructor(
    map: ReadonlyMap<string, readonly string[]> = new Map(),
    policy: UnknownCaptionPolicy = "approximate",
  ) {
    if (policy !== "approximate" && policy !== "error") {
      throw new TypeError(
        `Cannot create caption tokenizer: unknown policy "${policy}" (approximate, error)`,
      );
    }
    const keyed = new Map<string, readonly string[]>();
    for (const [k, v] of map) if (!keyed.has(captionKey(k))) keyed.set(captionKey(k), v);
    this.#map = keyed;
    this.policy = policy;
  }

  /** Number of known captions. */
  get size(): number {
    return this.#map.size;
  }

  /** Tokens of one text and where they came from. */
  tokens(text: string): { tokens: readonly string[]; source: "line" | "map" | "approximate" } {
    const line = taggedLineTokens(text);
    if (line !== null) return { tokens: line, source: "line" };
    const known = this.#map.get(captionKey(text));
    if (known !== undefined) return { tokens: known, source: "map" };
    if (this.policy === "error") {
      throw new UnknownCaptionError(
        `Cannot tokenise caption "${text}" for the T2M evaluator: it is not in the caption → ` +
          `tokens map (${this.#map.size} captions from the dataset's texts/), and there is no ` +
          'POS tagger; pass a HumanML3D line "caption#word/POS ...", or use unknownCaptions ' +
          '"approximate"',
        text,
      );
    }
    this.approximated++;
    return { tokens: approximateTokens(text), source: "approximate" };
  }
}
