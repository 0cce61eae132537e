import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { layernormBackward, layernormForward } from "../../kernels/layernorm/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";
import { dot, f32, numericalGrad, randomArray } from "./_cpu_grad.ts";

Deno.test("layernormForward() normalises a row by hand", () => {
  // Row [1, 2, 3, 4]: mean 2.5, biased variance 1.25.
  const inp = new Float64Array([1, 2, 3, 4]);
  const weight = new Float64Array([1, 2, 1, 1]), bias = new Float64Array([0, 0, 0, 10]);
  const out = new Float64Array(4), mean = new Float64Array(1), rstd = new Float64Array(1);
  layernormForward(out, mean, rstd, inp, weight, bias, 1, 4, 0);
  const r = 1 / Math.sqrt(1.25);
  assertClose(mean, [2.5], 0, 1e-15, "mean");
  assertClose(rstd, [r], 0, 1e-15, "rstd");
  assertClose(out, [-1.5 * r, -1 * r, 0.5 * r, 1.5 * r + 10], 1e-15, 1e-15, "out");
  // eps sits inside the square root, as in PyTorch.
  layernormForward(out, mean, rstd, inp, weight, bias, 1, 4, 1e-5);
  assertClose(rstd, [1 / Math.sqrt(1.25 + 1e-5)], 0, 1e-15, "rstd with eps");
});

Deno.test("layernormBackward() matches central finite differences (float64)", () => {
  const rng = new Rng(31);
  const N = 3, C = 7, eps = 1e-5;
  const inp = randomArray(rng, N * C), weight = randomArray(rng, C), bias = randomArray(rng, C);
  const dout = randomArray(rng, N * C);
  const out = new Float64Array(N * C), mean = new Float64Array(N), rstd = new Float64Array(N);
  const loss = () => {
    layernormForward(out, mean, rstd, inp, weight, bias, N, C, eps);
    return dot(out, dout);
  };
  const gInp = numericalGrad(loss, inp), gW = numericalGrad(loss, weight);
  const gB = numericalGrad(loss, bias);
  loss(); // restore mean/rstd at the unperturbed point
  const dinp = new Float64Array(N * C).fill(NaN); // overwritten
  const dweight = new Float64Array(C).fill(0.25), dbias = new Float64Array(C).fill(-2); // +=
  layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
  assertClose(dinp, gInp, 1e-8, 1e-6, "dinp");
  assertClose(dweight, gW.map((g) => g + 0.25), 1e-8, 1e-6, "dweight");
  assertClose(dbias, gB.map((g) => g - 2), 1e-8, 1e-6, "dbias");
});

Deno.test("cpu backend layernorm matches the float64 loops to float32 precision", async () => {
  const rng = new Rng(32);
  const N = 9, C = 12, eps = 1e-5;
  const x = f32(randomArray(rng, N * C, 3).map((v) => v + 5)); // offset mean
  const w = f32(randomArray(rng, C)),
    b = f32(randomArray(rng, C)),
    d = f32(randomArray(rng, N * C));
  const be = createCpuBackend();
  const [tx, tw, tb, td] = [x, w, b, d].map((a) => be.tensor([a.length], a));
  const out = be.tensor([N, C]), mean = be.tensor([N]), rstd = be.tensor([N]);
  be.layernormForward(out, mean, rstd, tx, tw, tb, N, C, eps);
  const [ro, rm, rr] = [new Float64Array(N * C), new Float64Array(N), new Float64Array(N)];
  const h = (a: Float32Array) => new Float64Array(a);
  layernormForward(ro, rm, rr, h(x), h(w), h(b), N, C, eps);
  assertClose(await be.read(out), ro, 1e-5, 1e-5, "out");
  assertClose(await be.read(mean), rm, 1e-6, 1e-6, "mean");
  assertClose(await be.read(rstd), rr, 1e-6, 1e-6, "rstd");

  const dinp = be.tensor([N, C]), dbias = be.tensor([C], new Float32Array(C).fill(1));
  be.layernormBackward(dinp, null, dbias, td, tx, tw, mean, rstd, N, C);
  const [rdi, rdw, rdb] = [
    new Float64Array(N * C),
    new Float64Array(C),
    new Float64Array(C).fill(1),
  ];
  layernormBackward(rdi, rdw, rdb, h(d), h(x), h(w), rm, rr, N, C);
  assertClose(await be.read(dinp), rdi, 1e-5, 1e-5, "dinp");
  assertClose(await be.read(dbias), rdb, 1e-5, 1e-5, "dbias");
  assert.throws(
    () => be.layernormForward(out, mean, rstd, tx, tw, tb, N + 1, C, eps),
    (e: unknown) => e instanceof RangeError && /"out" has 108 elements, needs 120/.test(e.message),
  );
});

Deno.test("layernormBackward() gives the same bits after a wider call reused its scratch", () => {
  const rng = new Rng(33);
  const run = (N: number, C: number, seed: number) => {
    const r = new Rng(seed);
    const inp = f32(randomArray(r, N * C)), weight = f32(randomArray(r, C));
    const dout = f32(randomArray(r, N * C)), bias = new Float32Array(C);
    const out = new Float32Array(N * C), mean = new Float32Array(N), rstd = new Float32Array(N);
    layernormForward(out, mean, rstd, inp, weight, bias, N, C, 1e-5);
    const dinp = new Float32Array(N * C),
      dw = new Float32Array(C).fill(1),
      db = new Float32Array(C);
    layernormBackward(dinp, dw, db, dout, inp, weight, mean, rstd, N, C);
    return [dinp, dw, db];
  };
  const first = run(4, 9, 34);
  run(3, 5000, rng.nextU32()); // grows and dirties the shared scratch
  assert.deepEqual(run(4, 9, 34), first);
});
