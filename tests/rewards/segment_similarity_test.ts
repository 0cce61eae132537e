import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { loadMiniEncoder } from "../../models/mini/mini_encoder.ts";
import { segmentEncoderFrom } from "../../rewards/segment_similarity.ts";
import { computeBMatrix } from "../../datasets/composite/segment_encoder.ts";
import { generateClip } from "../../datasets/mini/generate_clip.ts";
import type { FamilyName } from "../../datasets/mini/families.ts";
import { jointsToFeatures } from "../../datasets/motion/process.ts";
import { T2M } from "../../datasets/motion/skeleton.ts";

Deno.test("B matrices from the shipped mini reward encoder put each segment on its own text", async () => {
  const enc = segmentEncoderFrom(
    await loadMiniEncoder("assets/mini/tmr", createCpuBackend()),
    263,
  );
  // Unseen clips (seed 777) of three distinct families, with their own first captions.
  const families: FamilyName[] = ["wave", "jump", "sit", "crawl", "kick", "run"];
  let hits = 0, rows = 0;
  for (let trial = 0; trial < 2; trial++) {
    const picked = families.slice(trial * 3, trial * 3 + 3);
    const clips = picked.map((family, i) => generateClip(777, trial * 3 + i, { family }));
    const segments = clips.map((c) => jointsToFeatures(c.joints, c.frames, T2M).features);
    const texts = clips.map((c) => c.texts[0].caption);
    const sim = await enc.similarity(segments, texts);
    for (let i = 0; i < 3; i++) {
      for (const v of sim[i]) assert.ok(v >= 0 && v <= 1, `score ${v} outside [0, 1]`);
      hits += sim[i].indexOf(Math.max(...sim[i])) === i ? 1 : 0;
      rows++;
    }
  }
  assert.ok(hits >= 5, `only ${hits} of ${rows} segments scored highest on their own text`);
});

Deno.test("computeBMatrix() through the adapter gives a finite K x K matrix", async () => {
  const enc = segmentEncoderFrom(
    await loadMiniEncoder("assets/mini/tmr", createCpuBackend()),
    263,
  );
  const clips = (["walk", "wave"] as const).map((f, i) => generateClip(5, i, { family: f }));
  const feats = clips.map((c) => jointsToFeatures(c.joints, c.frames, T2M).features);
  const motion = new Float32Array(feats.reduce((n, f) => n + f.length, 0));
  motion.set(feats[0]);
  motion.set(feats[1], feats[0].length);
  const b = await computeBMatrix(
    enc,
    {
      sourceIds: ["a", "b"],
      texts: clips.map((c) => c.texts[0].caption),
      lengths: feats.map((f) => f.length / 263),
      dimPose: 263,
      motion,
    } as unknown as Parameters<typeof computeBMatrix>[1],
  );
  assert.equal(b.length, 4);
  assert.ok(b.every(Number.isFinite));
});
