import assert from "node:assert/strict";
import { adapterDescription } from "../../kernels/webgpu/device.ts";
import { gpuIgnore } from "../../kernels/webgpu/probe.ts";
import { asStateDict, loadTorchFile } from "../../models/checkpoint/torch_pt.ts";
import type { StateDict } from "../../models/checkpoint/state_dict.ts";
import {
  loadOfficialT2mEvaluator,
  type OfficialT2mEvaluator,
  type OfficialT2mEvaluatorOptions,
} from "../../models/t2m/official_evaluator.ts";
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import { assertClose } from "../_util.ts";

const GOLDEN = new URL("../golden/t2m/", import.meta.url).pathname;
const CASES = JSON.parse(await Deno.readTextFile(`${GOLDEN}cases.json`)) as {
  token_cases: string[][];
  motion_lengths: number[];
  motion_frames: number;
};
const F = 263;

// Golden tolerance: float32 accumulation order differs between ORT and PyTorch.
const ATOL = 1e-5, RTOL = 1e-4;

function options(over: Partial<OfficialT2mEvaluatorOptions> = {}): OfficialT2mEvaluatorOptions {
  return {
    evaluatorPath: `${GOLDEN}finest.tar`,
    gloveDir: `${GOLDEN}glove`,
    meanPath: `${GOLDEN}t2m_mean.npy`,
    stdPath: `${GOLDEN}t2m_std.npy`,
    device: "wasm",
    ...over,
  };
}

async function reference(): Promise<StateDict> {
  return asStateDict(await loadTorchFile(`${GOLDEN}reference.pt`), "reference.pt");
}

/** The generator's raw motion formula (tools/make_t2m_fixtures.py `raw_motion`), (N, T, F). */
function rawMotions(lengths: readonly number[], T: number, padding = true): Float32Array {
  const N = lengths.length;
  const x = new Float32Array(N * T * F);
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < F; c++) {
        x[(n * T + t) * F + c] = t >= lengths[n]
          ? (padding ? 50.0 * Math.cos(0.7 * t + 0.3 * c + n) : 0)
          : Math.sin(0.37 * n + 0.11 * t + 0.013 * c) + 0.2 * Math.cos(0.05 * c * (n + 1));
      }
    }
  }
  return x;
}

async function withEvaluator(
  fn: (ev: OfficialT2mEvaluator) => Promise<void>,
  over: Partial<OfficialT2mEvaluatorOptions> = {},
): Promise<void> {
  const ev = await loadOfficialT2mEvaluator(options(over));
  try {
    await fn(ev);
  } finally {
    await ev.release();
  }
}

Deno.test("loadOfficialT2mEvaluator() text embeddings match the PyTorch evaluator", async () => {
  const ref = await reference();
  const expected = ref.get("text_embedding")!; // (B, D)
  await withEvaluator(async (ev) => {
    const enc: TextMotionEncoder = ev;
    assert.equal(enc.dim, expected.shape[1]);
    assert.equal(enc.name, "t2m-evaluator");
    const got = await ev.encodeTokens(CASES.token_cases);
    assertClose(got, expected.data as Float32Array, ATOL, RTOL, "text embedding");
    // The same tokens through encodeTexts, as HumanML3D lines.
    const lines = CASES.token_cases.map((t, i) => `caption ${i}#${t.join(" ")}#0.0#0.0`);
    assertClose(await enc.encodeTexts(lines), expected.data as Float32Array, ATOL, RTOL, "lines");
  });
});

Deno.test("loadOfficialT2mEvaluator() motion embeddings match the PyTorch evaluator", async () => {
  const ref = await reference();
  const expected = ref.get("motion_embedding")!.data as Float32Array; // (N, D)
  const lengths = CASES.motion_lengths, T = CASES.motion_frames;
  await withEvaluator(async (ev) => {
    assert.equal(ev.features, F);
    const got = await ev.encodeMotions(rawMotions(lengths, T), lengths, lengths.length, T);
    assertClose(got, expected, ATOL, RTOL, "motion embedding");
    // Frames past the lengths are never read: other padding, same result (bit-exact, since the
    // encoder input is identical).
    const clean = await ev.encodeMotions(rawMotions(lengths, T, false), lengths, lengths.length, T);
    assert.deepEqual(Array.from(clean), Array.from(got));
    // One motion alone equals its row in the batch (the batch pads to its longest motion).
    const raw = rawMotions(lengths, T);
    const motion2 = raw.subarray(2 * T * F, 3 * T * F); // (T, F), length 12
    const one = await ev.encodeMotions(motion2, [lengths[2]], 1, T);
    assertClose(one, got.subarray(2 * ev.dim, 3 * ev.dim), 1e-6, 1e-5, "single motion");
    // ... also when the caller's buffer ends right at its length.
    const tight = await ev.encodeMotions(motion2.slice(0, 12 * F), [12], 1, 12);
    assert.deepEqual(Array.from(tight), Array.from(one));
  });
});

