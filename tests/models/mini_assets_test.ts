import assert from "node:assert/strict";
import { makeMiniDataset } from "../../datasets/mini/make_mini_dataset.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { sha256Hex } from "../../models/mini/build_mini_models.ts";
import type { MiniBuildRecord } from "../../models/mini/config.ts";
import { loadMiniEncoder, loadMiniTextFeaturizer } from "../../models/mini/mini_encoder.ts";
import { shippedArgsJson } from "../../models/mini/build_mini_mdm.ts";
import { retrievalCheck } from "../../models/mini/retrieval_check.ts";
import { hasTorch, runPython, tempDir } from "../_util.ts";

const ASSETS = new URL("../../assets/mini/", import.meta.url).pathname;

// Fresh clips the shipped models never saw: the generator with another seed (48 clips + mirrors).
const data = await tempDir();
const dataDir = `${data.path}/humanml`;
await makeMiniDataset({ outputDir: dataDir, numClips: 48, seed: 12345 });

for (const role of ["tmr", "evaluator"]) {
  Deno.test(`loadMiniEncoder() on assets/mini/${role} separates matched from shuffled pairs`, async () => {
    const enc = await loadMiniEncoder(`${ASSETS}${role}`, createCpuBackend());
    assert.equal(enc.dim, 64);
    const q = await retrievalCheck(enc, dataDir, "all", 1);
    assert.ok(q.samples >= 96, `samples ${q.samples}`);
    // Chance is k/32 for top-k: matched top-3 must beat it three times over.
    assert.ok(q.matched[2] > 3 * (3 / 32), `matched top-3 ${q.matched[2]}`);
    assert.ok(q.shuffled[2] < 2 * (3 / 32), `shuffled top-3 ${q.shuffled[2]}`);
    assert.ok(q.matched[0] > q.shuffled[0], `top-1 ${q.matched[0]} vs ${q.shuffled[0]}`);
  });
}

Deno.test("shipped assets/mini weight files match their build.json hashes", async () => {
  for (const role of ["tmr", "evaluator", "text"]) {
    const dir = `${ASSETS}${role}`;
    const rec = JSON.parse(await Deno.readTextFile(`${dir}/build.json`)) as MiniBuildRecord;
    assert.ok(Object.keys(rec.sha256).includes("text_encoder.pt"), role);
    for (const [name, want] of Object.entries(rec.sha256)) {
      assert.equal(sha256Hex(await Deno.readFile(`${dir}/${name}`)), want, `${role}/${name}`);
    }
  }
});

Deno.test("loadMiniTextFeaturizer() on assets/mini/text gives stable, text-dependent features", async () => {
  const f = await loadMiniTextFeaturizer(`${ASSETS}text`, createCpuBackend());
  assert.equal(f.dim, 64);
  const texts = ["a person walks forward.", "a person jumps in place.", "a person walks forward"];
  const a = await f.encode(texts), b = await f.encode(texts);
  assert.equal(a.length, 3 * 64);
  assert.deepEqual(a, b);
  assert.ok(a.every(Number.isFinite));
  // Punctuation is ignored; a different action gives a different vector.
  assert.deepEqual(a.subarray(128, 192), a.subarray(0, 64));
  let diff = 0;
  for (let c = 0; c < 64; c++) diff += Math.abs(a[c] - a[64 + c]);
  assert.ok(diff > 1e-2, `walk vs jump differ by ${diff}`);
});

Deno.test("loadMiniEncoder() refuses the text-only folder with a clear error", async () => {
  await assert.rejects(
    () => loadMiniEncoder(`${ASSETS}text`, createCpuBackend()),
    /has no motion encoder/,
  );
});

Deno.test({
  name: "torch.load reads the shipped encoders with TMR's keys",
  ignore: !hasTorch,
  fn: async () => {
    const script = [
      "import sys, torch",
      "for p in sys.argv[1:]:",
      "    sd = torch.load(p, map_location='cpu')",
      "    print(p.split('/')[-2], p.split('/')[-1], len(sd), tuple(sd['tokens'].shape),",
      "          tuple(sd['projection.weight'].shape), float(sd['tokens'].abs().sum()) > 0)",
    ].join("\n");
    const out = await runPython([
      "-c",
      script,
      `${ASSETS}tmr/text_encoder.pt`,
      `${ASSETS}tmr/motion_encoder.pt`,
    ]);
    const lines = out.trim().split("\n");
    // 2 layers x 12 tensors + tokens + projection weight and bias.
    assert.equal(lines[0], "tmr text_encoder.pt 27 (2, 64) (64, 32) True");
    assert.equal(lines[1], "tmr motion_encoder.pt 27 (2, 64) (64, 263) True");
  },
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(data.path, { recursive: true });
});

Deno.test("the shipped mini MDM matches its build.json hash; its args.json names repository folders", async () => {
  const rec = JSON.parse(await Deno.readTextFile(`${ASSETS}mdm/build.json`));
  assert.equal(sha256Hex(await Deno.readFile(`${ASSETS}mdm/model.pt`)), rec.sha256["model.pt"]);
  const args = JSON.parse(await Deno.readTextFile(`${ASSETS}mdm/args.json`));
  assert.equal(args.data_dir, "datasets/mini_cache/humanml");
  assert.equal(args.save_dir, "assets/mini/mdm");
  // a folder outside the repository (a --check rebuild's temp folder) is kept as it is
  const raw = new TextEncoder().encode(JSON.stringify({ data_dir: "/x", save_dir: "/y" }));
  const repo = new URL("../../", import.meta.url).pathname;
  const out = JSON.parse(
    new TextDecoder().decode(shippedArgsJson(raw, `${repo}datasets/d`, "/tmp/check")),
  );
  assert.deepEqual(out, { data_dir: "datasets/d", save_dir: "/tmp/check" });
});
