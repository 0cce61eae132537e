import assert from "node:assert/strict";
import { join } from "node:path";
import { hasTorch, runPython, tempDir } from "../_util.ts";
import {
  readSafetensors,
  readSafetensorsMetadata,
  saveSafetensors,
  writeSafetensors,
} from "../../models/checkpoint/safetensors.ts";
import { loadStateDictFile } from "../../models/checkpoint/torch_pt.ts";
import { sampleStateDict, stateDictJson } from "./_checkpoint_fixture.ts";

Deno.test("writeSafetensors() round-trips every dtype and the metadata bit-exactly", () => {
  const sd = sampleStateDict();
  const bytes = writeSafetensors(sd, { format: "pt", step: "100" });
  const back = readSafetensors(bytes, "mem.safetensors");
  assert.equal(back.size, sd.size);
  for (const [k, t] of sd) assert.deepEqual(back.get(k), t, k);
  assert.deepEqual(readSafetensorsMetadata(bytes), { format: "pt", step: "100" });
});

Deno.test("writeSafetensors() pads the header to 8 bytes and aligns every tensor", () => {
  const bytes = writeSafetensors(sampleStateDict());
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const spans = Object.entries(header)
    .filter(([k]) => k !== "__metadata__")
    .map(([, v]) => (v as { dtype: string; data_offsets: [number, number] }));
  const size: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2 };
  let end = 0;
  for (const s of spans.sort((a, b) => a.data_offsets[0] - b.data_offsets[0])) {
    assert.equal(s.data_offsets[0], end, "tensors are packed without holes");
    assert.equal((8 + n + s.data_offsets[0]) % (size[s.dtype] ?? 1), 0, `${s.dtype} aligned`);
    end = s.data_offsets[1];
  }
  assert.equal(8 + n + end, bytes.length);
});

Deno.test("readSafetensors() rejects malformed files with one clear message", () => {
  const good = writeSafetensors(sampleStateDict());
  assert.throws(() => readSafetensors(good.subarray(0, 5), "a.safetensors"), {
    name: "SyntaxError",
    message: 'Cannot load safetensors file "a.safetensors": file is 5 bytes, shorter than the ' +
      "8-byte header size",
  });
  assert.throws(
    () => readSafetensors(good.subarray(0, good.length - 4), "b.safetensors"),
    /"b.safetensors": tensor "[^"]+" has data_offsets \[\d+,\d+\] outside \d+ bytes/,
  );
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => readSafetensors(huge, "c.safetensors"), /header size 1099511627776 exceeds/);
  const enc = new TextEncoder();
  const make = (header: string) => {
    const h = enc.encode(header);
    const out = new Uint8Array(8 + h.length + 8);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  assert.throws(
    () => readSafetensors(make('{"x":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}'), "d"),
    /tensor "x" has unsupported dtype C64/,
  );
  assert.throws(
    () => readSafetensors(make('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}'), "e"),
    /tensor "x" spans 8 bytes, its shape and dtype need 12/,
  );
  assert.throws(() => readSafetensors(make("[1, 2]"), "f"), /header is not a JSON object/);
});

Deno.test("loadStateDictFile() recognises a .safetensors file by its content", async () => {
  const dir = await tempDir();
  try {
    const sd = sampleStateDict(3);
    const path = join(dir.path, "weights.bin");
    await saveSafetensors(path, sd);
    const back = await loadStateDictFile(path);
    assert.deepEqual(back.get("layer.weight"), sd.get("layer.weight"));
  } finally {
    await dir.remove();
  }
});

Deno.test({
  name: "writeSafetensors() output parses in Python by the format's rules, values intact",
  ignore: !hasTorch,
  fn: async () => {
    const dir = await tempDir();
    try {
      const sd = sampleStateDict(5);
      const path = join(dir.path, "w.safetensors");
      const json = join(dir.path, "expected.json");
      await Deno.writeFile(path, writeSafetensors(sd, { note: "test" }));
      await Deno.writeTextFile(json, stateDictJson(sd));
      const out = await runPython(["-c", CHECK_SAFETENSORS, path, json]);
      assert.equal(out.trim(), `ok ${sd.size}`);
    } finally {
      await dir.remove();
    }
  },
});

// An independent reader written from the format description (no safetensors package needed).
const CHECK_SAFETENSORS = `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
exp = json.load(open(sys.argv[2]))
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n].decode("utf-8"))
assert header.pop("__metadata__") == {"note": "test"}
data = raw[8 + n:]
np_dtype = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
            "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "u1"}
ours = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64",
        "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}
spans = sorted(v["data_offsets"] for v in header.values())
assert spans[0][0] == 0 and spans[-1][1] == len(data), "data region fully covered"
for (a, b), (c, d) in zip(spans, spans[1:]):
    assert b == c, "no holes or overlaps"
assert set(header) == set(exp)
for k, e in exp.items():
    h = header[k]
    assert h["dtype"] == ours[e["dtype"]] and h["shape"] == e["shape"], (k, h, e)
    a, b = h["data_offsets"]
    arr = np.frombuffer(data[a:b], dtype=np_dtype[h["dtype"]])
    if h["dtype"] == "BF16":
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    assert arr.size == int(np.prod(e["shape"])), k
    if e["dtype"] == "int64":
        assert [int(x) for x in arr] == [int(x) for x in e["values"]], k
    else:
        assert arr.astype(np.float64).tolist() == [float(x) for x in e["values"]], k
print("ok", len(exp))
`;
