import assert from "node:assert/strict";
import { join } from "node:path";
import { assertClose, hasTorch, runPython, tempDir } from "../_util.ts";
import {
  asStateDict,
  ForbiddenGlobalError,
  loadStateDictFile,
  loadTorchFile,
  nestedStateDict,
  readTorchFile,
  saveTorchStateDict,
  writeTorchStateDict,
} from "../../models/checkpoint/torch_pt.ts";
import { type StateDict, toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { readZip } from "../../io/zip/zip_reader.ts";
import { sampleStateDict, stateDictJson } from "./_checkpoint_fixture.ts";

const GOLDEN = new URL("../golden/pt/", import.meta.url).pathname;
type Expected = Record<string, { dtype: string; shape: number[]; values: number[] }>;
const EXPECTED: Record<string, Expected> = JSON.parse(
  await Deno.readTextFile(join(GOLDEN, "expected.json")),
);

/** Checks every expected tensor (keys "a/b" walk nested maps) against `value`. */
function checkAgainst(value: unknown, expected: Expected, label: string): void {
  for (const [path, e] of Object.entries(expected)) {
    let v: unknown = value;
    for (const part of path.split("/")) v = (v as Map<string, unknown>).get(part);
    const t = asStateDict(new Map([[path, v]]), label).get(path)!;
    assert.equal(t.dtype, e.dtype, `${label} ${path} dtype`);
    assert.deepEqual(t.shape, e.shape, `${label} ${path} shape`);
    // float64 and int64 go through float32 in toFloat32: compare with float32 rounding.
    assertClose(toFloat32(t), e.values, 0, 2 ** -23, `${label} ${path}`);
  }
}

Deno.test("readTorchFile() reads every dtype and strided views of a zip checkpoint", async () => {
  const sd = await loadStateDictFile(join(GOLDEN, "plain.pt"));
  assert.deepEqual([...sd.keys()], Object.keys(EXPECTED["plain.pt"]));
  checkAgainst(sd, EXPECTED["plain.pt"], "plain.pt");
  // Exact checks where float32 conversion would hide errors.
  assert.deepEqual(Array.from(sd.get("i64")!.data as BigInt64Array), [
    1n,
    -2n,
    2n ** 40n,
    -(2n ** 40n),
  ]);
  assert.ok(sd.get("f64")!.data instanceof Float64Array);
  assert.deepEqual(Array.from(sd.get("f16")!.data as Uint16Array), [
    0x3800,
    0xbd00,
    0x7bff,
    0x03ff,
    0,
  ]);
});

Deno.test("readTorchFile() reads the legacy (pre-1.6) format like the zip format", async () => {
  const legacy = await loadStateDictFile(join(GOLDEN, "legacy.pt"));
  const zip = await loadStateDictFile(join(GOLDEN, "plain.pt"));
  checkAgainst(legacy, EXPECTED["plain.pt"], "legacy.pt");
  for (const [k, t] of zip) {
    assert.deepEqual(legacy.get(k)!.data, t.data, `legacy ${k}`);
  }
});

Deno.test("readTorchFile() reads a nested legacy evaluator checkpoint with optimizer state", async () => {
  const v = await loadTorchFile(join(GOLDEN, "evaluator.tar")) as Map<string, unknown>;
  checkAgainst(v, EXPECTED["evaluator.tar"], "evaluator.tar");
  assert.equal(v.get("epoch"), 3);
  assert.equal(v.get("iter"), 1234);
  const opt = v.get("opt_movement_encoder") as Map<string, unknown>;
  const state0 = (opt.get("state") as Map<number, unknown>).get(0);
  checkAgainst(state0, EXPECTED["evaluator.tar/opt"], "evaluator.tar opt");
  const group = (opt.get("param_groups") as Map<string, unknown>[])[0];
  assert.deepEqual(group.get("betas"), [0.9, 0.999]);
  assert.ok(Object.isFrozen(group.get("betas")), "tuples come back frozen");
});

Deno.test("readTorchFile() refuses a pickle calling os.system and names the global", async () => {
  const path = join(GOLDEN, "malicious.pt");
  await assert.rejects(
    () => loadTorchFile(path),
    (e: Error) => {
      assert.ok(e instanceof ForbiddenGlobalError);
      assert.match(
        e.message,
        /^Cannot load checkpoint ".*malicious\.pt": pickle references forbidden global posix\.system$/,
      );
      return true;
    },
  );
});

Deno.test("readTorchFile() decodes numpy scalars and refuses other objects by name", async () => {
  const v = await loadTorchFile(join(GOLDEN, "numpy_scalars.pt")) as Map<string, unknown>;
  assert.deepEqual(
    v,
    new Map<string, unknown>([["best_fid", 0.125], ["epoch", -7], ["flag", true], ["lr", 0.5]]),
  );
  await assert.rejects(() => loadTorchFile(join(GOLDEN, "namespace.pt")), {
    name: "ForbiddenGlobalError",
    message: `Cannot load checkpoint "${
      join(GOLDEN, "namespace.pt")
    }": pickle references forbidden global argparse.Namespace`,
  });
});

Deno.test("readTorchFile() reports truncated and corrupt files with the byte offset", async () => {
  const bytes = await Deno.readFile(join(GOLDEN, "legacy.pt"));
  // Cut inside the object pickle: the error names the file and an offset.
  assert.throws(
    () => readTorchFile(bytes.subarray(0, 300), "cut.pt"),
    (e: Error) =>
      e instanceof SyntaxError &&
      /^Cannot load checkpoint "cut.pt": .*truncated.* at byte \d+/.test(e.message),
  );
  // Cut inside the raw storages after the pickles.
  assert.throws(
    () => readTorchFile(bytes.subarray(0, bytes.length - 10), "short.pt"),
    (e: Error) =>
      e instanceof SyntaxError && /"short.pt": file is truncated at byte \d+/.test(e.message),
  );
  const zip = await Deno.readFile(join(GOLDEN, "plain.pt"));
  assert.throws(
    () => readTorchFile(zip.subarray(0, zip.length - 30), "cut_zip.pt"),
    (e: Error) =>
      e instanceof SyntaxError && e.message.startsWith('Cannot load checkpoint "cut_zip.pt": '),
  );
  // A flipped byte in tensor data fails the CRC check.
  const bad = zip.slice();
  const rec = readZip(zip).get("plain/data/0")!;
  bad[rec.dataOffset] ^= 0xff;
  assert.throws(() => readTorchFile(bad, "bad.pt"), /bad.pt": .*CRC-32/);
});

Deno.test("readTorchFile() says clearly when a file is not a checkpoint", () => {
  const text = new TextEncoder().encode("hello, this is not a model\n");
  assert.throws(() => readTorchFile(text, "notes.txt"), {
    name: "SyntaxError",
    message:
      'Cannot load checkpoint "notes.txt": file is not a PyTorch checkpoint (neither a zip archive nor a pickle)',
  });
  const npy = new Uint8Array([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0, 0, 0]);
  assert.throws(() => readTorchFile(npy, "mean.npy"), /"mean.npy": file is a \.npy array/);
  assert.throws(() => readTorchFile(new Uint8Array(0), "empty.pt"), /"empty.pt": file is empty/);
  // A plain pickle (not torch.save output).
  const pkl = new Uint8Array([0x80, 2, 0x5d, 0x2e]);
  assert.throws(() => readTorchFile(pkl, "words.pkl"), /legacy magic number missing/);
});

Deno.test("nestedStateDict() picks an entry and lists the keys when it is missing", async () => {
  const path = join(GOLDEN, "evaluator.tar");
  const v = await loadTorchFile(path);
  const sd = nestedStateDict(v, "movement_encoder", path);
  assert.deepEqual([...sd.keys()], ["weight", "bias"]);
  assert.throws(() => nestedStateDict(v, "motion_encoder", "finest.tar"), {
    name: "TypeError",
    message: 'Cannot load checkpoint "finest.tar": missing entry motion_encoder (has ' +
      "movement_encoder, text_encoder, opt_movement_encoder, epoch, iter)",
  });
  assert.throws(
    () => nestedStateDict(v, "epoch", "finest.tar"),
    /"finest.tar": expected a state dict \(in epoch\), found a number/,
  );
});

Deno.test("asStateDict() names the key that is not a tensor", async () => {
  const v = await loadTorchFile(join(GOLDEN, "evaluator.tar"));
  assert.throws(() => asStateDict(v, "evaluator.tar"), {
    name: "TypeError",
    message:
      'Cannot load checkpoint "evaluator.tar": key movement_encoder is a dict with 2 keys, not a tensor',
  });
});

Deno.test("writeTorchStateDict() round-trips through readTorchFile() bit-exactly", () => {
  const sd = sampleStateDict();
  const bytes = writeTorchStateDict(sd);
  const back = readTorchFile(bytes, "mem.pt") as StateDict;
  assert.deepEqual([...back.keys()], [...sd.keys()]);
  for (const [k, t] of sd) assert.deepEqual(back.get(k), t, k);
  // Every record's data starts on a 64-byte boundary, like torch.save.
  for (const e of readZip(bytes).values()) assert.equal(e.dataOffset % 64, 0, e.name);
});

Deno.test({
  name: "saveTorchStateDict() writes a file torch.load reads with the same dtypes and values",
  ignore: !hasTorch,
  fn: async () => {
    const dir = await tempDir();
    try {
      const sd = sampleStateDict(11);
      const pt = join(dir.path, "out.pt");
      const json = join(dir.path, "expected.json");
      await saveTorchStateDict(pt, sd);
      await Deno.writeTextFile(json, stateDictJson(sd));
      const names = [...Deno.readDirSync(dir.path)].map((e) => e.name).sort();
      assert.deepEqual(names, ["expected.json", "out.pt"], "no temporary file left behind");
      const out = await runPython(["-c", CHECK_TORCH, pt, json]);
      assert.equal(out.trim(), `ok ${sd.size}`);
    } finally {
      await dir.remove();
    }
  },
});

const CHECK_TORCH = `
import json, sys, collections, torch
import inspect
# weights_only (torch >= 1.13) also proves the file uses only the allowed globals.
safe = "weights_only" in inspect.signature(torch.load).parameters
sd = torch.load(sys.argv[1], weights_only=True) if safe else torch.load(sys.argv[1])
exp = json.load(open(sys.argv[2]))
assert isinstance(sd, collections.OrderedDict), type(sd)
assert list(sd.keys()) == list(exp.keys()), (list(sd.keys()), list(exp.keys()))
for k, e in exp.items():
    t = sd[k]
    assert str(t.dtype) == "torch." + e["dtype"], (k, t.dtype, e["dtype"])
    assert list(t.shape) == e["shape"], (k, t.shape, e["shape"])
    assert t.is_contiguous(), k
    flat = t.flatten()
    if e["dtype"] == "int64":
        got, want = [int(x) for x in flat.tolist()], [int(x) for x in e["values"]]
    else:
        got, want = flat.double().tolist(), [float(x) for x in e["values"]]
    assert got == want, (k, got, want)
print("ok", len(exp))
`;
