import assert from "node:assert/strict";
import { join } from "node:path";
import { findManifest } from "../../experiments/manifest.ts";
import {
  compareResults,
  InputChangedError,
  recordedManifest,
  runExperiment,
  verifyExperiment,
} from "../../experiments/runner.ts";
import { listRows } from "../../experiments/report.ts";
import { type Manifest, validateManifest } from "../../experiments/schema.ts";
import { tempDir } from "../_util.ts";

/** exp5 at test scale: 2 GRPO steps, a 20-clip dataset, a tiny evaluation. */
async function tinyExp5(): Promise<Manifest> {
  const m = await findManifest("exp5");
  return {
    ...m,
    params: { ...m.params, num_steps: 2, max_motion_length: 40, eval_interval: 2, eval_prompts: 4 },
    expected: null,
    mini: {
      dataset_clips: 20,
      train_steps: 1,
      save_interval: 1,
      eval: { replications: 2, batch_size: 4, num_samples_limit: 8, diversity_times: 5 },
    },
  };
}

Deno.test("runExperiment() runs, skips unchanged stages, verifies and stops on a changed input", async () => {
  const tmp = await tempDir();
  const lines: string[] = [];
  try {
    const m = await tinyExp5();
    const runsDir = join(tmp.path, "runs");
    const assets = join(tmp.path, "assets");
    await Deno.mkdir(assets);
    // A copy of the shipped models, so one byte can be changed.
    for (const sub of ["mdm", "tmr", "evaluator", "text"]) {
      await new Deno.Command("cp", { args: ["-r", `assets/mini/${sub}`, assets] }).output();
    }
    const opts = {
      runsDir,
      mini: join(tmp.path, "mini"),
      miniAssets: assets,
      log: (s: string) => lines.push(s),
    };
    const r = await runExperiment(m, opts);
    const dir = join(runsDir, "exp5");
    for (const f of ["manifest.json", "lock.json", "results.json", "report.html"]) {
      assert.ok((await Deno.stat(join(dir, f))).isFile, f);
    }
    assert.equal(r.reward.steps, 2);
    // The held-out reward of the base (step 0) and the final model, paired over 4 prompts.
    assert.equal(r.reward.held_out?.prompts, 4);
    assert.equal(r.reward.held_out?.step, 2);
    assert.match(r.checkpoint_sha256, /^[0-9a-f]{64}$/);
    assert.ok(Number.isFinite(r.metrics.finetuned.fid.mean));
    const html = await Deno.readTextFile(join(dir, "report.html"));
    assert.match(html, /<polyline/);
    assert.match(html, /Samples \(base vs fine-tuned/);

    // record: the results become the manifest's expected, which still validates.
    const rec = await recordedManifest(m, opts);
    validateManifest(JSON.parse(JSON.stringify(rec)), "exp5.json");
    assert.equal(rec.expected!.metrics["finetuned.fid"].value, r.metrics.finetuned.fid.mean);
    assert.equal(rec.expected!.metrics["finetuned.fid"].interval, r.metrics.finetuned.fid.interval);
    assert.match(rec.expected!.metrics["finetuned.fid"].provenance, /commit .*device cpu/);

    // Second run: assets and train are skipped.
    lines.length = 0;
    const r2 = await runExperiment(m, opts);
    assert.ok(lines.some((l) => /^assets: .* unchanged/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /^train: .* unchanged, skipped/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /^eval: .* unchanged, skipped/.test(l)), lines.join("\n"));
    assert.deepEqual(r2.metrics, r.metrics);

    // Verify: bit-exact rerun passes; an altered expected metric fails.
    assert.equal(await verifyExperiment(m, opts), true);
    assert.match(
      (await listRows(undefined, runsDir)).find((x) => x.name === "exp5")!.verified,
      /passed \(exact/,
    );
    // --checkpoint evaluates the run's model again, without the training's reward metrics.
    const model = join(
      dir,
      "save",
      (await Array.fromAsync(Deno.readDir(join(dir, "save"))))[0].name,
    );
    assert.equal(
      await verifyExperiment(m, { ...opts, checkpoint: join(model, "model_final.pt") }),
      true,
    );
    // One changed byte of an input stops the run naming it and both hashes.
    const ckpt = join(assets, "tmr", "text_encoder.pt");
    const bytes = await Deno.readFile(ckpt);
    bytes[bytes.length - 1] ^= 1;
    await Deno.writeFile(ckpt, bytes);
    await assert.rejects(
      () => runExperiment(m, opts),
      (e: Error) =>
        e instanceof InputChangedError &&
        /input tmr_text_encoder .* sha256 [0-9a-f]{64}, found [0-9a-f]{64}/.test(e.message),
    );
  } finally {
    await tmp.remove();
  }
});

Deno.test("compareResults() fails an altered metric exactly and passes it within the interval", () => {
  const expected = { "finetuned.fid": { value: 44.25, interval: 0.5 } };
  const exact = compareResults(expected, { "finetuned.fid": 44.25 + 1e-6 }, true);
  assert.equal(exact[0].ok, false);
  assert.equal(compareResults(expected, { "finetuned.fid": 44.25 }, true)[0].ok, true);
  assert.equal(compareResults(expected, { "finetuned.fid": 44.6 }, false)[0].ok, true);
  assert.equal(compareResults(expected, { "finetuned.fid": 44.8 }, false)[0].ok, false);
  assert.equal(compareResults(expected, {}, true)[0].ok, false);
});
