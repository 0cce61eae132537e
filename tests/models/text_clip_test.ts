import assert from "node:assert/strict";
import { ClipTextFeaturizer } from "../../models/text/clip_text.ts";
import { sha256Hex } from "../../models/text/assets.ts";
import { assertClose } from "../_util.ts";
import { goldenFiles, readTextGolden } from "./_text_fixture.ts";

const golden = await readTextGolden();
const files = goldenFiles("clip");

Deno.test("ClipTextFeaturizer reproduces the PyTorch CLIP text tower on MDM's token rows", async () => {
  const f = await ClipTextFeaturizer.load({ files });
  try {
    const cases = golden.clip.cases, D = golden.clip.dim;
    assert.equal(f.dim, D);
    for (const c of cases) {
      const row = f.tokenize(c.text);
      assert.deepEqual([...row.subarray(0, c.ids.length)].map(Number), c.ids, c.text);
    }
    // Shuffled, with a repeat: the memo and the batch order must not mix texts up.
    const order = [3, 0, 4, 1, 2, 0];
    const out = await f.encode(order.map((i) => cases[i].text)); // (6, D)
    assert.equal(out.length, order.length * D);
    order.forEach((i, k) => {
      // float32 ORT vs float32 PyTorch, different summation order: atol 1e-5 + rtol 1e-4.
      assertClose(
        out.subarray(k * D, (k + 1) * D),
        cases[i].text_embeds,
        1e-5,
        1e-4,
        cases[i].text,
      );
    });
    // A second call is served from the memo and gives the same numbers.
    assert.deepEqual(await f.encode([cases[1].text]), out.subarray(3 * D, 4 * D));
    // Not normalised: the fixture's embeddings have norms far from 1.
    const norm = Math.hypot(...out.subarray(0, D));
    assert.ok(Math.abs(norm - 1) > 0.1, `norm ${norm}`);
  } finally {
    await f.release();
  }
});

Deno.test("ClipTextFeaturizer.prefetch() fills the memo that a later encode() reads", async () => {
  const f = await ClipTextFeaturizer.load({ files });
  try {
    const [a, b] = golden.clip.cases.map((c) => c.text);
    const fresh = await ClipTextFeaturizer.load({ files });
    const want = await fresh.encode([a, b]);
    await fresh.release();
    f.prefetch([b, a]);
    await f.encode([]); // queued behind the prefetch: done when it is
    await f.release(); // without its model, only the memo can answer
    assert.deepEqual(await f.encode([a, b]), want);
    // A prefetch that fails does not reject anything itself; the encode that needs it reports.
    f.prefetch(["another text"]);
    await assert.rejects(() => f.encode(["another text"]));
  } finally {
    await f.release().catch(() => {});
  }
});

Deno.test("ClipTextFeaturizer names the ONNX file's SHA-256 and accepts model.onnx", async () => {
  const bytes = await Deno.readFile(files.model);
  const sha = await sha256Hex(bytes);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/model.onnx`, bytes);
    await Deno.copyFile(files.tokenizer, `${dir}/tokenizer.json`);
    const f = await ClipTextFeaturizer.load({
      files: { kind: "clip", dir, model: `${dir}/model.onnx`, tokenizer: `${dir}/tokenizer.json` },
    });
    try {
      assert.equal(f.name, `clip@sha256:${sha}`);
      assert.equal(f.params.sha256, sha);
      assert.equal(f.params.max_text_len, 20);
    } finally {
      await f.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ClipTextFeaturizer refuses a graph without text_embeds in one line", async () => {
  const d = goldenFiles("distilbert");
  await assert.rejects(
    () => ClipTextFeaturizer.load({ files: { ...files, model: d.model } }),
    (e: Error) =>
      /^Cannot use CLIP model ".*distilbert\/model\.onnx": it has no output text_embeds/.test(
        e.message,
      ) && !e.message.includes("\n"),
  );
});
