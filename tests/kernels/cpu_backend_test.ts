import assert from "node:assert/strict";
import type { Tensor } from "../../kernels/backend.ts";
import { CpuTensor, createCpuBackend } from "../../kernels/cpu_backend.ts";
import { gemmRef } from "../../kernels/gemm/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { setCpuThreads } from "../../kernels/wasm/pool.ts";
import { assertClose } from "../_util.ts";
import { f32, randomArray } from "./_cpu_grad.ts";

Deno.test("createCpuBackend() describes itself, its gemm and its threads", () => {
  try {
    setCpuThreads(1);
    assert.equal(createCpuBackend().describe(), "cpu (gemm: wasm-simd)");
    setCpuThreads(3);
    assert.equal(createCpuBackend().describe(), "cpu (gemm: wasm-simd, 3 threads)");
    // the reference GEMM is single-threaded whatever the setting
    assert.equal(createCpuBackend({ gemm: gemmRef }).describe(), "cpu (gemm: reference loops)");
  } finally {
    setCpuThreads(null);
  }
  assert.equal(createCpuBackend({ gemm: gemmRef }).describe(), "cpu (gemm: reference loops)");
  assert.equal(createCpuBackend({ gemm: gemmRef }).kind, "cpu");
  assert.equal(
    createCpuBackend({ gemm: gemmRef, gemmName: "loops" }).describe(),
    "cpu (gemm: loops)",
  );
});

Deno.test("cpu backend tensor(), write(), read(), fill() and copy() manage host copies", async () => {
  const be = createCpuBackend();
  const t = be.tensor([2, 3]);
  assert.equal(t.size, 6);
  assert.equal(t.owner, "cpu");
  assert.deepEqual(t.shape, [2, 3]);
  assert.deepEqual([...await be.read(t)], [0, 0, 0, 0, 0, 0]);
  const src = [1, 2, 3, 4, 5, 6];
  const u = be.tensor([6], src);
  src[0] = 99; // the tensor holds its own copy
  const host = await be.read(u);
  host[1] = 99; // and read() returns a copy
  assert.deepEqual([...await be.read(u)], [1, 2, 3, 4, 5, 6]);
  be.write(t, new Float32Array([7, 8]), 4);
  assert.deepEqual([...await be.read(t)], [0, 0, 0, 0, 7, 8]);
  be.copy(t, u, 2, 1, 3);
  assert.deepEqual([...await be.read(t)], [0, 4, 5, 0, 7, 8]);
  be.copy(u, u, 3, 1, 0); // overlapping copy within one tensor
  assert.deepEqual([...await be.read(u)], [1, 1, 2, 3, 5, 6]);
  be.copy(t, u);
  assert.deepEqual([...await be.read(t)], [1, 1, 2, 3, 5, 6]);
  be.fill(t, -0.5);
  assert.deepEqual([...await be.read(t)], [-0.5, -0.5, -0.5, -0.5, -0.5, -0.5]);
  await be.sync();
  assert.throws(() => be.tensor([2, 2], [1, 2, 3]), /"data" has 3 elements/);
  assert.throws(() => be.tensor([2, -1]), RangeError);
  assert.throws(() => be.write(t, new Float32Array(3), 4), /"t" has 6 elements, needs 7/);
});

Deno.test("cpu backend tensor() reuses freed arrays zeroed, without counting them live", async () => {
  const be = createCpuBackend();
  const t = be.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
  be.free(t);
  assert.equal(be.memory().liveBytes, 0);
  const u = be.tensor([3, 2]); // same size: takes the freed array, zeroed
  assert.deepEqual([...await be.read(u)], [0, 0, 0, 0, 0, 0]);
  assert.equal(be.memory().liveBytes, 24);
  be.free(u);
  const v = be.tensor([6], [6, 5, 4, 3, 2, 1]);
  assert.deepEqual([...await be.read(v)], [6, 5, 4, 3, 2, 1]);
  be.fill(v, 7);
  const w = be.tensor([6]); // nothing pooled: a fresh array, v keeps its values
  assert.deepEqual([...await be.read(w)], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...await be.read(v)], [7, 7, 7, 7, 7, 7]);
  be.free(v);
  be.free(v); // a second free pools nothing more
  const x = be.tensor([6]), y = be.tensor([6]);
  be.fill(x, 1);
  assert.deepEqual([...await be.read(y)], [0, 0, 0, 0, 0, 0]);
});

