import assert from "node:assert/strict";
import { assertClose, tempDir } from "../_util.ts";
import { main as makeMiniMain } from "../../cli/make_mini.ts";
import { parseTextLine } from "../../datasets/mini/captions.ts";
import { generateClip } from "../../datasets/mini/generate_clip.ts";
import { makeMiniDataset } from "../../datasets/mini/make_mini_dataset.ts";
import { jointsToFeatures } from "../../datasets/motion/process.ts";
import { footSkate } from "../../datasets/motion/skate.ts";
import { KIT, KIT_BONE_LENGTHS, T2M } from "../../datasets/motion/skeleton.ts";
import { loadNpy } from "../../datasets/npy.ts";

const readIds = async (path: string) =>
  (await Deno.readTextFile(path)).split("\n").filter((s) => s.length > 0);

Deno.test("makeMiniDataset() writes the HumanML3D layout, then finds it cached", async () => {
  const tmp = await tempDir();
  try {
    const dir = `${tmp.path}/humanml`;
    const m = await makeMiniDataset({ outputDir: dir, numClips: 20, seed: 5 });
    assert.equal(m.cached, false);
    assert.equal(m.clips, 40);

    // Splits partition all ids; a clip and its mirror share a split.
    const all = await readIds(`${dir}/all.txt`);
    assert.equal(all.length, 40);
    const splits = await Promise.all(
      ["train", "val", "test"].map((s) => readIds(`${dir}/${s}.txt`)),
    );
    assert.deepEqual([...splits.flat()].sort(), [...all].sort());
    assert.equal(new Set(splits.flat()).size, 40);
    assert.ok(splits[0].length > splits[2].length && splits[2].length >= splits[1].length);
    for (const ids of splits) {
      for (const id of ids) if (!id.startsWith("M")) assert.ok(ids.includes(`M${id}`), id);
    }

    // Every id: features (T-1, 263), joints (T-1, 22, 3), 3-4 parseable caption lines.
    for (const id of all) {
      const vec = await loadNpy(`${dir}/new_joint_vecs/${id}.npy`);
      const jnt = await loadNpy(`${dir}/new_joints/${id}.npy`);
      assert.equal(vec.dtype, "<f4");
      assert.equal(vec.shape[1], 263);
      assert.ok(vec.shape[0] >= 40 && vec.shape[0] < 200, `${id}: ${vec.shape[0]} frames`);
      assert.deepEqual(jnt.shape, [vec.shape[0], 22, 3]);
      assert.ok((vec.data as Float32Array).every(Number.isFinite), `${id} has non-finite features`);
      const lines = (await Deno.readTextFile(`${dir}/texts/${id}.txt`)).trim().split("\n");
      assert.ok(lines.length >= 3 && lines.length <= 4);
      for (const l of lines) parseTextLine(l);
    }
    const mean = await loadNpy(`${dir}/Mean.npy`), std = await loadNpy(`${dir}/Std.npy`);
    assert.deepEqual(mean.shape, [263]);
    assert.deepEqual(std.shape, [263]);
    assert.ok((mean.data as Float32Array).every(Number.isFinite));
    assert.ok((std.data as Float32Array).every((s) => Number.isFinite(s) && s > 0));
    // Block-averaged std: constant within the ric block [4, 67).
    const s = std.data as Float32Array;
    assert.equal(s[4], s[66]);
    assert.equal(s[1], s[2]);

    // Mirrored captions swap sides.
    const base = all.find((id) => !id.startsWith("M"))!;
    const orig = await Deno.readTextFile(`${dir}/texts/${base}.txt`);
    const mirr = await Deno.readTextFile(`${dir}/texts/M${base}.txt`);
    const swap: Record<string, string> = {
      left: "right",
      right: "left",
      clockwise: "counterclockwise",
      counterclockwise: "clockwise",
    };
    assert.equal(
      mirr,
      orig.replace(/\b(left|right|clockwise|counterclockwise)\b/g, (w) => swap[w]),
    );

    // Cached: same key, nothing rewritten.
    const before = (await Deno.stat(`${dir}/Mean.npy`)).mtime?.getTime();
    const again = await makeMiniDataset({ outputDir: dir, numClips: 20, seed: 5 });
    assert.equal(again.cached, true);
    assert.equal(again.key, m.key);
    assert.equal((await Deno.stat(`${dir}/Mean.npy`)).mtime?.getTime(), before);

    // Another seed rebuilds with another key and other data.
    const other = await makeMiniDataset({ outputDir: dir, numClips: 20, seed: 6 });
    assert.equal(other.cached, false);
    assert.notEqual(other.key, m.key);
    assert.notEqual(other.files["Mean.npy"].sha256, m.files["Mean.npy"].sha256);
  } finally {
    await tmp.remove();
  }
});

