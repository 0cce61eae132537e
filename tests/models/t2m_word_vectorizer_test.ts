import assert from "node:assert/strict";
import { loadNpy, npyToFloat32 } from "../../datasets/npy.ts";
import { asStateDict, loadTorchFile } from "../../models/checkpoint/torch_pt.ts";
import { loadGlove } from "../../models/t2m/glove.ts";
import {
  approximateTokens,
  CaptionTokenizer,
  captionTokenMap,
  readCaptionTokenMap,
  taggedLineTokens,
  UnknownCaptionError,
} from "../../models/t2m/caption_tokens.ts";
import {
  T2M_POS_CATEGORIES,
  T2M_POS_DIM,
  t2mPosIndex,
  T2mWordVectorizer,
} from "../../models/t2m/word_vectorizer.ts";

const GOLDEN = new URL("../golden/t2m/", import.meta.url).pathname;
const CASES = JSON.parse(await Deno.readTextFile(`${GOLDEN}cases.json`)) as {
  token_cases: string[][];
  words: string[];
};

async function vectors(): Promise<Float32Array> {
  return npyToFloat32(await loadNpy(`${GOLDEN}glove/our_vab_data.npy`)); // (V, 300)
}

function rowOf(table: Float32Array, r: number, W = 300): Float32Array {
  return table.subarray(r * W, (r + 1) * W);
}

Deno.test("loadGlove() reads protocol 2 and 4 pickles and keeps only the listed words", async () => {
  const table = await vectors();
  for (const dir of ["glove", "glove_p4"]) {
    const g = await loadGlove(`${GOLDEN}${dir}`);
    assert.equal(g.dim, 300);
    assert.equal(g.size, CASES.words.length);
    // 'ghost' has a row in the idx dict but is not in the words list: the T2M code ignores it.
    assert.equal(g.has("ghost"), false);
    assert.equal(g.vector("ghost"), undefined);
    // Rows are shuffled in the fixture: the vector must come from the idx dict's row.
    const r = g.row("walk")!;
    assert.notEqual(r, CASES.words.indexOf("walk"));
    assert.deepEqual(Array.from(g.vector("walk")!), Array.from(rowOf(table, r)));
  }
});

