/**
 * `Backend.memory()` / `resetPeak()`: live and peak bytes follow allocations and frees exactly on
 * the CPU backend; on WebGPU every buffer the runtime creates (tensors, scratch, uniforms, staging)
 * counts, so the checks there are on differences around tensor allocations and on the return to
 * the baseline.
 */
import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { createWebGpuBackend } from "../../kernels/webgpu_backend.ts";
import { GPU_TEST, gpuIgnore } from "./_webgpu.ts";

Deno.test("cpu memory(): live and peak bytes follow tensor() and free()", () => {
  const be = createCpuBackend();
  assert.deepEqual(be.memory(), { liveBytes: 0, peakBytes: 0 });
  const a = be.tensor([10, 3]); // 120 bytes
  const b = be.tensor([5], [1, 2, 3, 4, 5]); // 20 bytes
  assert.deepEqual(be.memory(), { liveBytes: 140, peakBytes: 140 });
  be.free(a);
  assert.deepEqual(be.memory(), { liveBytes: 20, peakBytes: 140 });
  be.free(a); // a second free releases nothing more
  assert.deepEqual(be.memory(), { liveBytes: 20, peakBytes: 140 });
  be.resetPeak();
  assert.deepEqual(be.memory(), { liveBytes: 20, peakBytes: 20 });
  const c = be.tensor([2, 2]); // 16 bytes
  be.free(c);
  assert.deepEqual(be.memory(), { liveBytes: 20, peakBytes: 36 });
  be.free(b);
  assert.deepEqual(be.memory(), { liveBytes: 0, peakBytes: 36 });
});

Deno.test("cpu memory(): a tensor of another backend does not change the accounting", () => {
  const be = createCpuBackend(), other = createCpuBackend();
  const t = other.tensor([8]);
  be.tensor([4]);
  be.free(t);
  assert.deepEqual(be.memory(), { liveBytes: 16, peakBytes: 16 });
  assert.equal(other.memory().peakBytes, 32);
});

Deno.test({
  ...GPU_TEST,
  name: "webgpu memory(): tensor buffers and scratch count, and free returns to the baseline",
  ignore: gpuIgnore,
  async fn() {
    const be = await createWebGpuBackend();
    try {
      await be.sync();
      const base = be.memory().liveBytes;
      assert.ok(base > 0, "the uniform ring and placeholder are counted"); // created by the runtime
      const a = be.tensor([256, 4]); // 4096 bytes
      assert.equal(be.memory().liveBytes - base, 4096);
      const b = be.tensor([3]); // 12 bytes, in a buffer of at least one vec4 (16 bytes)
      assert.equal(be.memory().liveBytes - base, 4112);
      // A read creates a staging buffer, destroyed before read() returns.
      const host = await be.read(b);
      assert.equal(host.length, 3);
      assert.equal(be.memory().liveBytes - base, 4112);
      assert.ok(be.memory().peakBytes >= base + 4112 + 12);
      be.free(a);
      be.free(b);
      await be.sync(); // frees of queued buffers happen at the next submission
      assert.equal(be.memory().liveBytes, base);
      be.resetPeak();
      assert.equal(be.memory().peakBytes, base);
      // An aliased axpby reads its input through a pooled scratch copy: the pool stays counted.
      const c = be.tensor([1024]);
      be.axpby(c, c, 2, c, 1, 1024);
      await be.sync();
      assert.ok(be.memory().liveBytes >= base + 4096);
      be.free(c);
    } finally {
      be.destroy();
    }
    assert.equal(be.memory().liveBytes, 0);
  },
});
