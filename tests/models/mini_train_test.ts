import assert from "node:assert/strict";
import { makeMiniDataset } from "../../datasets/mini/make_mini_dataset.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { tensorBytes } from "../../models/checkpoint/state_dict.ts";
import { TmrEncoder } from "../../models/tmr/encoder.ts";
import {
  type MiniArchitecture,
  miniMotionConfig,
  miniTextConfig,
  type MiniTrainSettings,
} from "../../models/mini/config.ts";
import { buildMiniModel, checkMiniModel, sha256Hex } from "../../models/mini/build_mini_models.ts";
import { MiniEncoder } from "../../models/mini/mini_encoder.ts";
import { trainMiniPair } from "../../models/mini/train_mini_pair.ts";
import { WordFeaturizer } from "../../models/mini/word_featurizer.ts";
import { tempDir } from "../_util.ts";

const ARCH: MiniArchitecture = {
  latentDim: 16,
  ffSize: 32,
  layers: 1,
  heads: 2,
  wordDim: 8,
  maxWords: 12,
  motionFeats: 263,
};

const SETTINGS: MiniTrainSettings = {
  seed: 7,
  steps: 20,
  batch: 16,
  lr: 1e-2,
  warmupSteps: 2,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  temperature: 0.1,
  threshold: 0.8,
  subset: "all",
  maxFrames: 40,
  stdFloor: 0.01,
};

// One tiny dataset (20 clips + mirrors) shared by the tests of this file.
const data = await tempDir();
await makeMiniDataset({ outputDir: `${data.path}/humanml`, numClips: 20, seed: 3 });
const dataDir = `${data.path}/humanml`;

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

Deno.test("trainMiniPair() lowers the contrastive loss in 20 steps", async () => {
  const r = await trainMiniPair(createCpuBackend(), {
    dataDir,
    architecture: ARCH,
    settings: SETTINGS,
  });
  assert.equal(r.losses.length, 20);
  assert.ok(r.losses.every(Number.isFinite));
  const first = mean(r.losses.slice(0, 5)), last = mean(r.losses.slice(-5));
  assert.ok(last < first - 0.3, `loss ${first} -> ${last}`);
  assert.equal(r.mean.length, 263);
  assert.ok(r.std.every((s) => s >= Math.fround(SETTINGS.stdFloor)));
});

Deno.test("trainMiniPair() with the same seed gives bit-identical weights", async () => {
  const settings = { ...SETTINGS, steps: 6 };
  const run = () => trainMiniPair(createCpuBackend(), { dataDir, architecture: ARCH, settings });
  const a = await run(), b = await run();
  for (const side of ["text", "motion"] as const) {
    assert.deepEqual([...a[side].keys()], [...b[side].keys()]);
    for (const [k, t] of a[side]) {
      assert.deepEqual(tensorBytes(t), tensorBytes(b[side].get(k)!), `${side} ${k}`);
    }
  }
  assert.deepEqual(a.losses, b.losses);
  const c = await trainMiniPair(createCpuBackend(), {
    dataDir,
    architecture: ARCH,
    settings: { ...settings, seed: 8 },
  });
  assert.notDeepEqual(
    tensorBytes(c.motion.get("projection.weight")!),
    tensorBytes(a.motion.get("projection.weight")!),
  );
});

Deno.test("encodeMotions() ignores frames beyond the lengths", async () => {
  const be = createCpuBackend();
  const r = await trainMiniPair(be, {
    dataDir,
    architecture: ARCH,
    settings: { ...SETTINGS, steps: 2 },
  });
  const text = TmrEncoder.fromStateDict(be, r.text, miniTextConfig(ARCH));
  const motion = TmrEncoder.fromStateDict(be, r.motion, miniMotionConfig(ARCH));
  const enc = new MiniEncoder("tiny", text, motion, new WordFeaturizer(8, 12), r);
  const N = 3, T = 30, F = 263;
  const x = new Float32Array(N * T * F).map((_, i) => Math.sin(i * 0.37)); // (N, T, F)
  const lengths = [12, 30, 5];
  const a = await enc.encodeMotions(x, lengths, N, T);
  const y = x.slice();
  for (let n = 0; n < N; n++) {
    y.fill(n === 0 ? 1e6 : NaN, (n * T + lengths[n]) * F, (n + 1) * T * F);
  }
  const b = await enc.encodeMotions(y, lengths, N, T);
  assert.deepEqual(b, a);
  assert.ok(a.every(Number.isFinite));
  // The valid frames do matter.
  const z = x.slice();
  z[0] += 5;
  const c = await enc.encodeMotions(z, lengths, N, T);
  assert.notDeepEqual(c.subarray(0, 16), a.subarray(0, 16));
  // One motion alone encodes as in the batch (rows are independent).
  const single = await enc.encodeMotions(x.slice(T * F, 2 * T * F), [30], 1, T);
  assert.deepEqual(single, a.subarray(16, 32));
});

Deno.test("buildMiniModel() writes a folder that checkMiniModel() rebuilds bit-exactly", async () => {
  const be = createCpuBackend();
  const out = await tempDir();
  try {
    const rec = await buildMiniModel(be, {
      role: "evaluator",
      dataDir,
      outDir: out.path,
      architecture: ARCH,
      settings: { ...SETTINGS, steps: 3, subset: "odd" },
      evaluate: false,
    });
    const dir = `${out.path}/evaluator`;
    for (const name of ["text_encoder.pt", "motion_encoder.pt", "stats.safetensors"]) {
      assert.equal(sha256Hex(await Deno.readFile(`${dir}/${name}`)), rec.sha256[name], name);
    }
    const ok = await checkMiniModel(be, { role: "evaluator", dataDir, outDir: out.path });
    assert.deepEqual(ok.problems, []);
    // A tampered weight file is reported.
    const bytes = await Deno.readFile(`${dir}/motion_encoder.pt`);
    bytes[bytes.length - 200] ^= 1;
    await Deno.writeFile(`${dir}/motion_encoder.pt`, bytes);
    const bad = await checkMiniModel(be, { role: "evaluator", dataDir, outDir: out.path });
    assert.equal(bad.ok, false);
    assert.ok(bad.problems.some((p) => p.includes("motion_encoder.pt")), bad.problems.join("; "));
  } finally {
    await out.remove();
  }
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(data.path, { recursive: true });
});
