/**
 * The mini profile's word features, a stand-in for DistilBERT/CLIP token features: a text is
 * lower-cased, apostrophes are dropped, every other character that is not a letter, digit or
 * space becomes a space, and the result is split on whitespace. Each word maps to a fixed vector
 * of width Dw drawn from Philox (`Rng(fnv1a32(word), WORD_STREAM)`, standard normals), where
 * `fnv1a32` is the 32-bit FNV-1a hash of the word's UTF-8 bytes. No vocabulary file is needed
 * and an unseen word still gets a vector (two words share one only on a hash collision).
 * A text becomes a sequence (L, Dw) of its first `maxWords` words.
 * @module
 */
import { Rng } from "../../kernels/rng/philox.ts";

/** Philox stream of the word vectors ("WV"). */
export const WORD_STREAM = 0x5756;
/** Default word-vector width Dw. */
export const DEFAULT_WORD_DIM = 32;
/** Default (and largest used) number of words kept per text. */
export const DEFAULT_MAX_WORDS = 24;

const utf8 = new TextEncoder();

/** 32-bit FNV-1a hash of the UTF-8 bytes of `s` (offset basis 2166136261, prime 16777619). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of utf8.encode(s)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The words of `text`: lower-case, apostrophes dropped, other punctuation as spaces. */
export function splitWords(text: string): string[] {
  return text.toLowerCase()
    .replace(/['\u2019]/g, "")
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter((w) => w !== "");
}

/** The fixed vector (Dw) of one word: Dw standard normals from `Rng(fnv1a32(word), WORD_STREAM)`. */
export function wordVector(word: string, dim = DEFAULT_WORD_DIM): Float32Array {
  const rng = new Rng(fnv1a32(word), WORD_STREAM);
  const v = new Float32Array(dim); // (Dw)
  for (let i = 0; i < dim; i++) v[i] = rng.normal();
  return v;
}

/** Word features of a batch of texts. */
export interface WordFeatures {
  /** (N, L, Dw) word vectors, zero after each text's length. */
  x: Float32Array;
  /** (N) words kept per text (0..L). */
  lengths: Int32Array;
  N: number;
  /** Longest kept text in the batch (at least 1, so the array is never empty). */
  L: number;
  dim: number;
}

/** Hash-seeded word features; see the module doc. Vectors are cached per word. */
export class WordFeaturizer {
  readonly dim: number;
  readonly maxWords: number;
  readonly #cache = new Map<string, Float32Array>();

  constructor(dim = DEFAULT_WORD_DIM, maxWords = DEFAULT_MAX_WORDS) {
    if (!Number.isInteger(dim) || dim <= 0 || !Number.isInteger(maxWords) || maxWords <= 0) {
      throw new RangeError(
        `Cannot create word featurizer: dim ${dim} and maxWords ${maxWords} must be positive integers`,
      );
    }
    this.dim = dim;
    this.maxWords = maxWords;
  }

  /** The vector (Dw) of `word` (already split and lower-cased). */
  vector(word: string): Float32Array {
    let v = this.#cache.get(word);
    if (!v) {
      v = wordVector(word, this.dim);
      this.#cache.set(word, v);
    }
    return v;
  }

  /** Features (N, L, Dw) of `texts`, L the longest kept text (words beyond maxWords dropped). */
  featurize(texts: readonly string[]): WordFeatures {
    const words = texts.map((t) => splitWords(t).slice(0, this.maxWords));
    const N = texts.length, D = this.dim;
    const L = Math.max(1, ...words.map((w) => w.length));
    const x = new Float32Array(N * L * D); // (N, L, Dw)
    const lengths = new Int32Array(N); // (N)
    for (let n = 0; n < N; n++) {
      lengths[n] = words[n].length;
      words[n].forEach((w, l) => x.set(this.vector(w), (n * L + l) * D));
    }
    return { x, lengths, N, L, dim: D };
  }
}
