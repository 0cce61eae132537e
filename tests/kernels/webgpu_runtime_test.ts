/** WebGPU device, dispatch machinery and error reporting. */
import assert from "node:assert/strict";
import { adapterDescription, getGpuDevice } from "../../kernels/webgpu/device.ts";
import { type Kernel, u32 } from "../../kernels/webgpu/kernel.ts";
import { FIRST_BATCH, STAGING_BYTES } from "../../kernels/webgpu/runtime.ts";
import { createWebGpuBackend } from "../../kernels/webgpu_backend.ts";
import { gemmRef } from "../../kernels/gemm/cpu.ts";
import { assertClose } from "../_util.ts";
import { gpu, GPU_TEST, gpuIgnore, uniform } from "./_webgpu.ts";

Deno.test({
  ...GPU_TEST,
  name: "getGpuDevice() returns one device and adapterDescription() names the adapter",
  ignore: gpuIgnore,
  async fn() {
    assert.equal(await getGpuDevice(), await getGpuDevice());
    const d = await adapterDescription();
    assert.ok(d !== null);
    assert.equal(typeof d.isSoftwareAdapter, "boolean");
    if (/llvmpipe|lavapipe/i.test(d.description)) assert.ok(d.isSoftwareAdapter);
    const be = await gpu();
    assert.match(be.describe(), /^webgpu/);
    assert.equal(be.kind, "webgpu");
  },
});

Deno.test({
  ...GPU_TEST,
  name: "a WGSL compile error is reported as line:col with the source line",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const out = be.tensor([4]);
    const broken: Kernel = {
      name: "broken",
      code: "@compute @workgroup_size(1)\nfn main() {\n  out[0] = 1u;\n}\n",
      inputs: [],
      outputs: [{ name: "out", buffer: be.bufferOf(out) }],
      uniforms: [u32("n", 4)],
      grid: [1, 1, 1],
    };
    be.dispatch(broken);
    // The generated header (Params struct, 1 binding, uniform) puts the body's line 3 at line 8.
    await assert.rejects(be.sync(), (e: Error) => {
      assert.match(e.message, /Cannot compile WGSL kernel "broken"/);
      assert.match(e.message, /\n {2}8:\d+: /);
      assert.match(e.message, /out\[0\] = 1u;/);
      return true;
    });
    // The backend keeps working afterwards.
    be.fill(out, 3);
    assert.deepEqual(Array.from(await be.read(out)), [3, 3, 3, 3]);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "more dispatches than one batch run in order",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const x = be.tensor([3], [0, 0, 0]);
    const one = be.tensor([3], [1, 2, 3]);
    for (let i = 0; i < 1200; i++) be.axpby(x, x, 1, one, 1, 3); // each with its own uniforms
    assert.deepEqual(Array.from(await be.read(x)), [1200, 2400, 3600]);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "after the GPU was idle, batches start at FIRST_BATCH dispatches and double to 512",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const x = be.tensor([3], [0, 0, 0]);
    const one = be.tensor([3], [1, 1, 1]);
    // Submissions after each dispatch, from an idle GPU: 16, then 32 more, 64, 128, 256, 512...
    const countsAfter = async (n: number) => {
      await be.sync();
      const s0 = be.runtime.submissions, at: number[] = [];
      for (let i = 1; i <= n; i++) {
        be.axpby(x, x, 1, one, 1, 3);
        if (be.runtime.submissions !== s0 + at.length) at.push(i);
      }
      return at;
    };
    // A batch is submitted when the dispatch after it arrives.
    const want = [16, 48, 112, 240, 496, 1008, 1520].map((i) => i + 1);
    assert.equal(FIRST_BATCH, 16);
    assert.deepEqual(await countsAfter(1600), want);
    // A read-back also leaves the GPU idle: the next batch is small again.
    await be.read(x);
    const s0 = be.runtime.submissions;
    for (let i = 0; i < 17; i++) be.axpby(x, x, 1, one, 1, 3);
    assert.equal(be.runtime.submissions, s0 + 1);
    assert.deepEqual(Array.from(await be.read(x)), [1617, 1617, 1617]);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "a read-back's first batch is small before it is awaited; a sync after it needs no fence",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const x = be.tensor([3], [0, 0, 0]);
    const one = be.tensor([3], [1, 1, 1]);
    for (let i = 0; i < 600; i++) be.axpby(x, x, 1, one, 1, 3); // batches grown to 512
    const f0 = be.runtime.fences;
    const reading = be.read(x);
    // Work encoded while the read-back is on its way (Deno: the GPU has drained in the call) is
    // submitted after FIRST_BATCH dispatches, not 512.
    const s0 = be.runtime.submissions;
    for (let i = 0; i < FIRST_BATCH + 1; i++) be.axpby(x, x, 1, one, 1, 3);
    assert.equal(be.runtime.submissions, s0 + 1);
    assert.deepEqual(Array.from(await reading), [600, 600, 600]);
    assert.equal(be.runtime.fences, f0 + 1);
    // 17 dispatches are outstanding: the sync waits for them
    await be.sync();
    assert.equal(be.runtime.fences, f0 + 2);
    // nothing submitted since that fence: a second sync returns without one
    await be.sync();
    assert.equal(be.runtime.fences, f0 + 2);
    assert.deepEqual(Array.from(await be.read(x)), [617, 617, 617]);
    assert.equal(be.runtime.fences, f0 + 3);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "layernorm and attention are bit-identical across runs",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const N = 20, C = 96, B = 2, T = 10, NH = 4;
    const inp = be.tensor([N, C], uniform(N * C, 1));
    const w = be.tensor([C], uniform(C, 2)), b = be.tensor([C], uniform(C, 3));
    const qkv = be.tensor([B, T, 3 * C], uniform(B * T * 3 * C, 4));
    const dout = be.tensor([B, T, C], uniform(B * T * C, 5));
    const run = async () => {
      const out = be.tensor([N, C]), mean = be.tensor([N]), rstd = be.tensor([N]);
      const dw = be.tensor([C]), db = be.tensor([C]), dinp = be.tensor([N, C]);
      be.layernormForward(out, mean, rstd, inp, w, b, N, C, 1e-5);
      be.layernormBackward(dinp, dw, db, out, inp, w, mean, rstd, N, C);
      const ao = be.tensor([B, T, C]), att = be.tensor([B, NH, T, T]);
      const dqkv = be.tensor([B, T, 3 * C]), datt = be.tensor([B, NH, T, T]);
      be.attentionForward(ao, att, qkv, null, B, T, C, NH);
      be.attentionBackward(dqkv, datt, dout, qkv, att, B, T, C, NH);
      return [await be.read(out), await be.read(dinp), await be.read(dw), await be.read(dqkv)];
    };
    assert.deepEqual(await run(), await run());
  },
});

