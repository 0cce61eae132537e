import assert from "node:assert/strict";
import { MANIFEST_DIR, manifestNames } from "../../experiments/manifest.ts";
import { lastVerified } from "../../experiments/run_record.ts";
import { manifestId } from "../../experiments/hash.ts";
import { tempDir } from "../_util.ts";
import { exp } from "./_fixture.ts";

Deno.test("exp list shows every manifest with its profile, short id and verification", async () => {
  const dir = await tempDir();
  try {
    const { code, out } = await exp("list", "--runs", dir.path);
    assert.equal(code, 0);
    const lines = out.trimEnd().split("\n");
    const names = await manifestNames();
    assert.equal(lines.length, names.length + 1);
    assert.match(lines[0], /^name +profile +id +verified +title$/);
    for (const name of names) {
      const id = await manifestId(
        JSON.parse(await Deno.readTextFile(`${MANIFEST_DIR}${name}.json`)),
      );
      const line = lines.find((l) => l.startsWith(name + " "));
      assert.ok(line !== undefined, `list lacks ${name}`);
      assert.match(line, new RegExp(`^${name} +(mini|paper) +${id.slice(0, 12)} +never +\\S`));
    }
    const exp5 = lines.find((l) => l.startsWith("exp5 "))!;
    assert.match(exp5, /^exp5\s+mini\s+[0-9a-f]{12}\s+never\s+Experiment 5/);
  } finally {
    await dir.remove();
  }
});

Deno.test("exp list shows the last verification's verdict and date from runs/<name>/verify.json", async () => {
  const dir = await tempDir();
  try {
    const record = (name: string, id: string, passed: boolean, mode: string, created: string) =>
      Deno.mkdir(`${dir.path}/${name}`).then(() =>
        Deno.writeTextFile(
          `${dir.path}/${name}/verify.json`,
          JSON.stringify({ manifest_id: id, passed, mode, device_class: "cpu", created }),
        )
      );
    const idOf = async (name: string) =>
      manifestId(JSON.parse(await Deno.readTextFile(`${MANIFEST_DIR}${name}.json`)));
    await record("exp5", await idOf("exp5"), true, "exact", "2026-11-25T23:40:00Z");
    await record("exp4", await idOf("exp4"), false, "interval", "2026-11-24T08:00:00Z");
    await record("exp3", "ab".repeat(32), true, "exact", "2026-11-20T08:00:00Z");
    const { code, out } = await exp("list", "--runs", dir.path);
    assert.equal(code, 0);
    const line = (name: string) => out.split("\n").find((l) => l.startsWith(name + " "))!;
    assert.match(
      line("exp5"),
      /^exp5 +mini +[0-9a-f]{12} +passed \(exact, 2026-11-25\) +Experiment 5/,
    );
    assert.match(line("exp4"), /^exp4 +mini +[0-9a-f]{12} +FAILED \(interval, 2026-11-24\) +/);
    assert.match(
      line("exp3"),
      /^exp3 +mini +[0-9a-f]{12} +stale: passed \(exact, 2026-11-20\) for another manifest id +/,
    );
    assert.match(line("exp2"), /^exp2 +mini +[0-9a-f]{12} +never +/);
  } finally {
    await dir.remove();
  }
});

Deno.test("exp verify without recorded numbers and a paper run without assets stop with exit 2", async () => {
  const dir = await tempDir();
  try {
    const verify = await exp("verify", "exp3", "--runs", dir.path);
    assert.equal(verify.code, 2);
    assert.match(verify.err.trim(), /^Cannot verify exp3: nothing to compare with: record /);
    const table = await exp("verify", "exp3", "--table", `${dir.path}/t.md`);
    assert.equal(table.code, 2);
    assert.match(table.err.trim(), /^Cannot read table ".*t\.md": no such file$/);
    const paper = await exp("run", "exp5", "--profile", "paper");
    assert.equal(paper.code, 2);
    assert.equal(paper.err.trim(), "Cannot run exp5-paper: the paper profile needs --assets DIR");
  } finally {
    await dir.remove();
  }
});

Deno.test("exp run reports a broken manifest's own error first", async () => {
  const dir = await tempDir();
  try {
    const m = JSON.parse(await Deno.readTextFile(`${MANIFEST_DIR}exp5.json`));
    m.params.learning_rate = "1e-6";
    await Deno.writeTextFile(`${dir.path}/exp5.json`, JSON.stringify(m));
    const r = await exp("run", "exp5", "--manifests", dir.path);
    assert.equal(r.code, 2);
    assert.equal(
      r.err.trim(),
      'Invalid manifest "exp5.json": params.learning_rate must be a number > 0, got "1e-6"',
    );
    const list = await exp("list", "--manifests", dir.path);
    assert.match(list.out, /exp5\s+\?\s+invalid/);
  } finally {
    await dir.remove();
  }
});

Deno.test("exp show prints the full id and exp diff the differing parameters", async () => {
  const show = await exp("show", "exp5");
  assert.equal(show.code, 0);
  const id = await manifestId(JSON.parse(await Deno.readTextFile(`${MANIFEST_DIR}exp5.json`)));
  assert.match(show.out, new RegExp(`# id ${id}\n`));
  assert.match(show.out, /"alpha": 0\.5/);
  const diff = await exp("diff", "exp1", "exp3");
  assert.equal(diff.code, 0);
  const paths = diff.out.trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0]);
  for (const p of ["params.use_physics_reward", "params.beta_p"]) assert.ok(paths.includes(p), p);
  assert.ok(!paths.includes("params.alpha"));
  const unknown = await exp("show", "exp9");
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^Cannot find experiment "exp9": known experiments are /);
});

Deno.test("lastVerified() reads runs/<name>/verify.json", async () => {
  const dir = await tempDir();
  try {
    assert.equal(await lastVerified("exp5", "ab", dir.path), "never");
    await Deno.mkdir(`${dir.path}/exp5`);
    const record = {
      manifest_id: "ab",
      passed: true,
      mode: "exact",
      device_class: "cpu",
      created: "2026-11-25T12:00:00Z",
    };
    await Deno.writeTextFile(`${dir.path}/exp5/verify.json`, JSON.stringify(record));
    assert.equal(await lastVerified("exp5", "ab", dir.path), "passed (exact, 2026-11-25)");
    assert.match(await lastVerified("exp5", "cd", dir.path), /^stale: /);
    await Deno.writeTextFile(`${dir.path}/exp5/verify.json`, "{");
    assert.equal(await lastVerified("exp5", "ab", dir.path), "unreadable");
  } finally {
    await dir.remove();
  }
});
