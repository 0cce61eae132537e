import assert from "node:assert/strict";
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import { inverseNormalise, normalise } from "../../datasets/humanml/normalise.ts";
import { padTokens, parseCaptionFile } from "../../datasets/humanml/text.ts";
import { cropWindow } from "../../datasets/humanml/crop.ts";
import { datasetOptions } from "../../datasets/humanml/options.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose, tempDir } from "../_util.ts";
import { EXTRA_LENGTHS, F, writeFixture } from "./_humanml_fixture.ts";

async function withDataset(
  fn: (root: string) => Promise<void>,
): Promise<void> {
  const dir = await tempDir();
  try {
    await writeFixture(dir.path);
    await fn(dir.path);
  } finally {
    await dir.remove();
  }
}

const load = (root: string, extra: { seed?: number; strict?: boolean; disable?: boolean } = {}) =>
  HumanMLDataset.load({
    dataset: "humanml",
    dataRoot: root,
    split: "train",
    seed: extra.seed ?? 3,
    strict: extra.strict,
    disableRandomCrop: extra.disable,
  });

Deno.test("HumanMLDataset.load() keeps 40 <= T < 200 and turns sub-spans into items", async () => {
  await withDataset(async (root) => {
    const ds = await load(root);
    // 000001 (whole + span), 000002, span of 000008, M000001, and the extras.
    assert.equal(ds.length, 5 + EXTRA_LENGTHS.length);
    assert.equal(ds.filtered, 2); // 000003 (30 frames), 000004 (210 frames)
    const byName = new Map(ds.items.map((it) => [it.name, it]));
    assert.equal(byName.get("000001")?.length, 70);
    assert.equal(byName.get("000001")?.captions.length, 2);
    assert.equal(byName.get("000002")?.length, 121);
    assert.ok(!byName.has("000003") && !byName.has("000004") && !byName.has("000008"));
    const spans = ds.items.filter((it) => /^[A-W]_/.test(it.name));
    assert.deepEqual(spans.map((s) => s.name.slice(2)).sort(), ["000001", "000008"]);
    const span1 = spans.find((s) => s.clipId === "000001")!;
    assert.equal(span1.length, 50); // frames [int(0.5*20), int(3.0*20)) = [10, 60)
    assert.equal(span1.captions[0].caption, "the person then waves.");
    // The span's features are frames 10.. of the clip.
    const whole = byName.get("000001")!;
    assert.deepEqual(span1.motion.subarray(0, F), whole.motion.subarray(10 * F, 11 * F));
    assert.equal(spans.find((s) => s.clipId === "000008")!.length, 60);
    // Sorted by length.
    for (let i = 1; i < ds.length; i++) assert.ok(ds.items[i - 1].length <= ds.items[i].length);
  });
});

Deno.test("HumanMLDataset.load() skips bad clips with warnings naming path and line", async () => {
  await withDataset(async (root) => {
    const ds = await load(root);
    assert.equal(ds.skipped, 3);
    assert.equal(ds.warnings.length, 3);
    const all = ds.warnings.join("\n");
    assert.match(
      all,
      /Skipped clip "000005": .*texts\/000005\.txt:2: expected caption#tokens#from#to/,
    );
    assert.match(all, /Skipped clip "000006": .*new_joint_vecs\/000006\.npy does not exist/);
    assert.match(all, /Skipped clip "000007": Cannot load npy file ".*000007\.npy": bad magic/);
  });
});

Deno.test("HumanMLDataset.load() with strict: true throws on the first bad clip", async () => {
  await withDataset(async (root) => {
    await assert.rejects(() => load(root, { strict: true }), (err: Error) => {
      assert.ok(err instanceof SyntaxError);
      assert.match(err.message, /^Cannot load humanml clip "000005": .*000005\.txt:2:/);
      return true;
    });
  });
});

Deno.test("HumanMLDataset.load() names the missing Mean.npy", async () => {
  await withDataset(async (root) => {
    await Deno.remove(`${root}/Mean.npy`);
    await assert.rejects(() => load(root), /Mean\.npy does not exist/);
  });
});

Deno.test("sample() pads tokens to 22 and crops to multiples of 4", async () => {
  await withDataset(async (root) => {
    const ds = await load(root);
    let doubles = 0;
    for (let rep = 0; rep < 6; rep++) {
      for (let i = 0; i < ds.length; i++) {
        const s = ds.sample(i);
        const L = ds.items[i].length;
        assert.equal(s.tokens.length, 22);
        assert.equal(s.tokens[0], "sos/OTHER");
        assert.equal(s.tokens[s.sentLen - 1], "eos/OTHER");
        assert.ok(s.tokens.slice(s.sentLen).every((t) => t === "unk/OTHER"));
        assert.equal(s.length % 4, 0);
        const single = Math.floor(L / 4) * 4;
        assert.ok(s.length === single || s.length === single - 4, `${s.length} of ${L}`);
        if (s.length === single - 4) doubles++;
        assert.equal(s.motion.length, s.length * F);
      }
    }
    assert.ok(doubles > 0, "the double crop was never drawn");
    const long = ds.sample(ds.items.findIndex((it) => it.name === "000002"));
    assert.equal(long.sentLen, 22); // 25 tokens: cut to 20, plus sos and eos
    assert.equal(long.tokens[20], "w19/NOUN");
  });
});

