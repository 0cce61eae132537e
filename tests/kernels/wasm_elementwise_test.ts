import assert from "node:assert/strict";
import { geluBackward, geluForward } from "../../kernels/activation/cpu.ts";
import { axpby } from "../../kernels/elementwise/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { axpbyF32, geluBackwardF32, geluForwardF32 } from "../../kernels/wasm/elementwise_f32.ts";

/** n values: normals at scales from 1e-30 to 1e30, with zeros, infinities and NaN sprinkled. */
function values(n: number, rng: Rng): Float32Array {
  const special = [0, -0, Infinity, -Infinity, NaN, 3.4e38, -3.4e38, 1e-45];
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.uniform() < 0.02
      ? special[rng.int(special.length)]
      : rng.normal() * 10 ** (rng.int(61) - 30);
  }
  return x;
}

/** Asserts the same bits, any NaN matching any NaN (NaN signs follow the compiler, not IEEE). */
function assertSameValues(ours: Float32Array, ref: Float32Array, label: string): void {
  const u = new Uint32Array(ours.buffer, ours.byteOffset, ours.length);
  const v = new Uint32Array(ref.buffer, ref.byteOffset, ref.length);
  for (let i = 0; i < u.length; i++) {
    if (u[i] !== v[i] && !(Number.isNaN(ours[i]) && Number.isNaN(ref[i]))) {
      assert.fail(`${label}: element ${i} is ${ours[i]}, host loop ${ref[i]}`);
    }
  }
}

Deno.test("axpbyF32() gives the bits of the host axpby for every length and coefficient", () => {
  const rng = new Rng(77, 3);
  const coefficients = [[1, 1], [1, -1], [1, 0], [2.5, -1.5], [0.1550636142, 0.0308616720], [
    -0,
    1e300,
  ]];
  for (const n of [0, 1, 5, 63, 64, 65, 67, 1000, 31232]) {
    const a = values(n + 3, rng), b = values(n + 3, rng);
    for (const [alpha, beta] of coefficients) {
      const ours = values(n + 3, rng), ref = ours.slice();
      axpbyF32(ours, a, alpha, b, beta, n);
      axpby(ref, a, alpha, b, beta, n);
      assertSameValues(ours, ref, `n ${n}, alpha ${alpha}, beta ${beta}`);
    }
  }
});

Deno.test("axpbyF32() may write in place over either input", () => {
  const rng = new Rng(78, 3);
  const n = 301, a = values(n, rng), b = values(n, rng);
  const ref = new Float32Array(n);
  axpby(ref, a, 0.5, b, 2, n);
  const outA = a.slice();
  axpbyF32(outA, outA, 0.5, b, 2, n);
  assertSameValues(outA, ref, "out = a");
  const outB = b.slice();
  axpbyF32(outB, a, 0.5, outB, 2, n);
  assertSameValues(outB, ref, "out = b");
});

Deno.test("geluForwardF32() and geluBackwardF32() give the bits of the host GELU", () => {
  const rng = new Rng(79, 3);
  const edges = [0, -0, 10, -10, 9.999999, -10.000001, Infinity, -Infinity, NaN, 1e-45, 3.4e38];
  for (const n of [0, 1, 5, 63, 64, 65, 67, 1001, 4 * 61 * 256]) {
    for (const scale of [0.01, 1, 4, 12]) {
      const inp = new Float32Array(n), dout = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        inp[i] = rng.uniform() < 0.01 ? edges[rng.int(edges.length)] : rng.normal() * scale;
        dout[i] = rng.normal();
      }
      const ours = new Float32Array(n), ref = new Float32Array(n);
      geluForwardF32(ours, inp, n);
      geluForward(ref, inp, n);
      assertSameValues(ours, ref, `forward n ${n}, scale ${scale}`);
      geluBackwardF32(ours, inp, dout, n);
      geluBackward(ref, inp, dout, n);
      assertSameValues(ours, ref, `backward n ${n}, scale ${scale}`);
      const inPlace = dout.slice(); // dinp aliasing dout
      geluBackwardF32(inPlace, inp, inPlace, n);
      assertSameValues(inPlace, ref, `backward in place n ${n}, scale ${scale}`);
    }
  }
  // every 1/2^16 step across the whole table and past its ends
  const n = 21 * 65536, inp = new Float32Array(n);
  for (let i = 0; i < n; i++) inp[i] = -10.5 + i / 65536;
  const ours = new Float32Array(n), ref = new Float32Array(n);
  geluForwardF32(ours, inp, n);
  geluForward(ref, inp, n);
  assertSameValues(ours, ref, "forward sweep");
  geluBackwardF32(ours, inp, inp, n);
  geluBackward(ref, inp, inp, n);
  assertSameValues(ours, ref, "backward sweep");
});
