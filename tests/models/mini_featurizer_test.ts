import assert from "node:assert/strict";
import {
  fnv1a32,
  splitWords,
  WordFeaturizer,
  wordVector,
} from "../../models/mini/word_featurizer.ts";
import { assertClose } from "../_util.ts";

Deno.test("fnv1a32() matches the published FNV-1a test vectors", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
});

Deno.test("splitWords() lower-cases, strips punctuation and splits on spaces", () => {
  assert.deepEqual(splitWords("A man's  Left-hand waves, twice!"), [
    "a",
    "mans",
    "left",
    "hand",
    "waves",
    "twice",
  ]);
  assert.deepEqual(splitWords("  ...  "), []);
});

Deno.test("WordFeaturizer is deterministic and distinguishes words", () => {
  const a = new WordFeaturizer(32, 24), b = new WordFeaturizer(32, 24);
  const fa = a.featurize(["a person walks forward.", "Someone jumps"]);
  const fb = b.featurize(["a person walks forward.", "Someone jumps"]);
  assert.deepEqual(fa.x, fb.x);
  assert.deepEqual([...fa.lengths], [4, 2]);
  assert.equal(fa.L, 4);
  // Punctuation and case do not change a word's vector.
  assertClose(wordVector("walks"), a.featurize(["WALKS!"]).x, 0, 0, "walks");
  // Different words get clearly different (nearly orthogonal) vectors.
  const words = ["left", "right", "walks", "jumps", "waves", "kicks"];
  const vs = words.map((w) => wordVector(w, 32));
  for (let i = 0; i < vs.length; i++) {
    for (let j = i + 1; j < vs.length; j++) {
      let dot = 0, ni = 0, nj = 0;
      for (let c = 0; c < 32; c++) {
        dot += vs[i][c] * vs[j][c];
        ni += vs[i][c] ** 2;
        nj += vs[j][c] ** 2;
      }
      const cos = dot / Math.sqrt(ni * nj);
      assert.ok(Math.abs(cos) < 0.8, `${words[i]} vs ${words[j]}: cos ${cos}`);
    }
  }
  // Padding after each text's length is zero.
  const pad = fa.x.subarray((1 * fa.L + 2) * 32, 2 * fa.L * 32);
  assert.ok(pad.every((v) => v === 0));
});

Deno.test("WordFeaturizer keeps at most maxWords words and handles empty texts", () => {
  const f = new WordFeaturizer(8, 3);
  const r = f.featurize(["one two three four five", ""]);
  assert.deepEqual([...r.lengths], [3, 0]);
  assert.equal(r.L, 3);
  assert.equal(r.x.length, 2 * 3 * 8);
  assert.ok(r.x.subarray(3 * 8).every((v) => v === 0));
});
