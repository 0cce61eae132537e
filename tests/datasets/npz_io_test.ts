import assert from "node:assert/strict";
import { encodeNpz, loadNpz, readNpz, writeNpz } from "../../datasets/npz.ts";
import type { NpyArray } from "../../datasets/npy.ts";
import { runPython, tempDir } from "../_util.ts";
import { hasNumpy } from "./_humanml_fixture.ts";

const ARRAYS: Record<string, NpyArray> = {
  mean: { dtype: "<f4", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
  ids: { dtype: "<i8", shape: [3], data: new BigInt64Array([1n, -2n, 3n]) },
  flag: { dtype: "|b1", shape: [], data: new Uint8Array([1]) },
};

Deno.test("encodeNpz() and readNpz() round-trip, stored and deflated, deterministically", () => {
  for (const compress of [false, true]) {
    const bytes = encodeNpz(ARRAYS, compress);
    assert.deepEqual(encodeNpz(ARRAYS, compress), bytes, "same arrays, same bytes");
    const back = readNpz(bytes, "a.npz");
    assert.deepEqual([...back.keys()], ["mean", "ids", "flag"]);
    for (const [k, v] of Object.entries(ARRAYS)) assert.deepEqual(back.get(k), v, k);
  }
  assert.throws(() => readNpz(new Uint8Array(10), "bad.npz"), /Cannot load npz file "bad.npz"/);
});

Deno.test({
  name: "readNpz() reads np.savez files and numpy reads writeNpz() files",
  ignore: !hasNumpy,
  fn: async () => {
    const dir = await tempDir();
    try {
      await writeNpz(`${dir.path}/ours.npz`, ARRAYS, true);
      const out = await runPython([
        "-c",
        `
import json, numpy as np
d = ${JSON.stringify(dir.path)}
np.savez(d + "/plain.npz", a=np.arange(6, dtype=np.float32).reshape(2, 3), b=np.array([7], dtype=np.int32))
np.savez_compressed(d + "/comp.npz", c=np.linspace(0, 1, 5))
z = np.load(d + "/ours.npz")
print(json.dumps({k: [z[k].dtype.str, list(z[k].shape), z[k].ravel().tolist()] for k in z.files}))
`,
      ]);
      assert.deepEqual(JSON.parse(out), {
        mean: ["<f4", [2, 2], [1, 2, 3, 4]],
        ids: ["<i8", [3], [1, -2, 3]],
        flag: ["|b1", [], [true]],
      });
      const plain = await loadNpz(`${dir.path}/plain.npz`);
      assert.deepEqual(plain.get("a"), {
        dtype: "<f4",
        shape: [2, 3],
        data: new Float32Array([0, 1, 2, 3, 4, 5]),
      });
      assert.deepEqual(plain.get("b")?.data, new Int32Array([7]));
      const comp = await loadNpz(`${dir.path}/comp.npz`);
      assert.deepEqual(comp.get("c")?.data, new Float64Array([0, 0.25, 0.5, 0.75, 1]));
    } finally {
      await dir.remove();
    }
  },
});