Deno.test("OfficialT2mEvaluator.encodeMotions() refuses lengths below one movement step", async () => {
  await withEvaluator(async (ev) => {
    const x = rawMotions([8, 3], 8);
    await assert.rejects(() => ev.encodeMotions(x, [8, 3], 2, 8), /length 3 of motion 1 is not in/);
    await assert.rejects(() => ev.encodeMotions(x, [8], 2, 8), /1 lengths do not make/);
    await assert.rejects(() => ev.encodeMotions(x, [8, 9], 2, 8), /length 9 of motion 1/);
    assert.equal((await ev.encodeMotions(new Float32Array(0), [], 0, 8)).length, 0);
  });
});

Deno.test("OfficialT2mEvaluator.encodeTexts() uses the caption map, then warns once", async () => {
  const ref = await reference();
  const expected = ref.get("text_embedding")!.data as Float32Array;
  const captionTokens = new Map([[
    "A person walks forward, then turns left.",
    CASES.token_cases[0],
  ]]);
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (msg: string) => warnings.push(msg);
  try {
    await withEvaluator(async (ev) => {
      const D = ev.dim;
      const known = await ev.encodeTexts(["a person walks forward, then turns left."]);
      assertClose(known, expected.subarray(0, D), ATOL, RTOL, "mapped caption");
      assert.equal(warnings.length, 0);
      // Not in the map: approximated ("a/OTHER person/OTHER walk/OTHER"; walk → Act_VIP).
      const approx = await ev.encodeTexts(["a person walk", "zzz"]);
      const tokens = await ev.encodeTokens([["a/OTHER", "person/OTHER", "walk/OTHER"]]);
      assert.deepEqual(Array.from(approx.subarray(0, D)), Array.from(tokens));
      await ev.encodeTexts(["another unknown caption"]);
      assert.equal(warnings.length, 1);
      assert.equal(ev.tokenizer.approximated, 3);
      assert.match(warnings[0], /2 caption\(s\) \(e\.g\. "a person walk"\)/);
    }, { captionTokens });
    await withEvaluator(async (ev) => {
      await assert.rejects(() => ev.encodeTexts(["a person walk"]), /no POS tagger/);
    }, { captionTokens, unknownCaptions: "error" });
  } finally {
    console.warn = warn;
  }
});

Deno.test("loadOfficialT2mEvaluator() names missing or mismatched files", async () => {
  await assert.rejects(
    () => loadOfficialT2mEvaluator(options({ evaluatorPath: `${GOLDEN}nope.tar` })),
    /nope\.tar": the file does not exist .*t2m\/text_mot_match\/model\/finest\.tar/,
  );
  await assert.rejects(
    () => loadOfficialT2mEvaluator(options({ meanPath: `${GOLDEN}nope_mean.npy` })),
    /feature mean ".*nope_mean\.npy" does not exist .*dataset\/t2m_mean\.npy/,
  );
  const tmp = await Deno.makeTempDir();
  try {
    // A (262) std: wrong feature count.
    const bytes = await Deno.readFile(`${GOLDEN}t2m_std.npy`);
    const { loadNpy, saveNpy } = await import("../../datasets/npy.ts");
    const std = await loadNpy(`${GOLDEN}t2m_std.npy`);
    assert.ok(bytes.length > 0);
    await saveNpy(`${tmp}/std.npy`, {
      dtype: "<f4",
      shape: [262],
      data: (std.data as Float32Array).slice(0, 262),
    });
    await assert.rejects(
      () => loadOfficialT2mEvaluator(options({ stdPath: `${tmp}/std.npy` })),
      /statistics have 263 .* and 262 .* entries, the evaluator reads 263 features/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

// WebGPU: skipped without an adapter and on software adapters (see tests/onnx/session_webgpu_test.ts;
// MOTION_GRPO_ORT_WEBGPU_SOFTWARE=1 runs it there).
const adapter = await adapterDescription();
const webgpuIgnore = gpuIgnore ||
  (adapter?.isSoftwareAdapter === true &&
    Deno.env.get("MOTION_GRPO_ORT_WEBGPU_SOFTWARE") !== "1");

Deno.test({
  name: "loadOfficialT2mEvaluator() on WebGPU matches the PyTorch evaluator",
  ignore: webgpuIgnore,
  async fn() {
    const ref = await reference();
    const lengths = CASES.motion_lengths, T = CASES.motion_frames;
    await withEvaluator(async (ev) => {
      // GPU tolerance: ORT's WebGPU kernels reduce in other orders (and may fuse) in float32.
      const atol = 1e-4, rtol = 1e-3;
      const text = await ev.encodeTokens(CASES.token_cases);
      assertClose(text, ref.get("text_embedding")!.data as Float32Array, atol, rtol, "text");
      const motion = await ev.encodeMotions(rawMotions(lengths, T), lengths, lengths.length, T);
      assertClose(motion, ref.get("motion_embedding")!.data as Float32Array, atol, rtol, "motion");
    }, { device: "webgpu" });
  },
});
