/**
 * A deterministic bag-of-words text featurizer: no vocabulary, no learned weights.
 *
 * Each word (lower-cased, punctuation and symbols removed, split on white space) gets a fixed
 * random unit vector: D standard normals from `Rng(seed, fnv1a32(word))`, normalised. A text's
 * feature is the mean of its words' vectors, normalised to unit length (a text without words
 * gives the zero vector, which is also what MDM feeds for an unconditional sample).
 *
 * Word order is ignored, so "walk then turn" and "turn then walk" coincide: this is a baseline to
 * exercise pretraining, not a replacement for a trained text encoder.
 * @module
 */
import { Rng } from "../../kernels/rng/philox.ts";
import type { TextFeaturizer } from "./text_featurizer.ts";

/** 32-bit FNV-1a of the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Words of a caption: lower-cased, punctuation and symbols stripped, split on white space. */
export function captionWords(text: string): string[] {
  return text.toLowerCase().replace(/[\p{P}\p{S}]+/gu, "").split(/\s+/u).filter((w) => w !== "");
}

/** See the module doc. */
export class HashedBagOfWords implements TextFeaturizer {
  readonly name = "hashed_bow";
  readonly dim: number;
  readonly seed: number;
  readonly params: Readonly<Record<string, number>>;
  readonly #cache = new Map<string, Float32Array>();

  /**
   * @param dim feature dimension D (512 matches MDM's CLIP width, so `embed_text` keeps its shape)
   * @param seed u32 seed of the word vectors
   */
  constructor(dim = 512, seed = 0) {
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new RangeError(
        `Cannot create HashedBagOfWords: dim must be a positive integer, got ${dim}`,
      );
    }
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`Cannot create HashedBagOfWords: seed ${seed} is not a u32 integer`);
    }
    this.dim = dim;
    this.seed = seed;
    this.params = { seed };
  }

  /** The unit vector of one (already normalised) word. */
  wordVector(word: string): Float32Array {
    let v = this.#cache.get(word);
    if (v) return v;
    const rng = new Rng(this.seed, fnv1a32(word));
    const g = new Float64Array(this.dim);
    let ss = 0;
    for (let i = 0; i < this.dim; i++) {
      g[i] = rng.normal();
      ss += g[i] * g[i];
    }
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    v = Float32Array.from(g, (x) => x * inv); // (D)
    this.#cache.set(word, v);
    return v;
  }

  encode(texts: string[]): Float32Array {
    const D = this.dim;
    const out = new Float32Array(texts.length * D); // (N, D)
    const acc = new Float64Array(D);
    texts.forEach((text, n) => {
      acc.fill(0);
      for (const w of captionWords(text)) {
        const v = this.wordVector(w);
        for (let i = 0; i < D; i++) acc[i] += v[i];
      }
      // Normalising the sum equals normalising the mean.
      let ss = 0;
      for (let i = 0; i < D; i++) ss += acc[i] * acc[i];
      if (ss === 0) return;
      const inv = 1 / Math.sqrt(ss);
      for (let i = 0; i < D; i++) out[n * D + i] = acc[i] * inv;
    });
    return out;
  }
}
