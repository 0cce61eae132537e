import assert from "node:assert/strict";
import { findManifest } from "../../experiments/manifest.ts";
import { manifestId } from "../../experiments/hash.ts";
import {
  checkInputs,
  hashFile,
  hashPath,
  lockInputs,
  readLock,
  writeLock,
} from "../../experiments/lock.ts";
import type { Manifest } from "../../experiments/schema.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { tempDir } from "../_util.ts";

/** Writes every input of `m` under `root` (`$MINI`): small files, folders with two files. */
async function writeInputs(m: Manifest, root: string): Promise<void> {
  const rng = new Rng(7, 0);
  for (const [role, input] of Object.entries(m.inputs)) {
    const path = input.path.replace(/^\$MINI(_ASSETS)?/, root);
    const bytes = new Uint8Array(3000).map(() => rng.int(256));
    if (role === "dataset" || role === "evaluator") {
      await Deno.mkdir(`${path}/sub`, { recursive: true });
      await Deno.writeFile(`${path}/a.npy`, bytes);
      await Deno.writeFile(`${path}/sub/b.txt`, new TextEncoder().encode(role));
    } else {
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(path, bytes);
    }
  }
}

Deno.test("hashFile() streams the FIPS 180-2 vectors", async () => {
  const dir = await tempDir();
  try {
    await Deno.writeTextFile(`${dir.path}/abc`, "abc");
    assert.deepEqual(await hashFile(`${dir.path}/abc`), {
      sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      size: 3,
    });
    // One million 'a' crosses the 1 MiB read size boundary minus a little: several reads.
    await Deno.writeTextFile(`${dir.path}/a`, "a".repeat(1_000_000) + "a".repeat(100_000));
    const big = await hashFile(`${dir.path}/a`);
    assert.equal(big.size, 1_100_000);
    await Deno.writeTextFile(`${dir.path}/m`, "a".repeat(1_000_000));
    assert.equal(
      (await hashFile(`${dir.path}/m`)).sha256,
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
  } finally {
    await dir.remove();
  }
});

Deno.test("hashPath() hashes a folder by its sorted sha256sum listing", async () => {
  const dir = await tempDir();
  try {
    await Deno.mkdir(`${dir.path}/d/z`, { recursive: true });
    await Deno.writeTextFile(`${dir.path}/d/b.txt`, "abc");
    await Deno.writeTextFile(`${dir.path}/d/z/a.txt`, "");
    const listing = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  b.txt\n" +
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  z/a.txt\n";
    await Deno.writeTextFile(`${dir.path}/listing`, listing);
    const expected = await hashFile(`${dir.path}/listing`);
    assert.deepEqual(await hashPath(`${dir.path}/d`), { sha256: expected.sha256, size: 3 });
  } finally {
    await dir.remove();
  }
});

Deno.test("lockInputs() then checkInputs() finds no mismatch; one changed byte is named", async () => {
  const m = await findManifest("exp5");
  const dir = await tempDir();
  try {
    await writeInputs(m, dir.path);
    const lock = await lockInputs(m, dir.path);
    assert.equal(lock.manifest_id, await manifestId(m));
    assert.deepEqual(Object.keys(lock.inputs).sort(), Object.keys(m.inputs).sort());
    assert.equal(lock.inputs.checkpoint.size, 3000);
    assert.equal(lock.deno_version, Deno.version.deno);
    assert.match(lock.code_commit, /^([0-9a-f]{40}|unknown)$/);
    assert.match(lock.deno_lock_sha256, /^([0-9a-f]{64}|unknown)$/);
    assert.deepEqual(await checkInputs(m, lock, dir.path), []);

    // Flip one byte of the checkpoint.
    const ckpt = `${dir.path}/mdm/model.pt`;
    const bytes = await Deno.readFile(ckpt);
    bytes[1234] ^= 1;
    await Deno.writeFile(ckpt, bytes);
    const found = (await hashFile(ckpt)).sha256;
    const mismatches = await checkInputs(m, lock, dir.path);
    assert.equal(mismatches.length, 1);
    assert.equal(mismatches[0].role, "checkpoint");
    assert.equal(
      mismatches[0].message,
      `input checkpoint: expected sha256 ${lock.inputs.checkpoint.sha256}, found ${found}`,
    );

    // A changed file inside a folder input changes the folder's hash.
    await Deno.writeTextFile(`${dir.path}/humanml/sub/b.txt`, "dataset!");
    const roles = (await checkInputs(m, lock, dir.path)).map((x) => x.role).sort();
    assert.deepEqual(roles, ["checkpoint", "dataset"]);
  } finally {
    await dir.remove();
  }
});

Deno.test("checkInputs() reports a missing file, a pinned hash and a lock of another manifest", async () => {
  const m = await findManifest("exp5");
  const dir = await tempDir();
  try {
    await writeInputs(m, dir.path);
    const lock = await lockInputs(m, dir.path);
    const pinned = structuredClone(m);
    pinned.inputs.checkpoint.sha256 = "0".repeat(64);
    const msgs = (await checkInputs(pinned, lock, dir.path)).map((x) => x.message);
    assert.equal(msgs.length, 2);
    assert.match(msgs[0], /^manifest: expected id [0-9a-f]{64}, found [0-9a-f]{64}$/);
    assert.match(
      msgs[1],
      /^input checkpoint: expected sha256 \(pinned by the manifest\) 0{64}, found/,
    );
    await Deno.remove(`${dir.path}/tmr/text_encoder.pt`);
    const missing = await checkInputs(m, lock, dir.path);
    assert.equal(missing.length, 1);
    assert.match(
      missing[0].message,
      /^input tmr_text_encoder: expected a file at ".*text_encoder\.pt", found none$/,
    );
    await assert.rejects(lockInputs(m, dir.path), /Cannot lock input tmr_text_encoder: no file at/);
  } finally {
    await dir.remove();
  }
});

Deno.test("writeLock() writes atomically and readLock() reads it back", async () => {
  const m = await findManifest("exp5");
  const dir = await tempDir();
  try {
    await writeInputs(m, dir.path);
    const lock = await lockInputs(m, dir.path);
    await writeLock(`${dir.path}/lock.json`, lock);
    await writeLock(`${dir.path}/lock.json`, lock); // over an existing file
    assert.deepEqual(await readLock(`${dir.path}/lock.json`), lock);
    const left = [];
    for await (const e of Deno.readDir(dir.path)) if (e.name.includes(".tmp")) left.push(e.name);
    assert.deepEqual(left, []);
    await Deno.writeTextFile(`${dir.path}/bad.json`, "{}");
    await assert.rejects(readLock(`${dir.path}/bad.json`), /Cannot read lock .*bad\.json/);
  } finally {
    await dir.remove();
  }
});
