import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { randn } from "../../kernels/rng/cpu.ts";

Deno.test("randn() gives the same numbers for the same address", () => {
  const a = new Float32Array(37), b = new Float32Array(37);
  randn(a, 37, { seed: 7, stream: 3, offset: 0 });
  randn(b, 37, { seed: 7, stream: 3, offset: 0 });
  assert.deepEqual(a, b);
  assert.ok(a.some((x) => x !== 0));
});

Deno.test("randn() draws any slice of a stream independently", () => {
  const whole = new Float32Array(40), part = new Float32Array(13);
  randn(whole, 40, { seed: 7, stream: 3, offset: 0 });
  randn(part, 13, { seed: 7, stream: 3, offset: 5 }); // starts mid Philox block
  assert.deepEqual(part, whole.subarray(5, 18));
});

Deno.test("randn() differs between streams and seeds", () => {
  const a = new Float32Array(16), b = new Float32Array(16), c = new Float32Array(16);
  randn(a, 16, { seed: 7, stream: 3, offset: 0 });
  randn(b, 16, { seed: 7, stream: 4, offset: 0 });
  randn(c, 16, { seed: 8, stream: 3, offset: 0 });
  for (let i = 0; i < 16; i++) {
    assert.notEqual(a[i], b[i], `stream, element ${i}`);
    assert.notEqual(a[i], c[i], `seed, element ${i}`);
  }
});

Deno.test("cpu backend randn() gives 1e5 normals with mean 0 and std 1 within 0.01", async () => {
  const be = createCpuBackend();
  const n = 100_000;
  const t = be.tensor([n]);
  be.randn(t, n, { seed: 1234, stream: 0, offset: 0 });
  const x = await be.read(t);
  let s = 0, s2 = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
  }
  const mean = s / n, std = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.01, `std ${std}`);
  assert.throws(() => be.randn(t, 10, { seed: -1, stream: 0, offset: 0 }), /seed -1/);
  assert.throws(() => be.randn(t, n + 1, { seed: 1, stream: 0, offset: 0 }), RangeError);
});
