import assert from "node:assert/strict";
import { join } from "node:path";
import { manifestId } from "../../experiments/hash.ts";
import { changesSinceLastRun } from "../../experiments/last_run.ts";
import { hashPath } from "../../experiments/lock.ts";
import { expandVars, findManifest, MINI_ASSETS_DIR } from "../../experiments/manifest.ts";
import { InputChangedError, verifyExperiment } from "../../experiments/runner.ts";
import type { Manifest } from "../../experiments/schema.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { tempDir } from "../_util.ts";
import { exp } from "./_fixture.ts";

/** The inputs of `m` that a run hashes (the generated dataset is left to its stage). */
function lockedRoles(m: Manifest): string[] {
  const generated = new Set(m.stages.find((s) => s.name === "assets")?.outputs ?? []);
  return Object.keys(m.inputs).filter((r) => !generated.has(m.inputs[r].path));
}

/**
 * A recorded run of `m` as `deno task exp run` leaves it: `manifest.json`, `lock.json` with the
 * SHA-256 of every input (read under `miniAssets`), and `results.json` (what verify compares).
 */
async function fabricateRun(m: Manifest, runsDir: string, miniAssets: string): Promise<string> {
  const dir = join(runsDir, m.name);
  await Deno.mkdir(dir, { recursive: true });
  const inputs: Record<string, { path: string; sha256: string }> = {};
  for (const role of lockedRoles(m)) {
    const path = expandVars(m.inputs[role].path, { miniAssets, mini: "/nonexistent" });
    inputs[role] = { path: m.inputs[role].path, sha256: (await hashPath(path)).sha256 };
  }
  const id = await manifestId(m);
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify(m));
  await Deno.writeTextFile(
    join(dir, "lock.json"),
    JSON.stringify({ manifest_id: id, inputs, stages: {} }),
  );
  const fid = { mean: 18.28, interval: 2.2 };
  await Deno.writeTextFile(
    join(dir, "results.json"),
    JSON.stringify({
      name: m.name,
      manifest_id: id,
      device_class: "cpu",
      created: "2026-11-25T00:00:00Z",
      checkpoint_sha256: "0".repeat(64),
      reward: { steps: 1, first_mean: 0.4, last_mean: 0.5 },
      metrics: { base: { fid }, finetuned: { fid } },
    }),
  );
  return dir;
}

/** Small seeded files at every locked input path of `m` under `root` (folders get two files). */
async function writeInputs(m: Manifest, root: string): Promise<void> {
  const rng = new Rng(11, 0);
  for (const role of lockedRoles(m)) {
    const path = expandVars(m.inputs[role].path, { miniAssets: root, mini: "/nonexistent" });
    const bytes = new Uint8Array(2000).map(() => rng.int(256));
    if (role === "evaluator") {
      await Deno.mkdir(join(path, "sub"), { recursive: true });
      await Deno.writeFile(join(path, "a.pt"), bytes);
      await Deno.writeFile(join(path, "sub", "b.json"), new TextEncoder().encode(role));
    } else {
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(path, bytes);
    }
  }
}

/** exp5 with its inputs written under `dir`/assets (runs go to `dir`/runs; none yet). */
async function stageExp5(dir: string): Promise<{ m: Manifest; assets: string; runsDir: string }> {
  const m = await findManifest("exp5");
  const assets = join(dir, "assets");
  await writeInputs(m, assets);
  return { m, assets, runsDir: join(dir, "runs") };
}

Deno.test("changesSinceLastRun() names one changed input byte with both hashes", async () => {
  const tmp = await tempDir();
  try {
    const { m, assets, runsDir } = await stageExp5(tmp.path);
    const o = { runsDir, miniAssets: assets, mini: join(tmp.path, "mini") };
    assert.deepEqual(await changesSinceLastRun(m, o), { lockPath: null, changes: [], notes: [] });
    await fabricateRun(m, runsDir, assets);
    const same = await changesSinceLastRun(m, o);
    assert.deepEqual(same.changes, []);
    assert.equal(same.lockPath, join(runsDir, "exp5", "lock.json"));

    const file = join(assets, "tmr", "text_encoder.pt");
    const before = (await hashPath(file)).sha256;
    const bytes = await Deno.readFile(file);
    bytes[1000] ^= 1;
    await Deno.writeFile(file, bytes);
    const after = (await hashPath(file)).sha256;
    assert.notEqual(after, before);
    const changed = await changesSinceLastRun(m, o);
    assert.deepEqual(changed.changes, [
      `input tmr_text_encoder "${file}": the last run used sha256 ${before}, found ${after}`,
    ]);
    // A folder input: one byte of one file changes its listing hash.
    const evalFile = join(assets, "evaluator", "sub", "b.json");
    await Deno.writeTextFile(evalFile, "evaluatos");
    const two = await changesSinceLastRun(m, o);
    assert.equal(two.changes.length, 2);
    assert.match(two.changes[1], /^input evaluator ".*evaluator": the last run used sha256/);
    await Deno.remove(file);
    assert.match(
      (await changesSinceLastRun(m, o)).changes[0],
      /^input tmr_text_encoder ".*": missing \(the last run read it\)$/,
    );
  } finally {
    await tmp.remove();
  }
});

