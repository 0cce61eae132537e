/**
 * cli/export_onnx.ts on the shipped mini encoders, and the ONNX-backed mini encoder
 * (models/mini/onnx_encoder.ts) against the engine's (models/mini/mini_encoder.ts) on the same
 * texts and motions. Both sides are float32 with different summation orders:
 * atol 1e-5 + rtol 1e-4. The WebGPU case is skipped without an adapter and, by default, on
 * software adapters (set MOTION_GRPO_ORT_WEBGPU_SOFTWARE=1 to run it there), as in
 * session_webgpu_test.ts.
 */
import assert from "node:assert/strict";
import { main } from "../../cli/export_onnx.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { adapterDescription } from "../../kernels/webgpu/device.ts";
import { gpuIgnore } from "../../kernels/webgpu/probe.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import {
  loadMiniEncoder,
  loadMiniTextFeaturizer,
  readMiniStats,
} from "../../models/mini/mini_encoder.ts";
import { loadMiniOnnxEncoder, loadMiniOnnxTextFeaturizer } from "../../models/mini/onnx_encoder.ts";
import { saveTorchStateDict } from "../../models/checkpoint/torch_pt.ts";
import { tmrEncoderToOnnx } from "../../onnx/tmr_encoder.ts";
import { assertClose, runCli, tempDir } from "../_util.ts";
import { tmrFixtureWeights } from "../models/_tmr_fixture.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ASSETS = `${ROOT}assets/mini`;

