/**
 * WGSL element-wise kernels, activations (with the float32 erf), tables, AdamW and the Philox
 * generator against the CPU twin and the TypeScript generator.
 */
import assert from "node:assert/strict";
import { erf } from "../../kernels/activation/_erf.ts";
import { erfDebugKernel } from "../../kernels/activation/wgsl.ts";
import { philox4x32, randnHost } from "../../kernels/rng/philox.ts";
import { philoxDebugKernel } from "../../kernels/rng/wgsl.ts";
import { assertClose } from "../_util.ts";
import { assertTwin, both, cpu, gpu, GPU_TEST, gpuIgnore, uniform } from "./_webgpu.ts";

Deno.test({
  ...GPU_TEST,
  name: "axpby(), addPeriodic() and scaleRows() match the CPU twin, in place too",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const n = 1000; // not a multiple of 256
    const [a, aC] = both(be, [n], uniform(n, 1));
    const [b, bC] = both(be, [n], uniform(n, 2));
    const [out, outC] = both(be, [n]);
    // Exact float32 arithmetic on both sides: atol 1e-6, rtol 1e-6.
    const tol = [1e-6, 1e-6] as const;
    be.axpby(out, a, 0.5, b, -2, n);
    cpu.axpby(outC, aC, 0.5, bC, -2, n);
    await assertTwin(be, out, outC, ...tol, "axpby");
    be.axpby(out, out, 1.5, b, 1, n); // out aliases a
    cpu.axpby(outC, outC, 1.5, bC, 1, n);
    await assertTwin(be, out, outC, ...tol, "axpby out = a");
    be.axpby(out, a, 1, out, 3, n); // out aliases b
    cpu.axpby(outC, aC, 1, outC, 3, n);
    await assertTwin(be, out, outC, ...tol, "axpby out = b");
    be.axpby(out, out, 0.25, out, 0.5, n); // out aliases both
    cpu.axpby(outC, outC, 0.25, outC, 0.5, n);
    await assertTwin(be, out, outC, ...tol, "axpby out = a = b");

    const period = 7;
    const [row, rowC] = both(be, [period], uniform(period, 3));
    be.addPeriodic(out, a, row, n, period);
    cpu.addPeriodic(outC, aC, rowC, n, period);
    await assertTwin(be, out, outC, ...tol, "addPeriodic");
    be.addPeriodic(out, out, row, n, period);
    cpu.addPeriodic(outC, outC, rowC, n, period);
    await assertTwin(be, out, outC, ...tol, "addPeriodic in place");

    const R = 40, C = 25;
    const [s, sC] = both(be, [R], uniform(R, 4));
    be.scaleRows(out, a, s, R, C);
    cpu.scaleRows(outC, aC, sC, R, C);
    await assertTwin(be, out, outC, ...tol, "scaleRows");
    be.scaleRows(out, out, s, R, C);
    cpu.scaleRows(outC, outC, sC, R, C);
    await assertTwin(be, out, outC, ...tol, "scaleRows in place");
  },
});

