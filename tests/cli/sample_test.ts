import assert from "node:assert/strict";
import { ddpmPlan } from "../../diffusion/plan.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { loadNpy } from "../../datasets/npy.ts";
import { sampleToFiles } from "../../eval/run/sample.ts";
import { main, parseSampleArgs } from "../../cli/sample.ts";
import { FlagError } from "../../cli/_flags.ts";
import { tempDir } from "../_util.ts";
import { miniData, standInFeaturizer, testSplit, tinyMdm } from "../eval/_run_fixture.ts";
import { captureMain, hasHashedBow, writeTinyCheckpoint } from "../eval/_checkpoint_fixture.ts";

const tmp = await tempDir();
// CLIP is looked for under MOTION_GRPO_ASSETS: start without it whatever the caller's shell has.
Deno.env.delete("MOTION_GRPO_ASSETS");
/** The tiny CLIP text model of tests/golden/text/ (16 features), laid out as an assets folder. */
const TEXT_ASSETS = new URL("../golden/text", import.meta.url).pathname;
const root = await miniData(`${tmp.path}/mini`);
const ds = await testSplit(root);

Deno.test("sampleToFiles() writes .npy motions of the requested length and a drawable page", async () => {
  const out = `${tmp.path}/lib`;
  const r = await sampleToFiles({
    model: tinyMdm(),
    featurizer: standInFeaturizer,
    texts: ["a person waves", "a person jumps"],
    length: 24,
    repetitions: 2,
    seed: 3,
    guidance: 2.5,
    mean: ds.mean,
    std: ds.std,
    outputDir: out,
    plan: ddpmPlan(cosineTables(3)),
  });
  assert.equal(r.motions.length, 4);
  for (const m of r.motions) {
    const f = await loadNpy(m.features);
    assert.deepEqual(f.shape, [24, 263]);
    assert.equal(f.dtype, "<f4");
    for (const v of f.data as Float32Array) assert.ok(Number.isFinite(v));
    assert.deepEqual((await loadNpy(m.joints)).shape, [24, 22, 3]);
  }
  assert.deepEqual(r.motions.map((m) => [m.textIndex, m.repetition]), [[0, 0], [0, 1], [1, 0], [
    1,
    1,
  ]]);
  const page = await Deno.readTextFile(r.page);
  assert.ok(page.startsWith("<!doctype html>") && page.includes("<svg"));
  assert.ok(page.includes("a person waves") && page.includes("a person jumps"));
  const index = JSON.parse(await Deno.readTextFile(r.index));
  assert.equal(index.motions.length, 4);
  assert.equal(index.length, 24);
  // Repetitions draw different noise; the same seed gives the same file bytes.
  const a = await Deno.readFile(r.motions[0].features),
    b = await Deno.readFile(r.motions[1].features);
  assert.notDeepEqual(a, b);
});

Deno.test("parseSampleArgs() collects repeated --text and rejects a missing one", () => {
  const c = parseSampleArgs(["--model_path", "m.pt", "--text", "a", "--text=b", "--length", "60"]);
  assert.deepEqual(c.texts, ["a", "b"]);
  assert.equal(c.flags.length, 60);
  assert.equal(c.flags.num_repetitions, 3);
  assert.throws(
    () => parseSampleArgs(["--model_path", "m.pt"]),
    (e) => e instanceof FlagError && e.flag === "--text",
  );
  assert.throws(() => parseSampleArgs(["--model_path", "m.pt", "--text"]), FlagError);
  assert.throws(
    () => parseSampleArgs(["--model_path", "m.pt", "--text", "a", "--length", "0"]),
    (e) => e instanceof FlagError && e.flag === "--length",
  );
});

Deno.test("sample command stops with one line for a CLIP-conditioned official checkpoint", async () => {
  const model = await writeTinyCheckpoint(`${tmp.path}/official`, "clip");
  const r = await captureMain(main, [
    "--model_path",
    model,
    "--text",
    "a person waves",
    "--device",
    "cpu",
  ]);
  assert.equal(r.code, 2);
  assert.equal(r.err.length, 1);
  assert.match(
    r.err[0],
    /CLIP ViT-B\/32 text encoder .* was not found: MOTION_GRPO_ASSETS is not set; .*clip\/text_model\.onnx/,
  );
});

Deno.test("sample command conditions a CLIP checkpoint on the ONNX CLIP of MOTION_GRPO_ASSETS", async () => {
  const dir = `${tmp.path}/clip16`;
  // textDim 16: the fixture CLIP's width (512 for the real one).
  const model = await writeTinyCheckpoint(dir, "clip", {
    textDim: 16,
    extraArgs: { clip_dim: 16 },
  });
  const out = `${dir}/out`;
  Deno.env.set("MOTION_GRPO_ASSETS", TEXT_ASSETS);
  try {
    const r = await captureMain(main, [
      ...["--model_path", model, "--text", "a man walks forward", "--length", "20"],
      ...["--num_repetitions", "1", "--output_dir", out, "--data_dir", root, "--device", "cpu"],
    ]);
    assert.equal(r.code, 0, r.err.join("\n"));
    assert.deepEqual((await loadNpy(`${out}/sample00_rep00.npy`)).shape, [20, 263]);
    const index = JSON.parse(await Deno.readTextFile(`${out}/samples.json`));
    assert.match(JSON.stringify(index), /clip@sha256:[0-9a-f]{64}/);
  } finally {
    Deno.env.delete("MOTION_GRPO_ASSETS");
  }
});

Deno.test({
  name: "sample command writes motions and prints their paths",
  ignore: !hasHashedBow,
  fn: async () => {
    const model = await writeTinyCheckpoint(`${tmp.path}/bow`, "hashed_bow");
    const out = `${tmp.path}/cli`;
    const r = await captureMain(main, [
      "--model_path",
      model,
      "--text",
      "a person waves",
      "--length",
      "20",
      "--num_repetitions",
      "1",
      "--output_dir",
      out,
      "--data_dir",
      root,
      "--device",
      "cpu",
    ]);
    assert.equal(r.code, 0, r.err.join("\n"));
    assert.deepEqual((await loadNpy(`${out}/sample00_rep00.npy`)).shape, [20, 263]);
    assert.ok(r.out.some((l) => l.includes(`${out}/sample00_rep00.npy`)));
    assert.ok(r.out.some((l) => l === `Wrote ${out}/samples.html`));
  },
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(tmp.path, { recursive: true });
});
