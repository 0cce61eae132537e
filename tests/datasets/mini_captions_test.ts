import assert from "node:assert/strict";
import { Rng } from "../../kernels/rng/philox.ts";
import {
  captionFor,
  formatSeconds,
  formatTextLine,
  mirrorTextLine,
  parseTextLine,
  tokenOf,
} from "../../datasets/mini/captions.ts";
import { generateClip } from "../../datasets/mini/generate_clip.ts";

const UNIVERSAL_POS = new Set([
  "ADJ",
  "ADP",
  "ADV",
  "AUX",
  "CCONJ",
  "DET",
  "INTJ",
  "NOUN",
  "NUM",
  "PART",
  "PRON",
  "PROPN",
  "SCONJ",
  "VERB",
]);

Deno.test("generated text lines parse as caption#word/POS tokens#from#to", () => {
  let spans = 0;
  for (let i = 0; i < 120; i++) {
    const clip = generateClip(2, i);
    const whole = clip.texts.filter((l) => l.from === 0 && l.to === 0);
    assert.equal(whole.length, 3, `clip ${i}: ${whole.length} whole-clip captions`);
    assert.ok(clip.texts.length <= 4);
    for (const line of clip.texts) {
      const text = formatTextLine(line);
      const back = parseTextLine(text);
      assert.equal(back.caption, line.caption);
      assert.ok(/^[a-z][a-z ,]*\.$/.test(back.caption), `caption "${back.caption}"`);
      const words = back.caption.replace(/[,.]/g, "").split(" ");
      assert.equal(back.tokens.length, words.length, `"${text}": one token per word`);
      for (const t of back.tokens) {
        assert.ok(UNIVERSAL_POS.has(t.split("/")[1]), `"${t}" has no universal POS tag`);
      }
      if (line.from !== 0 || line.to !== 0) {
        spans++;
        assert.ok(line.to - line.from >= 2 - 1e-9, `span ${line.from}-${line.to} under 2 s`);
        assert.ok(line.to <= (clip.frames - 1) / 20 + 1e-9, `span ends after the clip`);
      }
    }
  }
  assert.ok(spans > 10, `only ${spans} sub-span captions in 120 clips`);
});

Deno.test("tokenOf() writes lemmas for nouns and verbs only, never for 'left'", () => {
  assert.equal(tokenOf({ text: "walks", lemma: "walk", pos: "VERB" }), "walk/VERB");
  assert.equal(tokenOf({ text: "hands", lemma: "hand", pos: "NOUN" }), "hand/NOUN");
  assert.equal(tokenOf({ text: "slowly", lemma: "slowly", pos: "ADV" }), "slowly/ADV");
  assert.equal(tokenOf({ text: "left", lemma: "leave", pos: "VERB" }), "left/VERB");
});

Deno.test("captionFor() joins segments with a conjunction and names every side", () => {
  const rng = new Rng(3, 0);
  for (let k = 0; k < 20; k++) {
    const line = captionFor(rng, [
      { kind: "kick", side: "left", count: 1 },
      { kind: "wave", side: "right" },
    ]);
    assert.ok(/ left /.test(line.caption) && / right /.test(line.caption), line.caption);
    assert.ok(line.tokens.includes("kick/VERB") || line.tokens.includes("do/VERB"), line.caption);
    assert.ok(line.tokens.some((t) => t === "then/ADV" || t === "and/CCONJ" || t === "he/PRON"));
  }
});

Deno.test("mirrorTextLine() swaps left/right and clockwise/counterclockwise", () => {
  const line = parseTextLine(
    "a man walks clockwise in a circle and waves his left hand.#a/DET man/NOUN walk/VERB " +
      "clockwise/ADV in/ADP a/DET circle/NOUN and/CCONJ wave/VERB his/DET left/ADJ hand/NOUN#1.5#4.0",
  );
  const m = mirrorTextLine(line);
  assert.equal(m.caption, "a man walks counterclockwise in a circle and waves his right hand.");
  assert.ok(m.tokens.includes("counterclockwise/ADV") && m.tokens.includes("right/ADJ"));
  assert.equal(m.from, 1.5);
  assert.deepEqual(mirrorTextLine(m), line);
});

Deno.test("formatSeconds() and parseTextLine() follow the HumanML3D spelling", () => {
  assert.equal(formatSeconds(0), "0.0");
  assert.equal(formatSeconds(2.35), "2.35");
  assert.equal(formatSeconds(7), "7.0");
  assert.throws(() => parseTextLine("a man walks.#a/DET man/NOUN#0.0"), SyntaxError);
  assert.throws(() => parseTextLine("a man walks.#a/DET man#0.0#0.0"), SyntaxError);
});