Deno.test("makeMiniDataset() is deterministic: same seed, same file hashes", async () => {
  const tmp = await tempDir();
  try {
    const a = await makeMiniDataset({ outputDir: `${tmp.path}/a`, numClips: 20, seed: 8 });
    const b = await makeMiniDataset({ outputDir: `${tmp.path}/b`, numClips: 20, seed: 8 });
    assert.equal(a.key, b.key);
    assert.deepEqual(a.files, b.files);
  } finally {
    await tmp.remove();
  }
});

Deno.test("makeMiniDataset() refuses a foreign non-empty directory", async () => {
  const tmp = await tempDir();
  try {
    await Deno.writeTextFile(`${tmp.path}/notes.txt`, "mine");
    await assert.rejects(
      makeMiniDataset({ outputDir: tmp.path, numClips: 20 }),
      /not empty and has no manifest\.json/,
    );
    assert.equal(await Deno.readTextFile(`${tmp.path}/notes.txt`), "mine");
  } finally {
    await tmp.remove();
  }
});

Deno.test("makeMiniDataset({ kit: true }) writes the KIT-ML layout: 21 joints, 251 features", async () => {
  const tmp = await tempDir();
  try {
    const dir = `${tmp.path}/kit`;
    const m = await makeMiniDataset({ outputDir: dir, numClips: 20, seed: 5, kit: true });
    assert.equal(m.params.kit, true);
    const all = await readIds(`${dir}/all.txt`);
    assert.equal(all.length, 40);
    assert.ok(all.every((id) => /^M?\d{5}$/.test(id)), `ids ${all.slice(0, 3)}`);
    for (const id of all.slice(0, 6)) {
      const vec = await loadNpy(`${dir}/new_joint_vecs/${id}.npy`);
      const jnt = await loadNpy(`${dir}/new_joints/${id}.npy`);
      assert.equal(vec.shape[1], 251);
      assert.ok(vec.shape[0] >= 24 && vec.shape[0] < 200, `${id}: ${vec.shape[0]} frames`);
      assert.deepEqual(jnt.shape, [vec.shape[0], 21, 3]);
      // Bones keep the stand-in KIT lengths (millimetres) through features and recovery.
      const j = jnt.data as Float32Array;
      const ratios: number[] = [];
      for (let t = 0; t < jnt.shape[0]; t++) {
        for (let b = 1; b < 21; b++) {
          const p = KIT.parents[b], a = (t * 21 + b) * 3, q = (t * 21 + p) * 3;
          const d = Math.hypot(j[a] - j[q], j[a + 1] - j[q + 1], j[a + 2] - j[q + 2]);
          ratios.push(d / KIT_BONE_LENGTHS[b]);
        }
      }
      assertClose(ratios, ratios.map(() => 1), 0, 1e-3, `${id} bone length / KIT length`);
      const lines = (await Deno.readTextFile(`${dir}/texts/${id}.txt`)).trim().split("\n");
      for (const l of lines) assert.ok(l.endsWith("#0.0#0.0"), `KIT line with a span: ${l}`);
    }
    const std = await loadNpy(`${dir}/Std.npy`);
    assert.deepEqual(std.shape, [251]);
    assert.ok((std.data as Float32Array).every((s) => Number.isFinite(s) && s > 0));
  } finally {
    await tmp.remove();
  }
});

Deno.test("footSkate() on processed features: planted walks near zero, sliding walks high", () => {
  let planted = 0, sliding = 0;
  for (let i = 0; i < 6; i++) {
    for (const slide of [0, 0.5]) {
      const c = generateClip(13, i, { family: "walk", slide });
      const p = jointsToFeatures(c.joints, c.frames, T2M);
      const v = footSkate(p.joints, c.frames, T2M, 20, p.contacts) / 6;
      if (slide === 0) planted += v;
      else sliding += v;
    }
  }
  assert.ok(planted < 0.05, `planted walks skate ${planted} m/s`);
  assert.ok(sliding > 5 * planted && sliding > 0.15, `sliding ${sliding} vs planted ${planted}`);
});

Deno.test("make-mini CLI rejects stray words and bad numbers with exit code 2", async () => {
  const err = console.error;
  const lines: string[] = [];
  console.error = (s: string) => lines.push(s);
  try {
    assert.equal(await makeMiniMain(["--kit", "--num_clips", "100000"]), 2);
    assert.equal(await makeMiniMain(["--num_clips", "20", "extra"]), 2);
    assert.equal(await makeMiniMain(["--seed", "-1"]), 2);
    assert.equal(await makeMiniMain(["--num_clips", "3"]), 2);
  } finally {
    console.error = err;
  }
  assert.match(lines[0], /five digits/);
  assert.match(lines[1], /unexpected word "extra"/);
  assert.match(lines[3], /--num_clips/);
});
