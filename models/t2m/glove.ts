/**
 * GloVe word vectors as the T2M release ships them (`glove/` of MDM's `prepare/download_glove.sh`):
 * `<prefix>_data.npy` (V, 300) float32, `<prefix>_words.pkl` (a pickled list of words) and
 * `<prefix>_idx.pkl` (a pickled dict word → row), with prefix `our_vab`.
 *
 * As in the T2M `WordVectorizer`, the vocabulary is the words list: a word in the dict but not in
 * the list has no vector. The pickles are read by the safe unpickler (no globals allowed).
 * @module
 */
import { loadNpy, npyToFloat32 } from "../../datasets/npy.ts";
import { unpickle } from "../../io/pickle/mod.ts";

/** The word the T2M code falls back to for out-of-vocabulary words. */
export const UNKNOWN_WORD = "unk";

/** A loaded GloVe vocabulary. */
export class GloveVectors {
  /** Vector width (300 for the release). */
  readonly dim: number;
  /** Where the files came from, for messages. */
  readonly source: string;
  readonly #vectors: Float32Array; // (V, dim)
  readonly #rows: Map<string, number>;

  /**
   * @param vectors (V, dim) row-major
   * @param dim vector width
   * @param rows word → row of `vectors`
   * @param source folder or description used in messages
   */
  constructor(vectors: Float32Array, dim: number, rows: Map<string, number>, source: string) {
    const v = vectors.length / dim;
    for (const [word, row] of rows) {
      if (!Number.isInteger(row) || row < 0 || row >= v) {
        throw new RangeError(
          `Cannot use GloVe vectors "${source}": word "${word}" points to row ${row}, the ` +
            `vectors have ${v} rows`,
        );
      }
    }
    if (!rows.has(UNKNOWN_WORD)) {
      throw new TypeError(
        `Cannot use GloVe vectors "${source}": the vocabulary lacks "${UNKNOWN_WORD}", which ` +
          "stands for every unknown word",
      );
    }
    this.dim = dim;
    this.source = source;
    this.#vectors = vectors;
    this.#rows = rows;
  }

  /** Number of words with a vector. */
  get size(): number {
    return this.#rows.size;
  }

  /** Whether `word` has a vector (exact, case-sensitive match). */
  has(word: string): boolean {
    return this.#rows.has(word);
  }

  /** The row of `word` in the vector table, or undefined. */
  row(word: string): number | undefined {
    return this.#rows.get(word);
  }

  /** The vector (dim) of `word` (a view, do not modify), or undefined when out of vocabulary. */
  vector(word: string): Float32Array | undefined {
    const r = this.#rows.get(word);
    return r === undefined ? undefined : this.#vectors.subarray(r * this.dim, (r + 1) * this.dim);
  }
}

async function readPickle(path: string): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Deno.errors.NotFound(
      `Cannot load GloVe vocabulary: cannot read "${path}" (${(e as Error).message}); ` +
        "download it with MDM's prepare/download_glove.sh",
    );
  }
  return unpickle(bytes, { name: path });
}

/**
 * Loads `<dir>/<prefix>_data.npy`, `_words.pkl` and `_idx.pkl`.
 *
 * @example
 * ```ts ignore
 * const glove = await loadGlove("assets/glove");
 * glove.vector("walk"); // Float32Array(300)
 * ```
 */
export async function loadGlove(dir: string, prefix = "our_vab"): Promise<GloveVectors> {
  const base = `${dir.replace(/\/+$/, "")}/${prefix}`;
  const dataPath = `${base}_data.npy`;
  let arr;
  try {
    arr = await loadNpy(dataPath);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Deno.errors.NotFound(
      `Cannot load GloVe vectors: "${dataPath}" does not exist; download the glove folder with ` +
        "MDM's prepare/download_glove.sh",
    );
  }
  if (arr.shape.length !== 2) {
    throw new TypeError(
      `Cannot load GloVe vectors "${dataPath}": expected shape (V, dim), found (${arr.shape})`,
    );
  }
  const [v, dim] = arr.shape;
  const vectors = npyToFloat32(arr, dataPath); // (V, dim)

  const wordsPath = `${base}_words.pkl`, idxPath = `${base}_idx.pkl`;
  const words = await readPickle(wordsPath);
  if (!Array.isArray(words) || words.some((w) => typeof w !== "string")) {
    throw new TypeError(`Cannot load GloVe vocabulary "${wordsPath}": expected a list of str`);
  }
  const idx = await readPickle(idxPath);
  if (!(idx instanceof Map)) {
    throw new TypeError(`Cannot load GloVe vocabulary "${idxPath}": expected a dict str → int`);
  }
  const rows = new Map<string, number>();
  for (const w of words as string[]) {
    const r = idx.get(w);
    if (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r >= v) {
      throw new RangeError(
        `Cannot load GloVe vocabulary "${idxPath}": word "${w}" of ${wordsPath} maps to ` +
          `${String(r)}, not a row of the (${v}, ${dim}) vectors`,
      );
    }
    rows.set(w, r);
  }
  return new GloveVectors(vectors, dim, rows, dir);
}
