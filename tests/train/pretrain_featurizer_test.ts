/** The hashed bag-of-words text featurizer: hashing, tokenising, determinism, normalisation. */
import assert from "node:assert/strict";
import {
  captionWords,
  fnv1a32,
  HashedBagOfWords,
} from "../../train/pretrain/hashed_bag_of_words.ts";
import { assertClose } from "../_util.ts";

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

Deno.test("fnv1a32() matches the published FNV-1a test vectors", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
});

Deno.test("captionWords() lower-cases and strips punctuation", () => {
  assert.deepEqual(captionWords("A person walks, then TURNS left!"), [
    "a",
    "person",
    "walks",
    "then",
    "turns",
    "left",
  ]);
  assert.deepEqual(captionWords("  the person's arm.  "), ["the", "persons", "arm"]);
  assert.deepEqual(captionWords("..."), []);
});

Deno.test("HashedBagOfWords.encode() gives unit rows, equal for equal word bags", () => {
  const f = new HashedBagOfWords(64, 7);
  const x = f.encode(["a person walks forward.", "Forward walks a PERSON", "jump", ""]);
  assert.equal(x.length, 4 * 64);
  const row = (i: number) => x.subarray(i * 64, (i + 1) * 64);
  assertClose([dot(row(0), row(0)), dot(row(2), row(2))], [1, 1], 1e-6, 0, "norms");
  assertClose(row(1), row(0), 1e-7, 0, "word order and case are ignored");
  assert.ok(Math.abs(dot(row(0), row(2))) < 0.5, "different words give distinct features");
  assert.ok(row(3).every((v) => v === 0), "no words give the zero vector");
});

Deno.test("HashedBagOfWords is the normalised mean of its word vectors, fixed by the seed", () => {
  const f = new HashedBagOfWords(32, 3);
  const a = f.wordVector("walk"), b = f.wordVector("jump");
  const expect = a.map((v, i) => v + b[i]);
  const norm = Math.sqrt(dot(expect, expect));
  assertClose(f.encode(["walk jump"]), expect.map((v) => v / norm), 1e-6, 0, "mean");
  assertClose(new HashedBagOfWords(32, 3).encode(["walk"]), a, 0, 0, "same seed, same vector");
  const other = new HashedBagOfWords(32, 4).encode(["walk"]);
  assert.ok(Math.abs(dot(other, a)) < 0.9, "another seed gives another vector");
  assert.throws(() => new HashedBagOfWords(0, 0), RangeError);
});