Deno.test("changesSinceLastRun() names a changed parameter; a recorded expected is only a note", async () => {
  const tmp = await tempDir();
  try {
    const { m, assets, runsDir } = await stageExp5(tmp.path);
    await fabricateRun(m, runsDir, assets);
    const o = { runsDir, miniAssets: assets };
    const alpha = { ...m, params: { ...m.params, alpha: 0.25 } };
    assert.notEqual(await manifestId(alpha), await manifestId(m));
    assert.deepEqual((await changesSinceLastRun(alpha, o)).changes, [
      `params.alpha: the last run used ${m.params.alpha}, now 0.25`,
    ]);
    const seed = { ...m, seed: 11, params: { ...m.params, seed: 11 } };
    assert.deepEqual((await changesSinceLastRun(seed, o)).changes, [
      "seed: the last run used 10, now 11",
      "params.seed: the last run used 10, now 11",
    ]);
    const recorded: Manifest = {
      ...m,
      expected: { metrics: { "finetuned.fid": { value: 1, provenance: "test" } } },
    };
    const r = await changesSinceLastRun(recorded, o);
    assert.deepEqual(r.changes, []);
    assert.deepEqual(r.notes, ["expected: the recorded results changed"]);
  } finally {
    await tmp.remove();
  }
});

Deno.test("verifyExperiment() stops before rerunning when an input differs from the last run", async () => {
  const tmp = await tempDir();
  try {
    const { m, assets, runsDir } = await stageExp5(tmp.path);
    await fabricateRun(m, runsDir, assets);
    const file = join(assets, "mdm", "model.pt");
    const bytes = await Deno.readFile(file);
    bytes[0] ^= 0x80;
    await Deno.writeFile(file, bytes);
    const logs: string[] = [];
    await assert.rejects(
      () =>
        verifyExperiment(m, {
          runsDir,
          miniAssets: assets,
          mini: join(tmp.path, "mini"),
          log: (s) => logs.push(s),
        }),
      (e: Error) => {
        assert.ok(e instanceof InputChangedError, e.message);
        assert.match(
          e.message,
          /^Cannot verify exp5: 1 difference from the last run \(.*lock\.json\):\n/,
        );
        assert.match(
          e.message,
          /\n {2}input checkpoint ".*mdm\/model\.pt": the last run used sha256 [0-9a-f]{64}, found [0-9a-f]{64}\n/,
        );
        assert.match(e.message, /run it again to accept them \(deno task exp run exp5; /);
        return true;
      },
    );
    assert.deepEqual(logs, [], "nothing was rerun");
    assert.equal(
      await Deno.stat(join(tmp.path, "mini")).then(() => true, () => false),
      false,
      "the dataset stage did not start",
    );
  } finally {
    await tmp.remove();
  }
});

Deno.test("exp verify names the input whose bytes differ from the last run's lock", async () => {
  const tmp = await tempDir();
  try {
    const m = await findManifest("exp5");
    const runsDir = join(tmp.path, "runs");
    // The lock of a run that read other bytes for the TMR text encoder than assets/mini holds.
    const dir = await fabricateRun(m, runsDir, MINI_ASSETS_DIR);
    const lock = JSON.parse(await Deno.readTextFile(join(dir, "lock.json")));
    const actual = lock.inputs.tmr_text_encoder.sha256;
    lock.inputs.tmr_text_encoder.sha256 = "0".repeat(64);
    await Deno.writeTextFile(join(dir, "lock.json"), JSON.stringify(lock));
    const { code, err } = await exp("verify", "exp5", "--runs", runsDir);
    assert.equal(code, 2, err);
    assert.match(
      err,
      new RegExp(
        `input tmr_text_encoder ".*tmr/text_encoder\\.pt": the last run used sha256 0{64}, ` +
          `found ${actual}`,
      ),
    );
  } finally {
    await tmp.remove();
  }
});