Deno.test("cpu backend keeps freed arrays up to its live peak, dropping unused ones for fresh ones", () => {
  const be = createCpuBackend();
  const x = be.tensor([20 << 20]) as CpuTensor, xData = x.data; // 80 MiB: the peak
  be.free(x); // kept: over the 64 MiB floor, within the peak
  const x2 = be.tensor([20 << 20]) as CpuTensor;
  assert.equal(x2.data, xData, "the freed array was reused");
  be.free(x2);
  be.resetPeak(); // the peak is now 0 (nothing live)
  // a fresh 72 MiB array: with the kept 80 MiB one, over 64 MiB beside the live ones: dropped
  const y = be.tensor([18 << 20]) as CpuTensor, yData = y.data;
  be.free(y); // kept: within the new peak
  const y2 = be.tensor([18 << 20]) as CpuTensor;
  assert.equal(y2.data, yData, "the freed 72 MiB array was reused");
  const x3 = be.tensor([20 << 20]) as CpuTensor;
  assert.notEqual(x3.data, xData, "the 80 MiB array was dropped for the 72 MiB one");
  be.free(y2);
  be.free(x3);
});

Deno.test("cpu backend rejects tensors of another backend, freed tensors and use after destroy", () => {
  const be = createCpuBackend();
  const t = be.tensor([4]);
  const alien: Tensor = { shape: [4], size: 4, owner: "webgpu" };
  assert.throws(
    () => be.axpby(t, alien, 1, t, 1, 4),
    (e: unknown) =>
      e instanceof TypeError && /"a" is not a cpu tensor \(owner webgpu\)/.test(e.message),
  );
  assert.throws(() => be.axpby(t, t, 1, t, 1, 5), /axpby: "out" has 4 elements, needs 5/);
  assert.throws(() => be.axpby(t, t, 1, t, 1, 1.5), /n must be a non-negative integer/);
  const u = be.tensor([4]);
  be.free(u);
  assert.ok(u instanceof CpuTensor && u.freed);
  assert.throws(() => be.fill(u, 1), /"t" was freed/);
  be.destroy();
  assert.throws(() => be.tensor([1]), /the cpu backend was destroyed/);
});

Deno.test("cpu backend gemm() matches gemmRef on strided batches and ignores old C when beta = 0", async () => {
  const rng = new Rng(61);
  const be = createCpuBackend({ gemm: gemmRef }); // exact comparison: the same loops
  // Two (3, 5) @ (5, 4)^T products on column blocks of wider matrices, written into a (2, 3, 6)
  // output with ldc 6 and an offset of 1 column.
  const M = 3, N = 4, K = 5, batch = 2;
  const a = f32(randomArray(rng, 40)), b = f32(randomArray(rng, 60));
  const opts = {
    transB: true,
    alpha: 0.5,
    batch,
    lda: 7,
    ldb: 6,
    ldc: 6,
    strideA: 15,
    strideB: 30,
    strideC: 18,
    offsetA: 2,
    offsetB: 1,
    offsetC: 1,
  };
  const c0 = new Float32Array(36).fill(NaN);
  const tc = be.tensor([36], c0), ta = be.tensor([40], a), tb = be.tensor([60], b);
  be.gemm(tc, ta, tb, M, N, K, opts);
  const want = c0.slice();
  gemmRef(want, a, b, M, N, K, opts);
  const got = await be.read(tc);
  for (let i = 0; i < 36; i++) {
    // Elements outside the written blocks keep their NaN; written ones are finite.
    assert.equal(Number.isNaN(got[i]), Number.isNaN(want[i]), `element ${i}`);
  }
  assert.equal(got.filter(Number.isFinite).length, batch * M * N);
  assertClose(
    got.map((v) => (Number.isNaN(v) ? 0 : v)),
    want.map((v) => (Number.isNaN(v) ? 0 : v)),
    0,
    0,
    "C",
  );
  assert.throws(
    () => be.gemm(tc, ta, tb, M, N, K, { ...opts, offsetA: 7 }),
    (e: unknown) => e instanceof RangeError && /"a" has 40 elements, needs 41/.test(e.message),
  );
  assert.throws(() => be.gemm(tc, ta, tb, M, N, K, { ...opts, lda: 4 }), /lda is 4, must be >= 5/);
});
