import assert from "node:assert/strict";
import { locateTextModel, TextAssetError } from "../../models/text/assets.ts";

const tmp = await Deno.makeTempDir();

async function touch(path: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, "x");
}

/** Asserts one line naming every `parts`. */
function oneLine(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof TextAssetError, String(e));
    assert.ok(!e.message.includes("\n"), e.message);
    for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" lacks "${p}"`);
    return true;
  });
}

Deno.test("locateTextModel() names MOTION_GRPO_ASSETS and the expected path when files are missing", async () => {
  oneLine(
    () => locateTextModel("clip", null),
    "MOTION_GRPO_ASSETS is not set",
    "clip/text_model.onnx",
  );
  oneLine(
    () => locateTextModel("distilbert", null),
    "MOTION_GRPO_ASSETS is not set",
    "distilbert/model.onnx",
  );
  const root = `${tmp}/a`;
  oneLine(() => locateTextModel("clip", root), `"${root}/clip/text_model.onnx" does not exist`);
  await touch(`${root}/clip/text_model.onnx`);
  oneLine(() => locateTextModel("clip", root), `"${root}/clip/tokenizer.json" does not exist`);
  await touch(`${root}/clip/tokenizer.json`);
  assert.deepEqual(locateTextModel("clip", root), {
    kind: "clip",
    dir: `${root}/clip`,
    model: `${root}/clip/text_model.onnx`,
    tokenizer: `${root}/clip/tokenizer.json`,
  });
  oneLine(() => locateTextModel("distilbert", root), `"${root}/distilbert/model.onnx"`);
});

Deno.test("locateTextModel() accepts clip/model.onnx and reads the variable by default", async () => {
  const root = `${tmp}/b`;
  await touch(`${root}/clip/model.onnx`);
  await touch(`${root}/clip/tokenizer.json`);
  const saved = Deno.env.get("MOTION_GRPO_ASSETS");
  Deno.env.set("MOTION_GRPO_ASSETS", root);
  try {
    assert.equal(locateTextModel("clip").model, `${root}/clip/model.onnx`);
  } finally {
    if (saved === undefined) Deno.env.delete("MOTION_GRPO_ASSETS");
    else Deno.env.set("MOTION_GRPO_ASSETS", saved);
  }
});

globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
