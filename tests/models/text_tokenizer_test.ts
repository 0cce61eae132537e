import assert from "node:assert/strict";
import { HfTokenizer } from "../../models/text/hf_tokenizer.ts";
import { mdmClipTokens } from "../../models/text/clip_text.ts";
import { bertTokens } from "../../models/text/distilbert.ts";
import { TextAssetError } from "../../models/text/assets.ts";
import { goldenFiles, readTextGolden } from "./_text_fixture.ts";

const golden = await readTextGolden();

Deno.test("mdmClipTokens() keeps 20 text tokens, ends with eot and pads to 77", () => {
  const short = mdmClipTokens([5, 6], 98, 99);
  assert.equal(short.length, 77);
  assert.deepEqual([...short.subarray(0, 5)], [98n, 5n, 6n, 99n, 0n]);
  assert.ok(short.subarray(4).every((v) => v === 0n));
  // Exactly 20 text tokens: nothing dropped, 22 tokens.
  const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
  const full = mdmClipTokens(twenty, 98, 99);
  assert.deepEqual([...full.subarray(0, 23)].map(Number), [98, ...twenty, 99, 0]);
  // 21 text tokens: 22 kept, the 21st replaced by eot (clip.tokenize(truncate=True)).
  const over = mdmClipTokens([...twenty, 21, 22], 98, 99);
  assert.deepEqual([...over.subarray(0, 23)].map(Number), [98, ...twenty, 99, 0]);
  assert.throws(() => mdmClipTokens([1], 98, 99, 76, 77), RangeError);
});

Deno.test("bertTokens() wraps in [CLS]/[SEP] and truncates the pieces", () => {
  assert.deepEqual(bertTokens([], 2, 3), [2, 3]);
  assert.deepEqual(bertTokens([7, 8, 9, 10], 2, 3, 5), [2, 7, 8, 9, 3]);
  assert.deepEqual(bertTokens([7, 8, 9], 2, 3, 5), [2, 7, 8, 9, 3]);
  assert.throws(() => bertTokens([7], 2, 3, 1), RangeError);
});

Deno.test("HfTokenizer reads the byte-level BPE tokenizer.json: merges by rank, lowercase, spaces", async () => {
  const tok = await HfTokenizer.load(goldenFiles("clip").tokenizer);
  const sot = tok.tokenId("<|startoftext|>"), eot = tok.tokenId("<|endoftext|>");
  assert.deepEqual([sot, eot], [71, 72]);
  for (const c of golden.clip.cases) {
    const row = mdmClipTokens(tok.encodeBare(c.text), sot, eot);
    assert.deepEqual([...row.subarray(0, c.ids.length)].map(Number), c.ids, c.text);
    assert.ok(row.subarray(c.ids.length).every((v) => v === 0n), `padding of ${c.text}`);
  }
  // The long case has 24 BPE tokens: MDM's rule keeps 20 of them.
  const long = golden.clip.cases[3];
  assert.equal(tok.encodeBare(long.text).length, 24);
  assert.equal(long.ids.length, 22);
  // Case and whitespace runs do not change the ids.
  assert.deepEqual(tok.encodeBare("A   MAN\twalks"), tok.encodeBare("a man walks"));
  assert.throws(() => tok.tokenId("<|nope|>"), TextAssetError);
});

Deno.test("HfTokenizer reads the WordPiece tokenizer.json: ## pieces, [UNK], accents, punctuation", async () => {
  const tok = await HfTokenizer.load(goldenFiles("distilbert").tokenizer);
  const cls = tok.tokenId("[CLS]"), sep = tok.tokenId("[SEP]");
  const max = golden.distilbert.max_length;
  for (const c of golden.distilbert.cases) {
    assert.deepEqual(bertTokens(tok.encodeBare(c.text), cls, sep, max), c.ids, c.text);
  }
  assert.equal(golden.distilbert.cases[4].ids.length, max); // truncated case
  // Uncased with accents stripped, as bert-base-uncased.
  assert.deepEqual(tok.encodeBare("Á MAN"), [tok.tokenId("a"), tok.tokenId("man")]);
});

Deno.test("HfTokenizer reads merges written as pairs (newer tokenizer.json files) the same", async () => {
  const json = JSON.parse(await Deno.readTextFile(goldenFiles("clip").tokenizer));
  const plain = new HfTokenizer(json);
  json.model.merges = json.model.merges.map((m: string) => m.split(" "));
  const pairs = new HfTokenizer(json);
  for (const c of golden.clip.cases) {
    assert.deepEqual(pairs.encodeBare(c.text), plain.encodeBare(c.text));
  }
});

Deno.test("HfTokenizer names the file when tokenizer.json is broken", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/tokenizer.json`, "{not json");
    await assert.rejects(
      () => HfTokenizer.load(`${dir}/tokenizer.json`),
      (e: Error) => e instanceof TextAssetError && e.message.includes(`${dir}/tokenizer.json`),
    );
    assert.throws(() => new HfTokenizer({ version: "1.0" }, "x.json"), /x\.json.*no "model"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
