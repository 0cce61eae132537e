import assert from "node:assert/strict";
import { erf, erfc } from "../../kernels/activation/_erf.ts";
import {
  geluBackward,
  geluBackwardRef,
  geluForward,
  geluForwardRef,
  siluBackward,
  siluForward,
} from "../../kernels/activation/cpu.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";
import { dot, f32, numericalGrad, randomArray } from "./_cpu_grad.ts";

// Reference values from mpmath at 30 digits.
const ERF: [number, number][] = [
  [0.1, 0.1124629160182848984],
  [0.5, 0.52049987781304653768],
  [1, 0.84270079294971486934],
  [2, 0.99532226501895273416],
  [2.9, 0.99995890212190054114],
  [3.5, 0.99999925690162765859],
  [5, 0.99999999999846254021],
  [-1.3, -0.93400794494065244585],
];
const ERFC: [number, number][] = [
  [1, 0.15729920705028513066],
  [4, 1.5417257900280018852e-8],
  [6, 2.1519736712498913117e-17],
  [10, 2.088487583762544757e-45],
  [-2, 1.9953222650189527342],
];
const GELU: [number, number][] = [
  [1, 0.8413447460685429],
  [-1, -0.15865525393145705141],
  [0.5, 0.34573123063700655182],
  [3, 2.9959503059051097164],
  [-3, -0.00404969409489028358],
  [-6, -5.9195258702261888442e-9],
  [10, 10],
  [0, 0],
];
const SILU: [number, number][] = [
  [1, 0.73105857863000487925],
  [-1, -0.26894142136999512075],
  [2.5, 2.310354549946891122],
  [-20, -4.1223072363804071629e-8],
];

Deno.test("erf() and erfc() match 30-digit values", () => {
  assertClose(ERF.map(([x]) => erf(x)), ERF.map(([, y]) => y), 0, 1e-14, "erf");
  assertClose(ERFC.map(([x]) => erfc(x)), ERFC.map(([, y]) => y), 0, 1e-13, "erfc");
  assert.equal(erf(0), 0);
  assert.ok(Number.isNaN(erf(NaN)));
  assert.equal(erf(Infinity), 1);
  assert.equal(erf(-Infinity), -1);
});

Deno.test("erf() is odd and continuous across its series/fraction switch at 3", () => {
  for (const x of [0.3, 1.7, 2.99, 4.2]) assert.equal(erf(-x), -erf(x));
  const below = erf(3 - 1e-12), above = erf(3 + 1e-12);
  // d erf/dx at 3 is 1.4e-4: a 2e-12 step moves erf by ~3e-16.
  assertClose([above - below], [0], 1e-15, 0, "jump at 3");
});

Deno.test("geluForwardRef() is the exact erf GELU", () => {
  const x = new Float64Array(GELU.map(([v]) => v));
  const y = new Float64Array(x.length);
  geluForwardRef(y, x, x.length);
  assertClose(y, GELU.map(([, v]) => v), 1e-300, 1e-13, "gelu");
  // The tanh approximation gives 0.841191990607477 at 1: far outside the tolerance above.
  assert.ok(Math.abs(y[0] - 0.841191990607477) > 1e-4);
});

Deno.test("geluForward() and geluBackward() match the reference erf loops on [-12, 12]", () => {
  // A fine grid through the whole table, its edges, and both sides of it.
  const n = 48_001;
  const x = Float64Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
  const ones = new Float64Array(n).fill(1);
  const fast = new Float64Array(n), ref = new Float64Array(n);
  geluForward(fast, x, n);
  geluForwardRef(ref, x, n);
  // Interpolation error: < 1e-13 absolute, ~1e-8 relative deep in the left tail.
  assertClose(fast, ref, 1e-13, 2e-8, "gelu forward");
  geluBackward(fast, x, ones, n);
  geluBackwardRef(ref, x, ones, n);
  assertClose(fast, ref, 1e-13, 2e-8, "gelu slope");
  const y = new Float64Array(GELU.length);
  geluForward(y, new Float64Array(GELU.map(([v]) => v)), GELU.length);
  assertClose(y, GELU.map(([, v]) => v), 1e-13, 1e-12, "gelu table values");
});

Deno.test("geluForward() and geluBackward() handle values outside the table", () => {
  const x = new Float64Array([Infinity, -Infinity, NaN, 1e30, -1e30]);
  const dout = new Float64Array(x.length).fill(2);
  const fast = new Float64Array(x.length), ref = new Float64Array(x.length);
  geluForward(fast, x, x.length);
  geluForwardRef(ref, x, x.length);
  assert.deepEqual([...fast].map(String), [...ref].map(String));
  // Backward takes the limit slopes 1 and 0 (the reference's x * phi(x) is NaN at infinity).
  geluBackward(fast, x, dout, x.length);
  assert.deepEqual([...fast].map(String), ["2", "0", "NaN", "2", "0"]);
});

Deno.test("siluForward() matches x * sigmoid(x)", () => {
  const x = new Float64Array(SILU.map(([v]) => v));
  const y = new Float64Array(x.length);
  siluForward(y, x, x.length);
  assertClose(y, SILU.map(([, v]) => v), 1e-300, 1e-13, "silu");
});

for (
  const [name, fwd, bwd] of [
    ["geluBackward()", geluForward, geluBackward],
    ["siluBackward()", siluForward, siluBackward],
  ] as const
) {
  Deno.test(`${name} matches central finite differences (float64)`, () => {
    const rng = new Rng(11);
    const n = 64;
    const x = randomArray(rng, n, 3); // wide enough to reach both tails
    const dout = randomArray(rng, n);
    const y = new Float64Array(n);
    const loss = () => {
      fwd(y, x, n);
      return dot(y, dout);
    };
    const numeric = numericalGrad(loss, x, 1e-6);
    const dinp = new Float64Array(n).fill(NaN); // overwritten, never read
    bwd(dinp, x, dout, n);
    assertClose(dinp, numeric, 1e-8, 1e-7, name);
  });
}

Deno.test("cpu backend activations match the float64 loops to float32 precision", async () => {
  const be = createCpuBackend();
  const rng = new Rng(12);
  const n = 1001;
  const x = f32(randomArray(rng, n, 4)), dout = f32(randomArray(rng, n));
  const xs = be.tensor([n], x), ds = be.tensor([n], dout);
  const out = be.tensor([n]), dinp = be.tensor([n]);
  for (
    const [fwd, bwd, fwdRef, bwdRef] of [
      [be.geluForward, be.geluBackward, geluForwardRef, geluBackwardRef],
      [be.siluForward, be.siluBackward, siluForward, siluBackward],
    ] as const
  ) {
    fwd.call(be, out, xs, n);
    bwd.call(be, dinp, xs, ds, n);
    const y = new Float64Array(n), dx = new Float64Array(n);
    fwdRef(y, new Float64Array(x), n);
    bwdRef(dx, new Float64Array(x), new Float64Array(dout), n);
    // float32 rounding (6e-8 relative) plus the GELU table's interpolation error (< 1e-13).
    assertClose(await be.read(out), y, 1e-13, 1e-7, fwd.name);
    assertClose(await be.read(dinp), dx, 1e-13, 1e-7, bwd.name);
  }
});
