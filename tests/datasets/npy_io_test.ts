import assert from "node:assert/strict";
import {
  encodeNpy,
  loadNpy,
  type NpyArray,
  type NpyDtype,
  readNpy,
  saveNpy,
} from "../../datasets/npy.ts";
import { encodeNpyObject, numpyArrayValue, readNpyObject } from "../../datasets/npy_object.ts";
import { PyFloat } from "../../io/pickle/values.ts";
import { runPython, tempDir } from "../_util.ts";
import { hasNumpy } from "./_humanml_fixture.ts";

const SAMPLES: NpyArray[] = [
  { dtype: "<f4", shape: [2, 3], data: new Float32Array([1.5, -2, 3, 0, 1e-30, 7]) },
  { dtype: "<f8", shape: [3], data: new Float64Array([Math.PI, -0, 1e300]) },
  { dtype: "<i4", shape: [2, 2], data: new Int32Array([1, -2, 2147483647, -2147483648]) },
  { dtype: "<i8", shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) },
  { dtype: "|u1", shape: [4], data: new Uint8Array([0, 1, 128, 255]) },
  { dtype: "|b1", shape: [3], data: new Uint8Array([1, 0, 1]) },
  { dtype: "<f4", shape: [], data: new Float32Array([42]) },
  { dtype: "<f4", shape: [0, 5], data: new Float32Array(0) },
];

Deno.test("encodeNpy() and readNpy() round-trip every dtype", () => {
  for (const arr of SAMPLES) {
    const bytes = encodeNpy(arr);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    assert.equal((10 + headerLen) % 64, 0, `${arr.dtype}: data not aligned to 64`);
    const back = readNpy(bytes);
    assert.equal(back.dtype, arr.dtype);
    assert.deepEqual(back.shape, arr.shape);
    assert.deepEqual(back.data, arr.data, arr.dtype);
  }
});

Deno.test("readNpy() rejects unsupported dtypes, bad magic and truncated data", () => {
  const good = encodeNpy(SAMPLES[0]);
  const c8Bytes = good.slice();
  const at = String.fromCharCode(...good.subarray(0, 64)).indexOf("'<f4'");
  c8Bytes.set([0x63, 0x38], at + 2); // '<f4' becomes '<c8'
  assert.throws(() => readNpy(c8Bytes, "x.npy"), {
    name: "TypeError",
    message: 'Cannot load npy file "x.npy": dtype <c8 is not supported',
  });
  assert.throws(() => readNpy(new Uint8Array(20), "y.npy"), {
    name: "SyntaxError",
    message: 'Cannot load npy file "y.npy": bad magic: not an npy file',
  });
  assert.throws(() => readNpy(good.subarray(0, good.length - 4), "z.npy"), {
    name: "SyntaxError",
    message: 'Cannot load npy file "z.npy": data is truncated: shape (2,3) needs 24 bytes, ' +
      "found 20",
  });
  assert.throws(() => readNpy(good.subarray(0, 30), "h.npy"), /header is truncated/);
  assert.throws(() => readNpy(encodeNpyObject([1]), "o.npy"), /dtype \|O .*readNpyObject/);
  assert.throws(
    () => encodeNpy({ dtype: "<f4", shape: [3], data: new Float32Array(2) }),
    /needs 3 elements, data has 2/,
  );
  assert.throws(
    () => encodeNpy({ dtype: "<f8", shape: [2], data: new Float32Array(2) }),
    /dtype <f8 does not match data Float32Array/,
  );
});