/** Runs the CLI in-process; returns its exit code and what it printed. */
async function exportOnnx(args: string[]) {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await main(args), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

async function listing(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

const adapter = await adapterDescription();
const webgpuIgnore = gpuIgnore ||
  (adapter?.isSoftwareAdapter === true && Deno.env.get("MOTION_GRPO_ORT_WEBGPU_SOFTWARE") !== "1");

if (webgpuIgnore) {
  console.warn(
    gpuIgnore
      ? "mini_export_test: WebGPU case skipped, no WebGPU adapter"
      : `mini_export_test: WebGPU case skipped on software adapter "${adapter?.description}" ` +
        "(set MOTION_GRPO_ORT_WEBGPU_SOFTWARE=1 to run)",
  );
}

const TEXTS = [
  "a person walks forward and stops.",
  "Someone JUMPS, then turns around to the left!",
  "", // no words: only the tokens are attended to
  "the man's arms wave slowly " + "while he keeps stepping in place ".repeat(5), // > 24 words
  "a person kicks with the right leg",
];

Deno.test("exported mini encoders on ONNX give the engine's embeddings", async () => {
  const dir = await tempDir();
  const be = createCpuBackend();
  try {
    const byRole: Record<string, Float32Array> = {};
    for (const role of ["tmr", "evaluator"]) {
      const model = `${ASSETS}/${role}`, out = `${dir.path}/${role}`;
      const r = await exportOnnx(["--model_dir", model, "--output_dir", out]);
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.deepEqual(await listing(out), ["motion_encoder.onnx", "text_encoder.onnx"]);
      assert.equal(r.out.length, 2);
      for (const line of r.out) {
        assert.match(line, /^Wrote .*_encoder\.onnx \(\d+ bytes, sha256 [0-9a-f]{64}\) from /);
      }

      const engine = await loadMiniEncoder(model, be);
      const onnx = await loadMiniOnnxEncoder(model, { onnxDir: out });
      try {
        assert.equal(onnx.dim, engine.dim);
        const textsOnnx = await onnx.encodeTexts(TEXTS);
        assertClose(textsOnnx, await engine.encodeTexts(TEXTS), 1e-5, 1e-4, `${role} texts`);
        byRole[role] = textsOnnx;

        // Raw motions around the encoder's own statistics (normalised ≈ standard normal), of
        // varied lengths; frames past each length hold large junk that must not matter.
        const { mean, std } = await readMiniStats(model);
        const N = 3, T = 48, F = mean.length;
        const lengths = [48, 19, 1];
        const rng = new Rng(7, 3);
        const x = new Float32Array(N * T * F); // (N, T, F)
        for (let n = 0; n < N; n++) {
          for (let t = 0; t < T; t++) {
            for (let c = 0; c < F; c++) {
              x[(n * T + t) * F + c] = t < lengths[n] ? mean[c] + std[c] * rng.normal() : 1e6;
            }
          }
        }
        const motionsOnnx = await onnx.encodeMotions(x, lengths, N, T);
        const motionsEngine = await engine.encodeMotions(x, lengths, N, T);
        assertClose(motionsOnnx, motionsEngine, 1e-5, 1e-4, `${role} motions`);
        assert.ok(motionsOnnx.every(Number.isFinite));
        // Different motions give different embeddings (the comparison is not of constants).
        const D = onnx.dim;
        assert.ok(
          Math.abs(motionsOnnx[0] - motionsOnnx[D]) +
              Math.abs(motionsOnnx[1] - motionsOnnx[D + 1]) > 1e-4,
        );
      } finally {
        await onnx.release();
      }
    }
    // The two folders hold different weights: their text embeddings differ.
    let diff = 0;
    for (let i = 0; i < byRole.tmr.length; i++) {
      diff += Math.abs(byRole.tmr[i] - byRole.evaluator[i]);
    }
    assert.ok(diff > 1, `tmr and evaluator embeddings differ by only ${diff}`);

    // The text-only conditioning encoder: one file, same features as the engine.
    const model = `${ASSETS}/text`, out = `${dir.path}/text`;
    const r = await exportOnnx(["--model_dir", model, "--output_dir", out]);
    assert.equal(r.code, 0, r.err.join("\n"));
    assert.deepEqual(await listing(out), ["text_encoder.onnx"]);
    const engine = await loadMiniTextFeaturizer(model, be);
    const onnx = await loadMiniOnnxTextFeaturizer(model, { onnxDir: out });
    try {
      assertClose(await onnx.encode(TEXTS), await engine.encode(TEXTS), 1e-5, 1e-4, "text");
    } finally {
      await onnx.release!();
    }
  } finally {
    be.destroy();
    await dir.remove();
  }
});

Deno.test("export-onnx refuses to overwrite without --force and names bad input", async () => {
  const dir = await tempDir();
  try {
    const out = `${dir.path}/out`;
    await Deno.mkdir(out);
    const junk = new TextEncoder().encode("not a model");
    await Deno.writeFile(`${out}/text_encoder.onnx`, junk);
    const args = ["--model_dir", `${ASSETS}/tmr`, "--output_dir", out];

    const refused = await exportOnnx(args);
    assert.equal(refused.code, 2);
    assert.deepEqual(refused.out, []);
    assert.deepEqual(refused.err, [
      `Cannot run deno run -A cli/export_onnx.ts: Cannot write "${out}/text_encoder.onnx": ` +
      "the file exists (pass --force to overwrite it)",
    ]);
    // Nothing was written: the junk is intact and the motion file was not created.
    assert.deepEqual(await Deno.readFile(`${out}/text_encoder.onnx`), junk);
    assert.deepEqual(await listing(out), ["text_encoder.onnx"]);

    const forced = await exportOnnx([...args, "--force"]);
    assert.equal(forced.code, 0, forced.err.join("\n"));
    assert.ok((await Deno.readFile(`${out}/text_encoder.onnx`)).length > 100_000);
    assert.deepEqual(await listing(out), ["motion_encoder.onnx", "text_encoder.onnx"]);

    // Official TMR state dicts go through the same converter, under their own names.
    const sd = await tmrFixtureWeights("motion");
    await saveTorchStateDict(`${dir.path}/motion_encoder.pt`, sd);
    const official = await exportOnnx([
      "--tmr_motion_encoder_path",
      `${dir.path}/motion_encoder.pt`,
      "--output_dir",
      out,
    ]);
    assert.equal(official.code, 0, official.err.join("\n"));
    assert.deepEqual(
      await Deno.readFile(`${out}/tmr_motion_encoder.onnx`),
      tmrEncoderToOnnx(sd, { numHeads: 4, source: "tmr/motion_encoder.pt" }),
    );

    // A missing folder, a folder with no config.json, a corrupt weight file: one line each,
    // naming the folder or file, and no output folder created.
    const bad = `${dir.path}/bad`;
    await Deno.mkdir(bad);
    const cases: [string, RegExp][] = [
      [`${dir.path}/missing`, /Invalid --model_dir ".*\/missing": no such folder$/],
      [bad, /cannot read .*\/bad\/config\.json/],
    ];
    const corrupt = `${dir.path}/corrupt`;
    await Deno.mkdir(corrupt);
    for (const f of ["config.json", "stats.safetensors", "text_encoder.pt"]) {
      await Deno.copyFile(`${ASSETS}/tmr/${f}`, `${corrupt}/${f}`);
    }
    await Deno.writeTextFile(`${corrupt}/motion_encoder.pt`, "garbage");
    cases.push([corrupt, /"[^"]*\/corrupt\/motion_encoder\.pt"/]);
    for (const [modelDir, pattern] of cases) {
      const r = await exportOnnx(["--model_dir", modelDir, "--output_dir", `${dir.path}/none`]);
      assert.equal(r.code, 2, modelDir);
      assert.equal(r.err.length, 1, r.err.join("\n"));
      assert.match(r.err[0], /^Cannot run deno run -A cli\/export_onnx\.ts: /);
      assert.match(r.err[0], pattern);
    }
    const none = await exportOnnx(["--output_dir", `${dir.path}/none`]);
    assert.equal(none.code, 2);
    assert.match(none.err[0], /nothing to export/);
    assert.ok(!(await listing(dir.path)).includes("none"));

    // The real command line: the same one line on stderr and exit code 2.
    const p = await runCli(
      "export_onnx.ts",
      ["--model_dir", "nope", "--output_dir", "x"],
      dir.path,
    );
    assert.equal(p.code, 2);
    assert.equal(
      p.stderr,
      'Cannot run deno run -A cli/export_onnx.ts: Invalid --model_dir "nope": no such folder\n',
    );
  } finally {
    await dir.remove();
  }
});

Deno.test({
  name: "the ONNX mini encoder on WebGPU gives the engine's embeddings",
  ignore: webgpuIgnore,
  async fn() {
    const dir = await tempDir();
    const be = createCpuBackend();
    try {
      const model = `${ASSETS}/tmr`;
      const r = await exportOnnx(["--model_dir", model, "--output_dir", dir.path]);
      assert.equal(r.code, 0, r.err.join("\n"));
      const engine = await loadMiniEncoder(model, be);
      const onnx = await loadMiniOnnxEncoder(model, { onnxDir: dir.path, device: "webgpu" });
      try {
        const { mean, std } = await readMiniStats(model);
        const N = 2, T = 30, F = mean.length, lengths = [30, 11];
        const rng = new Rng(7, 4);
        const x = Float32Array.from(
          { length: N * T * F },
          (_, i) => mean[i % F] + std[i % F] * rng.normal(),
        ); // (N, T, F)
        assertClose(
          await onnx.encodeTexts(TEXTS),
          await engine.encodeTexts(TEXTS),
          1e-5,
          1e-4,
          "texts",
        );
        assertClose(
          await onnx.encodeMotions(x, lengths, N, T),
          await engine.encodeMotions(x, lengths, N, T),
          1e-5,
          1e-4,
          "motions",
        );
      } finally {
        await onnx.release();
      }
    } finally {
      be.destroy();
      await dir.remove();
    }
  },
});