Deno.test({
  ...GPU_TEST,
  name: "an output that aliases an input reads the input's old contents",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    // In-place product a = a @ b: the kernel reads a scratch copy of a.
    const a0 = uniform(12 * 12, 51), b0 = uniform(12 * 12, 52);
    const a = be.tensor([12, 12], a0), b = be.tensor([12, 12], b0);
    be.gemm(a, a, b, 12, 12, 12);
    const want = new Float32Array(144);
    gemmRef(want, a0, b0, 12, 12, 12);
    // K = 12 products in [-1, 1): atol 1e-5, rtol 1e-4.
    assertClose(await be.read(a), want, 1e-5, 1e-4, "a @ b in place");
    // Overlapping copy2d within one tensor: shift 3 rows of 4 down by one row.
    const t = be.tensor([4, 4], Float32Array.from({ length: 16 }, (_, i) => i));
    be.copy2d(t, t, 3, 4, 4, 4, 4, 0);
    assert.deepEqual(Array.from(await be.read(t)), [
      0,
      1,
      2,
      3,
      ...Array.from({ length: 12 }, (_, i) => i),
    ]);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "destroy() frees the backend's tensors and refuses later calls",
  ignore: gpuIgnore,
  async fn() {
    const be = await createWebGpuBackend();
    const t = be.tensor([8], uniform(8, 61));
    be.fill(t, 1);
    be.destroy();
    assert.throws(() => be.fill(t, 0), /destroyed/);
    // The shared device and other backends are unaffected.
    const other = await gpu();
    const u = other.tensor([2], [1, 2]);
    assert.deepEqual(Array.from(await other.read(u)), [1, 2]);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "a dispatch that fills the batch keeps the upload and scratch buffers made for it",
  ignore: gpuIgnore,
  async fn() {
    // A fresh backend (an idle GPU): the first batch is FIRST_BATCH dispatches.
    const be = await createWebGpuBackend();
    try {
      const submitsDuring = (f: () => void) => {
        const s0 = be.runtime.submissions;
        f();
        return be.runtime.submissions - s0;
      };
      const tiny = be.tensor([1]);
      const table = be.tensor([3, 2], [1, 2, 3, 4, 5, 6]), out = be.tensor([2, 2]);
      for (let i = 0; i < FIRST_BATCH; i++) be.fill(tiny, i);
      // its index is uploaded just before the dispatch that submits the full batch
      assert.equal(submitsDuring(() => be.gatherRows(out, table, Int32Array.of(2, 0), 2)), 1);
      assert.deepEqual([...await be.read(out)], [5, 6, 1, 2]);
      // long rows: chunk sums go to a scratch buffer, read by the next dispatch, which submits
      // the batch that the first one filled (the read left the GPU idle: FIRST_BATCH again)
      const C = 3 * 4096, a = be.tensor([1, C]), b = be.tensor([1, C]), s = be.tensor([1]);
      be.fill(a, 1);
      for (let i = 0; i < FIRST_BATCH - 2; i++) be.fill(tiny, i);
      assert.equal(submitsDuring(() => be.rowSumSqDiff(s, a, b, null, 1, C)), 1);
      assert.deepEqual([...await be.read(s)], [C]);
    } finally {
      be.destroy();
    }
  },
});

Deno.test({
  ...GPU_TEST,
  name: "startProfile()/stopProfile() time every dispatch by kernel name",
  ignore: gpuIgnore,
  async fn() {
    const be = await createWebGpuBackend();
    try {
      await assert.rejects(() => be.runtime.stopProfile(), /not started/);
      if (!be.runtime.startProfile()) return; // no timestamp queries on this adapter
      const x = be.tensor([1024]), y = be.tensor([1024]);
      for (let i = 0; i < 600; i++) be.fill(x, i); // more than one submission
      for (let i = 0; i < 3; i++) be.axpby(y, x, 2, x, 1, 1024);
      const report = await be.runtime.stopProfile();
      const byName = new Map(report.map((t) => [t.name, t]));
      assert.equal(byName.get("fill")?.dispatches, 600);
      assert.equal(report.reduce((n, t) => n + t.dispatches, 0), 603);
      for (const t of report) assert.ok(t.ms >= 0 && Number.isFinite(t.ms), `${t.name} ${t.ms}`);
      assert.deepEqual(report, [...report].sort((a, b) => b.ms - a.ms)); // largest first
      // after stopping, dispatches are not timed (and nothing breaks)
      be.fill(x, 1);
      assert.deepEqual([...await be.read(x)].slice(0, 2), [1, 1]);
    } finally {
      be.destroy();
    }
  },
});

Deno.test({
  ...GPU_TEST,
  name: "readMany() returns every tensor after the queued work, odd and empty sizes included",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const sizes = [3, 0, 1, 5, 8];
    const ts = sizes.map((n, i) => be.tensor([n], uniform(n, 90 + i)));
    // queued work before the read-back: each tensor doubled in place
    for (const [i, t] of ts.entries()) be.axpby(t, t, 2, t, 0, sizes[i]);
    const got = await be.readMany(ts);
    assert.equal(got.length, sizes.length);
    for (const [i, n] of sizes.entries()) {
      assert.deepEqual(got[i], uniform(n, 90 + i).map((v) => 2 * v), `tensor ${i} (${n})`);
    }
    assert.deepEqual(await be.readMany([]), []);
    for (const t of ts) be.free(t);
    // More than one staging buffer's worth: split in order, the fences started together.
    const n = Math.floor(STAGING_BYTES / 12) + 5,
      big = [0, 1, 2, 3].map((i) => uniform(n, 200 + i));
    const bts = big.map((x) => be.tensor([n], x));
    const f0 = be.runtime.fences;
    const bigGot = await be.readMany(bts);
    assert.equal(be.runtime.fences, f0 + 2);
    bigGot.forEach((x, i) => assert.ok(x.every((v, j) => v === big[i][j]), `big tensor ${i}`));
    for (const t of bts) be.free(t);
  },
});