Deno.test("loadGlove() names the missing file", async () => {
  await assert.rejects(
    () => loadGlove(`${GOLDEN}no_such_glove`),
    /our_vab_data\.npy" does not exist; download the glove folder/,
  );
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.copyFile(`${GOLDEN}glove/our_vab_data.npy`, `${tmp}/our_vab_data.npy`);
    await Deno.copyFile(`${GOLDEN}glove/our_vab_words.pkl`, `${tmp}/our_vab_words.pkl`);
    await assert.rejects(() => loadGlove(tmp), /cannot read ".*our_vab_idx\.pkl"/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("t2mPosIndex() follows the 15 T2M categories; unknown tags are OTHER", () => {
  assert.equal(T2M_POS_DIM, 15);
  assert.equal(t2mPosIndex("VERB"), 0);
  assert.equal(t2mPosIndex("ADV"), 8);
  assert.equal(t2mPosIndex("Loc_VIP"), 9);
  assert.equal(t2mPosIndex("Desc_VIP"), 13);
  assert.equal(t2mPosIndex("OTHER"), 14);
  assert.equal(t2mPosIndex("PROPN"), 14);
  assert.equal(t2mPosIndex("verb"), 14); // case-sensitive, as the dict lookup in the original
});

Deno.test("T2mWordVectorizer.vectorize() applies VIP classes and the unk fallback", async () => {
  const v = new T2mWordVectorizer(await loadGlove(`${GOLDEN}glove`));
  const pos = (t: string) => T2M_POS_CATEGORIES[v.vectorize(t).pos];
  assert.equal(pos("person/NOUN"), "NOUN");
  assert.equal(pos("a/DET"), "DET");
  assert.equal(pos("walk/VERB"), "Act_VIP"); // VIP class overrides the tag
  assert.equal(pos("forward/ADV"), "Loc_VIP");
  assert.equal(pos("up/ADP"), "Loc_VIP");
  assert.equal(pos("hand/NOUN"), "Body_VIP");
  assert.equal(pos("chair/NOUN"), "Obj_VIP");
  assert.equal(pos("slowly/ADV"), "Desc_VIP");
  assert.equal(pos("the/PROPN"), "OTHER"); // tag outside the 15
  // Out of vocabulary: unk's vector and OTHER, even for a VIP word or a known tag.
  const unk = v.glove.vector("unk")!;
  for (const t of ["kneel/VERB", "zzz/NOUN", "A/DET", "ghost/NOUN"]) {
    const r = v.vectorize(t);
    assert.equal(T2M_POS_CATEGORIES[r.pos], "OTHER", t);
    assert.deepEqual(Array.from(r.vector), Array.from(unk), t);
  }
  assert.throws(() => v.vectorize("walk"), /Cannot vectorise token "walk": expected word\/POS/);
});

Deno.test("T2mWordVectorizer.batch() matches the PyTorch-side vectoriser on every token", async () => {
  const table = await vectors();
  const ref = asStateDict(await loadTorchFile(`${GOLDEN}reference.pt`), "reference.pt");
  const rows = ref.get("word_rows")!.data as BigInt64Array; // (B, 22)
  const onehot = ref.get("pos_onehot")!.data as Float32Array; // (B, 22, 15)
  const lengths = ref.get("text_lengths")!.data as BigInt64Array; // (B)
  const v = new T2mWordVectorizer(await loadGlove(`${GOLDEN}glove`));
  const b = v.batch(CASES.token_cases);
  assert.equal(b.L, 22);
  assert.deepEqual(Array.from(b.lengths), Array.from(lengths, Number));
  // Exact equality: both sides copy the same float32 rows and write exact 0/1.
  assert.deepEqual(Array.from(b.posOnehot), Array.from(onehot));
  for (let i = 0; i < rows.length; i++) {
    const got = b.wordEmbs.subarray(i * 300, (i + 1) * 300);
    assert.deepEqual(Array.from(got), Array.from(rowOf(table, Number(rows[i]))), `token ${i}`);
  }
});

Deno.test("T2mWordVectorizer.batch() pads with sos/eos/unk and cuts at 20 tokens", async () => {
  const v = new T2mWordVectorizer(await loadGlove(`${GOLDEN}glove`));
  const words = (n: number) => Array.from({ length: n }, () => "walk/VERB");
  const b = v.batch([words(1), words(19), words(20), words(25)]);
  assert.deepEqual(Array.from(b.lengths), [3, 21, 22, 22]);
  assert.deepEqual(b.tokens[0].slice(0, 4), ["sos/OTHER", "walk/VERB", "eos/OTHER", "unk/OTHER"]);
  assert.equal(b.tokens[0].length, 22);
  assert.deepEqual(b.tokens[1].slice(19), ["walk/VERB", "eos/OTHER", "unk/OTHER"]);
  assert.equal(b.tokens[3][21], "eos/OTHER");
  // 20 and 25 tokens give the same inputs: the first 20 are kept.
  const row = (n: number) => Array.from(b.wordEmbs.subarray(n * 22 * 300, (n + 1) * 22 * 300));
  assert.deepEqual(row(3), row(2));
  // sos/eos/unk are OTHER.
  const other = T2M_POS_CATEGORIES.indexOf("OTHER");
  for (const l of [0, 2, 3, 21]) assert.equal(b.posOnehot[l * 15 + other], 1, `slot ${l}`);
});

Deno.test("CaptionTokenizer resolves HumanML3D lines, known captions, then the policy", async () => {
  const tagged = "a/DET person/NOUN walk/VERB";
  assert.deepEqual(taggedLineTokens(`A person walks.#${tagged}#0.0#0.0`), tagged.split(" "));
  assert.deepEqual(taggedLineTokens(`A person walks.#${tagged}`), tagged.split(" "));
  assert.equal(taggedLineTokens("a person #1 walks"), null);
  assert.deepEqual(approximateTokens("A T-pose, then walks  left!"), [
    "A/OTHER",
    "Tpose/OTHER",
    "then/OTHER",
    "walks/OTHER",
    "left/OTHER",
  ]);

  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/000001.txt`,
      `A person walks.#${tagged}#0.0#0.0\nsomeone jumps#someone/PRON jump/VERB#1.0#2.0\n`,
    );
    await Deno.writeTextFile(`${dir}/000002.txt`, "a person walks.#a/DET person/NOUN#0.0#0.0\n");
    const map = await readCaptionTokenMap(dir);
    assert.equal(map.size, 2);
    const tk = new CaptionTokenizer(map);
    // Case and blanks are ignored; the first file in name order wins.
    assert.deepEqual(tk.tokens("  a person   WALKS. "), {
      tokens: tagged.split(" "),
      source: "map",
    });
    assert.equal(tk.tokens("someone jumps").tokens.join(" "), "someone/PRON jump/VERB");
    assert.equal(tk.tokens("a person runs").source, "approximate");
    assert.equal(tk.approximated, 1);
    const strict = new CaptionTokenizer(map, "error");
    assert.throws(() => strict.tokens("a person runs"), UnknownCaptionError);
    assert.throws(() => strict.tokens("a person runs"), /not in the caption → tokens map \(2/);
    assert.equal(strict.tokens(`x#${tagged}`).source, "line");
    await Deno.writeTextFile(`${dir}/000003.txt`, "broken line without fields\n");
    await assert.rejects(() => readCaptionTokenMap(dir), /000003\.txt:1: expected caption#tokens/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(captionTokenMap([]).size, 0);
  assert.throws(
    () => new CaptionTokenizer(new Map(), "guess" as "error"),
    /unknown policy "guess"/,
  );
});
