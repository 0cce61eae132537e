import assert from "node:assert/strict";
import { join } from "node:path";
import { assertClose, tempDir } from "../_util.ts";
import {
  expectShapes,
  loadMdmStateDict,
  parseMdmArgs,
  readArgsJson,
} from "../../models/checkpoint/mdm_checkpoint.ts";
import { toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { writeSafetensors } from "../../models/checkpoint/safetensors.ts";

const GOLDEN = new URL("../golden/pt/", import.meta.url).pathname;
type Expected = Record<string, { dtype: string; shape: number[]; values: number[] }>;
const EXPECTED: Record<string, Expected> = JSON.parse(
  await Deno.readTextFile(join(GOLDEN, "expected.json")),
);
const KEPT = [
  "input_process.poseEmbedding.weight",
  "input_process.poseEmbedding.bias",
  "seqTransEncoder.layers.0.linear1.weight",
  "output_process.poseFinal.weight",
];

Deno.test("loadMdmStateDict() picks model_avg and drops clip_model.* and pe buffers", async () => {
  const sd = await loadMdmStateDict(join(GOLDEN, "mdm_ema.pt"));
  assert.deepEqual([...sd.keys()], KEPT);
  for (const k of KEPT) {
    const e = EXPECTED["mdm_ema.pt"][`model_avg/${k}`];
    assert.deepEqual(sd.get(k)!.shape, e.shape, k);
    assertClose(toFloat32(sd.get(k)!), e.values, 0, 0, k);
  }
});

Deno.test("loadMdmStateDict() with useAvg false picks model", async () => {
  const sd = await loadMdmStateDict(join(GOLDEN, "mdm_ema.pt"), { useAvg: false });
  const k = "input_process.poseEmbedding.bias";
  assertClose(toFloat32(sd.get(k)!), EXPECTED["mdm_ema.pt"][`model/${k}`].values, 0, 0, k);
});

Deno.test("loadMdmStateDict() reads a plain state dict file", async () => {
  const sd = await loadMdmStateDict(join(GOLDEN, "mdm_plain.pt"));
  assert.deepEqual([...sd.keys()], KEPT);
  const k = "output_process.poseFinal.weight";
  assertClose(toFloat32(sd.get(k)!), EXPECTED["mdm_plain.pt"][k].values, 0, 0, k);
});

Deno.test("loadMdmStateDict() rejects files that are not checkpoints, naming them", async () => {
  const dir = await tempDir();
  try {
    const txt = join(dir.path, "model.pt");
    await Deno.writeTextFile(txt, "not a checkpoint\n");
    await assert.rejects(() => loadMdmStateDict(txt), {
      name: "SyntaxError",
      message:
        `Cannot load checkpoint "${txt}": file is not a PyTorch checkpoint (neither a zip archive nor a pickle)`,
    });
    const st = join(dir.path, "w.safetensors");
    await Deno.writeFile(st, writeSafetensors(new Map()));
    await assert.rejects(() => loadMdmStateDict(st), /file is a \.safetensors file/);
    await assert.rejects(() => loadMdmStateDict(join(dir.path, "missing.pt")), {
      name: "NotFound",
      message: `Cannot load checkpoint "${join(dir.path, "missing.pt")}": file not found`,
    });
    await assert.rejects(
      () => loadMdmStateDict(join(GOLDEN, "evaluator.tar")),
      /evaluator.tar": key movement_encoder is a dict with 2 keys, not a tensor/,
    );
  } finally {
    await dir.remove();
  }
});

Deno.test("expectShapes() names the missing key or the wrong shape", async () => {
  const sd = await loadMdmStateDict(join(GOLDEN, "mdm_ema.pt"));
  expectShapes(sd, { "input_process.poseEmbedding.weight": [8, 6] }, "m.pt");
  assert.throws(
    () => expectShapes(sd, { "seqTransEncoder.layers.3.linear1.weight": [16, 8] }, "m.pt"),
    {
      name: "RangeError",
      message: 'Cannot load checkpoint "m.pt": missing key seqTransEncoder.layers.3.linear1.weight',
    },
  );
  assert.throws(() => expectShapes(sd, { "input_process.poseEmbedding.weight": [8, 7] }, "m.pt"), {
    message: 'Cannot load checkpoint "m.pt": key input_process.poseEmbedding.weight has shape ' +
      "[8, 6], expected [8, 7]",
  });
  assert.throws(() => expectShapes(sd, { "input_process.poseEmbedding.bias": [8, 1] }, "m.pt"), {
    message: 'Cannot load checkpoint "m.pt": key input_process.poseEmbedding.bias has shape ' +
      "[8], expected [8, 1]",
  });
});

Deno.test("readArgsJson() reads MDM's args.json beside the checkpoint", async () => {
  const args = await readArgsJson(join(GOLDEN, "mdm_ema.pt"));
  assert.equal(args.latent_dim, 8);
  assert.equal(args.layers, 1);
  assert.equal(args.diffusion_steps, 50);
  assert.equal(args.mask_frames, true);
  assert.equal(args.use_ema, true);
  assert.equal(args.noise_schedule, "cosine");
  assert.equal(args.cond_mask_prob, 0.1);
  // Not saved by MDM: the model's fixed values.
  assert.equal(args.ff_size, 1024);
  assert.equal(args.heads, 4);
  assert.equal(args.raw.batch_size, 64);
});

Deno.test("parseMdmArgs() fills defaults and rejects mistyped fields", () => {
  const a = parseMdmArgs({ dataset: "kit" });
  assert.equal(a.dataset, "kit");
  assert.equal(a.diffusion_steps, 1000);
  assert.equal(a.mask_frames, false);
  assert.throws(() => parseMdmArgs({ layers: "8" }, "x/args.json"), {
    name: "TypeError",
    message: 'Cannot read MDM arguments "x/args.json": field layers is "8", expected a number',
  });
  assert.throws(
    () => parseMdmArgs({ latent_dim: 5.5 }),
    /field latent_dim is 5.5, expected an integer/,
  );
  assert.throws(() => parseMdmArgs([1]), /expected a JSON object/);
});