Deno.test({
  ...GPU_TEST,
  name: "rowSumSqDiff() and gatherRows() match the CPU twin",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const R = 5, C = 300;
    const [a, aC] = both(be, [R, C], uniform(R * C, 5));
    const [b, bC] = both(be, [R, C], uniform(R * C, 6));
    const [w, wC] = both(be, [R, C], uniform(R * C, 7, 0, 1));
    const [out, outC] = both(be, [R]);
    be.rowSumSqDiff(out, a, b, w, R, C);
    cpu.rowSumSqDiff(outC, aC, bC, wC, R, C);
    // 300 terms of size <= 4: atol 1e-4, rtol 1e-5.
    await assertTwin(be, out, outC, 1e-4, 1e-5, "rowSumSqDiff weighted");
    be.rowSumSqDiff(out, a, b, null, R, C);
    cpu.rowSumSqDiff(outC, aC, bC, null, R, C);
    await assertTwin(be, out, outC, 1e-4, 1e-5, "rowSumSqDiff");
    // Rows longer than one chunk (3 chunks of 4096, the last partial): chunk sums, then rows.
    const L = 2 * 4096 + 1000;
    const [la, laC] = both(be, [3, L], uniform(3 * L, 8));
    const [lb, lbC] = both(be, [3, L], uniform(3 * L, 9));
    const [lo, loC] = both(be, [3]);
    be.rowSumSqDiff(lo, la, lb, null, 3, L);
    cpu.rowSumSqDiff(loC, laC, lbC, null, 3, L);
    // 9192 terms of size <= 4 (sums ~6000): atol 1e-3, rtol 1e-5.
    await assertTwin(be, lo, loC, 1e-3, 1e-5, "rowSumSqDiff long rows");

    const index = Int32Array.from([3, 0, 4, 4, 1, 2, 0]);
    const [g, gC] = both(be, [index.length, C]);
    be.gatherRows(g, a, index, C);
    cpu.gatherRows(gC, aC, index, C);
    await assertTwin(be, g, gC, 0, 0, "gatherRows");
    assert.throws(() => be.gatherRows(g, a, Int32Array.from([5]), C), RangeError);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "tensor(), write(), fill(), copy() and copy2d() move the right elements",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const t = be.tensor([3, 4], Float32Array.from({ length: 12 }, (_, i) => i));
    assert.deepEqual(Array.from(await be.read(be.tensor([2]))), [0, 0]);
    be.write(t, Float32Array.from([-1, -2]), 5);
    assert.deepEqual(Array.from(await be.read(t)), [0, 1, 2, 3, 4, -1, -2, 7, 8, 9, 10, 11]);
    const u = be.tensor([12]);
    be.fill(u, 2.5);
    be.copy(u, t, 3, 1, 4); // u[1..4) = t[4..7)
    assert.deepEqual(Array.from(await be.read(u)).slice(0, 5), [2.5, 4, -1, -2, 2.5]);
    be.copy(t, t, 4, 8, 0); // same tensor, disjoint ranges
    assert.deepEqual(Array.from(await be.read(t)).slice(8), [0, 1, 2, 3]);
    // Frame-axis slice: rows 1..3 of a (3, 4) block, columns 1..3, into a (2, 5) block.
    const src = be.tensor([3, 4], Float32Array.from({ length: 12 }, (_, i) => i));
    const dst = be.tensor([2, 5]);
    be.copy2d(dst, src, 2, 2, 5, 1, 4, 5);
    assert.deepEqual(Array.from(await be.read(dst)), [0, 5, 6, 0, 0, 0, 9, 10, 0, 0]);
    // A write queued after a dispatch lands after it.
    be.fill(dst, 1);
    be.write(dst, Float32Array.from([7]), 0);
    be.axpby(dst, dst, 2, dst, 0, 10);
    assert.deepEqual(Array.from(await be.read(dst)), [14, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    assert.throws(() => be.write(dst, new Float32Array(3), 8), RangeError);
    assert.throws(() => be.tensor([2, 2], [1, 2, 3]), RangeError);
    assert.throws(() => be.axpby(dst, cpu.tensor([10]), 1, dst, 1, 10), TypeError);
    be.free(src);
    assert.throws(() => be.fill(src, 0), /freed/);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "WGSL erf_f32 is within 5e-7 of float64 erf on [-6, 6]",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const n = 4801;
    const x = Float32Array.from({ length: n }, (_, i) => -6 + i * 0.0025);
    const inp = be.tensor([n], x), out = be.tensor([n]);
    be.dispatch(erfDebugKernel(be.bufferOf(out), be.bufferOf(inp), n));
    const got = await be.read(out);
    assertClose(got, Array.from(x, erf), 5e-7, 0, "erf_f32");
  },
});

Deno.test({
  ...GPU_TEST,
  name: "geluForward/Backward() and siluForward/Backward() match the CPU twin",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const n = 777;
    const [x, xC] = both(be, [n], uniform(n, 8, -8, 8));
    const [d, dC] = both(be, [n], uniform(n, 9));
    const [y, yC] = both(be, [n]);
    // erf_f32 error 5e-7 times |x| / 2 <= 4: atol 3e-6, rtol 1e-5.
    be.geluForward(y, x, n);
    cpu.geluForward(yC, xC, n);
    await assertTwin(be, y, yC, 3e-6, 1e-5, "geluForward");
    be.geluBackward(y, x, d, n);
    cpu.geluBackward(yC, xC, dC, n);
    await assertTwin(be, y, yC, 3e-6, 1e-5, "geluBackward");
    // Sigmoid through exp: a few ulp, atol 1e-6, rtol 1e-5.
    be.siluForward(y, x, n);
    cpu.siluForward(yC, xC, n);
    await assertTwin(be, y, yC, 1e-6, 1e-5, "siluForward");
    be.siluBackward(y, x, d, n);
    cpu.siluBackward(yC, xC, dC, n);
    await assertTwin(be, y, yC, 1e-6, 1e-5, "siluBackward");
  },
});