Deno.test("disableRandomCrop keeps start 0 and the single length; features are normalised", async () => {
  await withDataset(async (root) => {
    const ds = await load(root, { disable: true });
    for (let i = 0; i < ds.length; i++) {
      const s = ds.sample(i);
      const item = ds.items[i];
      assert.equal(s.length, Math.floor(item.length / 4) * 4);
      const expect = normalise(item.motion.subarray(0, s.length * F), ds.mean, ds.std);
      assertClose(s.motion, expect, 0, 0, item.name);
      const back = inverseNormalise(s.motion, ds.mean, ds.std);
      assertClose(back, item.motion.subarray(0, s.length * F), 1e-5, 1e-5, `${item.name} inverse`);
    }
  });
});

Deno.test("nextBatch() is deterministic for a seed and resumes from state()", async () => {
  await withDataset(async (root) => {
    const a = await load(root, { seed: 9 });
    const b = await load(root, { seed: 9 });
    const c = await load(root, { seed: 10 });
    const first = a.nextBatch(4);
    assert.deepEqual(first.shape, [4, 196, F]);
    assert.equal(first.motions.length, 4 * 196 * F);
    for (let i = 0; i < 4; i++) {
      const L = first.lengths[i];
      assert.equal(first.masks[i * 196 + L - 1], 1);
      if (L < 196) {
        assert.equal(first.masks[i * 196 + L], 0);
        assert.equal(first.motions[(i * 196 + L) * F], 0); // zero padding
      }
    }
    assert.deepEqual(b.nextBatch(4), first);
    assert.notDeepEqual(c.nextBatch(4).names, first.names);
    // 20 items / 4 = 5 batches per epoch: cross an epoch boundary, then resume.
    for (let i = 0; i < 5; i++) a.nextBatch(4);
    const saved = a.state();
    const next = a.nextBatch(4);
    b.restore(saved);
    assert.deepEqual(b.nextBatch(4), next);
    assert.equal(saved.epoch, 1);
  });
});

Deno.test("collate with sortBySentLen puts the longest sentence first", async () => {
  await withDataset(async (root) => {
    const ds = await load(root);
    const batch = ds.nextBatch(ds.length, true);
    for (let i = 1; i < batch.sentLens.length; i++) {
      assert.ok(batch.sentLens[i - 1] >= batch.sentLens[i]);
    }
    assert.equal(batch.sentLens[0], 22);
  });
});

Deno.test("parseCaptionFile() reads NaN spans as 0 and rejects tokens without a POS", () => {
  const ok = parseCaptionFile("a.#a/DET#nan#NaN\n\nb.#b/NOUN#1.5#2\n", "t.txt");
  assert.ok(ok.ok);
  assert.deepEqual(ok.captions.map((c) => [c.from, c.to]), [[0, 0], [1.5, 2]]);
  const bad = parseCaptionFile("a.#a/DET#0.0#0.0\nb.#b#0.0#0.0\n", "t.txt");
  assert.deepEqual(bad, { ok: false, error: 't.txt:2: token "b" is not word/POS' });
  const badNum = parseCaptionFile("a.#a/DET#x#0.0", "t.txt");
  assert.ok(!badNum.ok && badNum.error.startsWith("t.txt:1: span"));
});

Deno.test("padTokens() wraps with sos/eos and pads with unk to maxTextLen + 2", () => {
  const p = padTokens(["a/DET", "b/NOUN"]);
  assert.equal(p.sentLen, 4);
  assert.deepEqual(p.tokens.slice(0, 5), [
    "sos/OTHER",
    "a/DET",
    "b/NOUN",
    "eos/OTHER",
    "unk/OTHER",
  ]);
  assert.equal(p.tokens.length, 22);
  // Exactly 20 tokens: cut branch (no unk), 22 entries.
  const twenty = padTokens(Array.from({ length: 20 }, (_, i) => `t${i}/X`));
  assert.equal(twenty.sentLen, 22);
  assert.equal(twenty.tokens.length, 22);
});

Deno.test("cropWindow() draws single twice as often as double", () => {
  const rng = new Rng(5, 1);
  let double = 0;
  const n = 3000;
  for (let i = 0; i < n; i++) {
    const c = cropWindow(101, rng);
    assert.ok(c.start >= 0 && c.start + c.length <= 101);
    if (c.length === 96) double++;
    else assert.equal(c.length, 100);
  }
  assert.ok(Math.abs(double / n - 1 / 3) < 0.03, `double fraction ${double / n}`);
});

Deno.test("datasetOptions() has the public KIT settings", () => {
  const kit = datasetOptions("kit");
  assert.deepEqual(
    [kit.dimPose, kit.joints, kit.fps, kit.minMotionLength, kit.maxMotionLength, kit.unitLength],
    [251, 21, 12.5, 24, 196, 4],
  );
  assert.equal(kit.dataRoot, "./dataset/KIT-ML");
});