Deno.test("saveNpy() writes atomically and loadNpy() names missing files", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/a.npy`;
    await saveNpy(path, SAMPLES[2]);
    assert.deepEqual((await loadNpy(path)).data, SAMPLES[2].data);
    assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["a.npy"]);
    await assert.rejects(() => loadNpy(`${dir.path}/none.npy`), Deno.errors.NotFound);
  } finally {
    await dir.remove();
  }
});

Deno.test({
  name: "readNpy() reads what numpy writes (v1/v2/v3, big-endian, Fortran order)",
  ignore: !hasNumpy,
  fn: async () => {
    const dir = await tempDir();
    try {
      await runPython([
        "-c",
        `
import numpy as np, numpy.lib.format as f
d = ${JSON.stringify(dir.path)}
a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
np.save(d + "/f4.npy", a)
np.save(d + "/f8_be.npy", a.astype(">f8"))
np.save(d + "/f4_fortran.npy", np.asfortranarray(a))
np.save(d + "/i8.npy", np.array([[-3, 2**40]], dtype=np.int64))
np.save(d + "/i2.npy", np.array([-3, 300], dtype=np.int16))
np.save(d + "/b1.npy", np.array([True, False]))
np.save(d + "/scalar.npy", np.float64(2.5))
for v in [(2, 0), (3, 0)]:
    with open(d + "/v%d.npy" % v[0], "wb") as fp:
        f.write_array(fp, a, version=v)
`,
      ]);
      const base = Float32Array.from({ length: 24 }, (_, i) => Math.fround(i / 7));
      for (const name of ["f4", "f4_fortran", "v2", "v3"]) {
        const arr = await loadNpy(`${dir.path}/${name}.npy`);
        assert.equal(arr.dtype, "<f4", name);
        assert.deepEqual(arr.shape, [2, 3, 4], name);
        assert.deepEqual(arr.data, base, name);
      }
      const be = await loadNpy(`${dir.path}/f8_be.npy`);
      assert.equal(be.dtype, "<f8");
      assert.deepEqual(Float32Array.from(be.data as Float64Array), base);
      assert.deepEqual(
        (await loadNpy(`${dir.path}/i8.npy`)).data,
        new BigInt64Array([-3n, 2n ** 40n]),
      );
      assert.deepEqual((await loadNpy(`${dir.path}/i2.npy`)).data, new Int16Array([-3, 300]));
      const b1 = await loadNpy(`${dir.path}/b1.npy`);
      assert.equal(b1.dtype, "|b1");
      assert.deepEqual(b1.data, new Uint8Array([1, 0]));
      const s = await loadNpy(`${dir.path}/scalar.npy`);
      assert.deepEqual([s.shape, s.data[0]], [[], 2.5]);
    } finally {
      await dir.remove();
    }
  },
});

Deno.test({
  name: "numpy reads what saveNpy() and encodeNpyObject() write",
  ignore: !hasNumpy,
  fn: async () => {
    const dir = await tempDir();
    try {
      const names: string[] = [];
      for (const [i, arr] of SAMPLES.entries()) {
        names.push(`${i}_${arr.dtype.slice(1)}`);
        await saveNpy(`${dir.path}/${names[i]}.npy`, arr);
      }
      const item = new Map<string, unknown>([
        ["motion", { dtype: "<f4", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
        ["ids", ["a", "b"]],
        ["score", new PyFloat(1)],
      ]);
      const obj = encodeNpyObject([
        new Map([
          ["motion", numpyArrayValue(item.get("motion") as NpyArray)],
          ["ids", ["a", "b"]],
          ["score", new PyFloat(1)],
        ]),
        null,
      ]);
      await Deno.writeFile(`${dir.path}/obj.npy`, obj);
      const out = await runPython([
        "-c",
        `
import json, numpy as np
d = ${JSON.stringify(dir.path)}
res = {}
for n in ${JSON.stringify(names)}:
    a = np.load(d + "/" + n + ".npy")
    res[n] = [a.dtype.str, list(a.shape), a.ravel().tolist() if a.dtype != np.int64 else [str(x) for x in a.ravel()]]
o = np.load(d + "/obj.npy", allow_pickle=True)
res["obj"] = [o.dtype.str, list(o.shape), o[0]["motion"].dtype.str, o[0]["motion"].tolist(), o[0]["ids"], o[0]["score"], o[1]]
print(json.dumps(res))
`,
      ]);
      const res = JSON.parse(out);
      for (const [i, arr] of SAMPLES.entries()) {
        const [dtype, shape, values] = res[names[i]];
        assert.equal(dtype, arr.dtype, names[i]);
        assert.deepEqual(shape, arr.shape, names[i]);
        const expected = Array.from(
          arr.data as ArrayLike<number | bigint>,
          (x) => arr.dtype === "<i8" ? String(x) : arr.dtype === "|b1" ? x === 1 : Number(x),
        );
        assert.deepEqual(values, expected, names[i]);
      }
      assert.deepEqual(res.obj, ["|O", [2], "<f4", [[1, 2], [3, 4]], ["a", "b"], 1, null]);
    } finally {
      await dir.remove();
    }
  },
});

Deno.test("readNpyObject() reads back encodeNpyObject() with nested arrays", () => {
  const m = { dtype: "<i4" as NpyDtype, shape: [3], data: new Int32Array([7, 8, 9]) };
  const bytes = encodeNpyObject([new Map([["x", numpyArrayValue(m)], ["t", "hi"]])]);
  const back = readNpyObject(bytes, "o.npy");
  assert.deepEqual(back.shape, [1]);
  const item = back.items[0] as Map<string, unknown>;
  assert.deepEqual(item.get("x"), m);
  assert.equal(item.get("t"), "hi");
  assert.throws(() => readNpyObject(encodeNpy(SAMPLES[0]), "f.npy"), /dtype <f4 is not an object/);
});
