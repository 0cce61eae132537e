import assert from "node:assert/strict";
import { arrayFromBytes, halfToFloat, toFloat32 } from "../../models/checkpoint/state_dict.ts";

Deno.test("toFloat32() converts every dtype", () => {
  const f = (
    dtype: Parameters<typeof toFloat32>[0]["dtype"],
    data: Parameters<typeof toFloat32>[0]["data"],
  ) => Array.from(toFloat32({ dtype, shape: [data.length], data }));
  assert.deepEqual(f("float64", new Float64Array([0.5, -3])), [0.5, -3]);
  // 1, -2, 65504 (max), 2^-24 (smallest subnormal), -0, inf
  assert.deepEqual(
    f("float16", new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00])),
    [
      1,
      -2,
      65504,
      2 ** -24,
      -0,
      Infinity,
    ],
  );
  assert.ok(Number.isNaN(f("float16", new Uint16Array([0x7e00]))[0]));
  assert.deepEqual(f("bfloat16", new Uint16Array([0x3f80, 0xc020, 0x4049])), [1, -2.5, 3.140625]);
  assert.deepEqual(f("int64", new BigInt64Array([-5n, 2n ** 40n])), [-5, 2 ** 40]);
  assert.deepEqual(f("int32", new Int32Array([-7])), [-7]);
  assert.deepEqual(f("int16", new Int16Array([-300])), [-300]);
  assert.deepEqual(f("int8", new Int8Array([-128])), [-128]);
  assert.deepEqual(f("uint8", new Uint8Array([255])), [255]);
  assert.deepEqual(f("bool", new Uint8Array([1, 0])), [1, 0]);
  const own = new Float32Array([1, 2]);
  assert.equal(
    toFloat32({ dtype: "float32", shape: [2], data: own }),
    own,
    "float32 is not copied",
  );
});

Deno.test("halfToFloat() matches the runtime's Float16Array on all 65536 patterns", () => {
  const bits = new Uint16Array(65536).map((_, i) => i);
  const ref = new Float16Array(bits.buffer);
  for (let h = 0; h < 65536; h++) {
    const x = halfToFloat(h);
    assert.ok(
      Object.is(x, ref[h]) || (Number.isNaN(x) && Number.isNaN(ref[h])),
      `half 0x${h.toString(16)}`,
    );
  }
});

Deno.test("arrayFromBytes() copies unaligned bytes and checks the length", () => {
  const bytes = new Uint8Array(9);
  new DataView(bytes.buffer).setFloat64(1, 1.5, true);
  const a = arrayFromBytes("float64", bytes.subarray(1), 1) as Float64Array;
  assert.equal(a[0], 1.5);
  assert.throws(() => arrayFromBytes("int32", new Uint8Array(7), 2), {
    name: "RangeError",
    message: "Cannot read tensor data: need 8 bytes for 2 int32 elements, got 7",
  });
});