Deno.test({
  ...GPU_TEST,
  name: "positionalTable() equals the CPU twin and adamw() follows it over 3 steps",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const [pe, peC] = both(be, [50, 16]);
    be.positionalTable(pe, 50, 16);
    cpu.positionalTable(peC, 50, 16);
    await assertTwin(be, pe, peC, 0, 0, "positionalTable");

    const n = 600;
    const [p, pC] = both(be, [n], uniform(n, 10));
    const [m, mC] = both(be, [n]);
    const [v, vC] = both(be, [n]);
    for (let step = 1; step <= 3; step++) {
      const [g, gC] = both(be, [n], uniform(n, 10 + step, -0.1, 0.1));
      const opts = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step };
      be.adamw(p, g, m, v, n, opts);
      cpu.adamw(pC, gC, mC, vC, n, opts);
    }
    // Same float32 operation order; GPU division/sqrt may differ by an ulp: atol 1e-7, rtol 1e-5.
    await assertTwin(be, p, pC, 1e-7, 1e-5, "param");
    await assertTwin(be, m, mC, 1e-8, 1e-5, "m");
    await assertTwin(be, v, vC, 1e-10, 1e-5, "v");

    // The clip factor from sums of squares (float32 on the GPU, float64 on the CPU: rtol 1e-6),
    // then a step with it.
    const sumsHost = uniform(40, 20, 0, 3);
    const [sums, sumsC] = both(be, [40], sumsHost);
    const [scale, scaleC] = both(be, [1]);
    for (const maxNorm of [2, 1e3, 0, Infinity]) {
      be.gradClipScale(scale, sums, 40, maxNorm);
      cpu.gradClipScale(scaleC, sumsC, 40, maxNorm);
      await assertTwin(be, scale, scaleC, 0, 1e-6, `gradClipScale(maxNorm ${maxNorm})`);
    }
    be.gradClipScale(scale, sums, 40, 2);
    cpu.gradClipScale(scaleC, sumsC, 40, 2);
    assert.ok((await cpu.read(scaleC))[0] < 0.5); // it clips
    const [g, gC] = both(be, [n], uniform(n, 30, -0.1, 0.1));
    const opts = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 4 };
    be.adamw(p, g, m, v, n, opts, scale);
    cpu.adamw(pC, gC, mC, vC, n, opts, scaleC);
    await assertTwin(be, p, pC, 1e-7, 1e-5, "param after a clipped step");
    await assertTwin(be, m, mC, 1e-8, 1e-5, "m after a clipped step");
  },
});

Deno.test({
  ...GPU_TEST,
  name: "WGSL Philox blocks are bit-identical to philox4x32()",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const blocks = 300, first = 0xfffffff0 - 100; // counters near the top of the u32 range
    const out = be.tensor([4 * blocks]);
    const seed = 0xdeadbeef, stream = 12345;
    be.dispatch(philoxDebugKernel(be.bufferOf(out), blocks, first, seed, stream));
    const got = new Uint32Array((await be.read(out)).buffer);
    const want = new Uint32Array(4 * blocks);
    const block = new Uint32Array(4);
    for (let j = 0; j < blocks; j++) {
      philox4x32((first + j) >>> 0, 0, 0, 0, seed, stream, block);
      want.set(block, 4 * j);
    }
    assert.deepEqual(got, want);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "randn() matches randnHost() at unaligned offsets",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    for (const [n, offset] of [[1001, 0], [513, 3], [2, 6], [1, 0xfffffff1]]) {
      const out = be.tensor([n]);
      be.randn(out, n, { seed: 42, stream: 9, offset });
      const want = new Float32Array(n);
      randnHost(want, n, 42, 9, offset);
      // float32 Box-Muller vs float64: atol 2e-6, rtol 2e-6.
      assertClose(await be.read(out), want, 2e-6, 2e-6, `randn n=${n} offset=${offset}`);
      be.free(out);
    }
  },
});
