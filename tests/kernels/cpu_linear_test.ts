import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { type GemmFn, gemmRef } from "../../kernels/gemm/cpu.ts";
import {
  linearBackward,
  linearBackwardRef,
  linearForward,
  linearForwardRef,
} from "../../kernels/linear/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";
import { dot, f32, numericalGrad, randomArray } from "./_cpu_grad.ts";

Deno.test("linearForwardRef() computes inp @ weight^T + bias by hand", () => {
  // inp (2, 3), weight (2, 3), bias (2)
  const out = new Float64Array(4);
  linearForwardRef(
    out,
    new Float64Array([1, 2, 3, 4, 5, 6]),
    new Float64Array([1, 0, -1, 2, 1, 0]),
    new Float64Array([10, 20]),
    2,
    3,
    2,
  );
  assert.deepEqual([...out], [1 - 3 + 10, 2 + 2 + 20, 4 - 6 + 10, 8 + 5 + 20]);
});

Deno.test("linearBackwardRef() matches central finite differences (float64)", () => {
  const rng = new Rng(21);
  const N = 5, C = 4, OC = 3;
  const inp = randomArray(rng, N * C), weight = randomArray(rng, OC * C);
  const bias = randomArray(rng, OC), dout = randomArray(rng, N * OC);
  const out = new Float64Array(N * OC);
  const loss = () => {
    linearForwardRef(out, inp, weight, bias, N, C, OC);
    return dot(out, dout);
  };
  const dinp = new Float64Array(N * C).fill(NaN); // overwritten
  const dweight = new Float64Array(OC * C).fill(0.5); // accumulated into
  const dbias = new Float64Array(OC).fill(-1);
  linearBackwardRef(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
  const tol = [1e-8, 1e-7] as const;
  assertClose(dinp, numericalGrad(loss, inp), ...tol, "dinp");
  assertClose(dweight, numericalGrad(loss, weight).map((g) => g + 0.5), ...tol, "dweight");
  assertClose(dbias, numericalGrad(loss, bias).map((g) => g - 1), ...tol, "dbias");
});

Deno.test("linearForward()/linearBackward() through gemmRef match the plain loops", () => {
  const rng = new Rng(22);
  for (const [N, C, OC] of [[7, 12, 5], [1, 3, 1], [13, 5, 17]]) {
    const inp = randomArray(rng, N * C), weight = randomArray(rng, OC * C);
    const bias = randomArray(rng, OC), dout = randomArray(rng, N * OC);
    for (const b of [bias, null]) {
      const a = new Float64Array(N * OC), e = new Float64Array(N * OC).fill(NaN);
      linearForwardRef(a, inp, weight, b, N, C, OC);
      linearForward(e, inp, weight, b, N, C, OC, gemmRef);
      assertClose(e, a, 1e-12, 1e-12, `out ${N}x${C}x${OC}`);
    }
    const init = randomArray(rng, OC * C), initB = randomArray(rng, OC);
    const [d1, w1, b1] = [new Float64Array(N * C), init.slice(), initB.slice()];
    const [d2, w2, b2] = [new Float64Array(N * C).fill(NaN), init.slice(), initB.slice()];
    linearBackwardRef(d1, w1, b1, dout, inp, weight, N, C, OC);
    linearBackward(d2, w2, b2, dout, inp, weight, N, C, OC, gemmRef);
    assertClose(d2, d1, 1e-12, 1e-12, "dinp");
    assertClose(w2, w1, 1e-12, 1e-12, "dweight");
    assertClose(b2, b1, 1e-12, 1e-12, "dbias");
  }
});

Deno.test("cpu backend linear matches the float64 loops and skips null gradients", async () => {
  const rng = new Rng(23);
  const N = 7, C = 12, OC = 5;
  const inp = randomArray(rng, N * C), weight = randomArray(rng, OC * C);
  const bias = randomArray(rng, OC), dout = randomArray(rng, N * OC);
  let calls = 0;
  const counting: GemmFn = (...args) => {
    calls++;
    gemmRef(...args);
  };
  const be = createCpuBackend({ gemm: counting, gemmName: "counting" });
  assert.equal(be.describe(), "cpu (gemm: counting)");
  const t = (x: Float64Array) => be.tensor([x.length], f32(x));
  const [ti, tw, tb, td] = [t(inp), t(weight), t(bias), t(dout)];
  const out = be.tensor([N, OC]);
  be.linearForward(out, ti, tw, tb, N, C, OC);
  const ref = new Float64Array(N * OC);
  linearForwardRef(ref, f64(inp), f64(weight), f64(bias), N, C, OC);
  assertClose(await be.read(out), ref, 1e-5, 1e-5, "out");
  assert.equal(calls, 1, "forward is one gemm");

  const dinp = be.tensor([N, C], new Float32Array(N * C).fill(NaN));
  const dweight = be.tensor([OC, C], new Float32Array(OC * C).fill(1));
  const dbias = be.tensor([OC], new Float32Array(OC).fill(2));
  be.linearBackward(dinp, dweight, dbias, td, ti, tw, N, C, OC);
  const [rd, rw, rb] = [
    new Float64Array(N * C),
    new Float64Array(OC * C).fill(1),
    new Float64Array(OC).fill(2),
  ];
  linearBackwardRef(rd, rw, rb, f64(dout), f64(inp), f64(weight), N, C, OC);
  assertClose(await be.read(dinp), rd, 1e-5, 1e-5, "dinp");
  assertClose(await be.read(dweight), rw, 1e-5, 1e-5, "dweight");
  assertClose(await be.read(dbias), rb, 1e-5, 1e-5, "dbias");
  assert.equal(calls, 3, "backward is two gemms");

  // Frozen weight and first layer: only the bias gradient is produced.
  be.linearBackward(null, null, dbias, td, ti, tw, N, C, OC);
  linearBackwardRef(null, null, rb, f64(dout), f64(inp), f64(weight), N, C, OC);
  assertClose(await be.read(dbias), rb, 1e-5, 1e-5, "dbias twice");
  assert.equal(calls, 3);
});

Deno.test("cpu linearForward() extras round as the product, then axpby, then geluForward", async () => {
  const N = 5, C = 7, OC = 6, rng = new Rng(41, 0);
  const be = createCpuBackend();
  const t = (n: number) => be.tensor([n], f32(randomArray(rng, n)));
  const [inp, weight, bias, residual] = [t(N * C), t(OC * C), t(OC), t(N * OC)];
  const fused = be.tensor([N, OC]), separate = be.tensor([N, OC]);
  const gelu = be.tensor([N, OC]), geluSeparate = be.tensor([N, OC]);
  be.linearForward(fused, inp, weight, bias, N, C, OC, { residual, gelu });
  be.linearForward(separate, inp, weight, bias, N, C, OC);
  be.axpby(separate, separate, 1, residual, 1, N * OC);
  be.geluForward(geluSeparate, separate, N * OC);
  assert.deepEqual(await be.read(fused), await be.read(separate));
  assert.deepEqual(await be.read(gelu), await be.read(geluSeparate));
  // a short residual is refused before anything is written
  const before = await be.read(fused);
  assert.throws(
    () => be.linearForward(fused, inp, weight, bias, N, C, OC, { residual: be.tensor([3]) }),
    (e: unknown) => e instanceof RangeError && /"residual" has 3 elements/.test(e.message),
  );
  assert.deepEqual(await be.read(fused), before);
  for (const extras of [{ residual: fused }, { gelu: fused }]) {
    assert.throws(
      () => be.linearForward(fused, inp, weight, bias, N, C, OC, extras),
      (e: unknown) => e instanceof RangeError && /is the output tensor itself/.test(e.message),
    );
  }
});

Deno.test("cpu linearBackward() extras round as the product, then geluBackward, then axpby", async () => {
  const N = 5, C = 7, OC = 6, rng = new Rng(42, 0);
  const be = createCpuBackend();
  const t = (n: number) => be.tensor([n], f32(randomArray(rng, n)));
  const [dout, inp, weight] = [t(N * OC), t(N * C), t(OC * C)];
  const [geluInput, residual] = [t(N * C), t(N * C)];
  const fused = be.tensor([N, C]), product = be.tensor([N, C]), separate = be.tensor([N, C]);
  be.linearBackward(fused, null, null, dout, inp, weight, N, C, OC, { geluInput, residual });
  be.linearBackward(product, null, null, dout, inp, weight, N, C, OC);
  be.geluBackward(separate, geluInput, product, N * C);
  be.axpby(separate, separate, 1, residual, 1, N * C);
  assert.deepEqual(await be.read(fused), await be.read(separate));
  assert.notDeepEqual(await be.read(fused), await be.read(product)); // the extras acted
  for (const extras of [{ residual: fused }, { geluInput: fused }]) {
    assert.throws(
      () => be.linearBackward(fused, null, null, dout, inp, weight, N, C, OC, extras),
      (e: unknown) => e instanceof RangeError && /is the output tensor itself/.test(e.message),
    );
  }
  // extras act on the input gradient: without one they are refused, not dropped
  assert.throws(
    () => be.linearBackward(null, null, null, dout, inp, weight, N, C, OC, { residual }),
    (e: unknown) =>
      e instanceof RangeError && /residual is given but the input gradient/.test(e.message),
  );
});

Deno.test("cpu backend linearForward() rejects a short weight, naming it", () => {
  const be = createCpuBackend();
  const out = be.tensor([2, 3]), inp = be.tensor([2, 4]), weight = be.tensor([3, 3]);
  assert.throws(
    () => be.linearForward(out, inp, weight, null, 2, 4, 3),
    (e: unknown) => e instanceof RangeError && /"weight" has 9 elements, needs 12/.test(e.message),
  );
});

/** The float32-rounded values as float64, what the backend sees. */
function f64(x: Float64Array): Float64Array {
  return new Float64Array(f32(x));
}
