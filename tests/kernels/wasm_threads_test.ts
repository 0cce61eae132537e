import assert from "node:assert/strict";
import type { GemmOptions } from "../../kernels/backend.ts";
import type { GemmFn } from "../../kernels/gemm/cpu.ts";
import { linearForward } from "../../kernels/linear/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { attentionBackward, attentionForward } from "../../kernels/attention/cpu.ts";
import { geluBackwardF32, geluForwardF32 } from "../../kernels/wasm/elementwise_f32.ts";
import { gemmF32, releaseGemmF32 } from "../../kernels/wasm/gemm_f32.ts";
import { randnF32 } from "../../kernels/wasm/philox_f32.ts";
import {
  closeKernelPool,
  cpusOfQuota,
  cpuThreads,
  DEFAULT_MAX_THREADS,
  defaultThreads,
  kernelPool,
  poolScratch,
  setCpuThreads,
  THREADS_ENV,
} from "../../kernels/wasm/pool.ts";
import { JOB_AT, JobLayout, SLOT, SLOT_WORDS } from "../../kernels/wasm/_control_block.ts";

function uniform(n: number, rng: Rng): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform() * 2 - 1;
  return x;
}

/** `A (M, K) @ B (K, N)` by `gemmF32` into a new array, on the threads set now. */
function product(a: Float32Array, b: Float32Array, M: number, N: number, K: number): Float32Array {
  const c = new Float32Array(M * N);
  gemmF32(c, a, b, M, N, K);
  return c;
}

/**
 * A test of the worker pool: without the op and resource sanitizers (the workers outlive single
 * ops), closing any pool and restoring the thread count after it.
 */
function poolTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      try {
        await fn();
      } finally {
        closeKernelPool();
        setCpuThreads(null);
      }
    },
  });
}

/** Starts a pool of `threads` and waits until all its workers are ready. */
async function readyPool(threads: number): Promise<void> {
  setCpuThreads(threads);
  const pool = kernelPool();
  assert.ok(pool !== null);
  const t0 = Date.now();
  while (pool.readySlots().length < threads - 1) {
    assert.ok(Date.now() - t0 < 30_000, "GEMM workers did not start within 30 s");
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Case {
  M: number;
  N: number;
  K: number;
  opts: GemmOptions;
  /** Elements of A, B and C (strides and offsets included). */
  sizes: [number, number, number];
}

const CASES: Case[] = [
  // a linear layer (x W^T + bias), rows not a multiple of 4
  { M: 487, N: 64, K: 64, opts: { transB: true, beta: 1 }, sizes: [487 * 64, 64 * 64, 487 * 64] },
  // a weight gradient (dY^T X, accumulated; split by B panels), K over one K block
  {
    M: 40,
    N: 72,
    K: 600,
    opts: { transA: true, beta: 1 },
    sizes: [600 * 40, 600 * 72, 40 * 72],
  },
  // more columns than rows (split by B panels), N not a multiple of 8, B transposed
  {
    M: 36,
    N: 517,
    K: 70,
    opts: { transB: true, alpha: 2, beta: 1 },
    sizes: [36 * 70, 517 * 70, 36 * 517],
  },
  // alpha, beta, N not a multiple of 8, both transposed
  {
    M: 301,
    N: 37,
    K: 130,
    opts: { transA: true, transB: true, alpha: 0.5, beta: -1.5 },
    sizes: [130 * 301, 37 * 130, 301 * 37],
  },
  // a batch with a shared B, offsets and a C row stride wider than N
  {
    M: 130,
    N: 96,
    K: 96,
    opts: { batch: 3, strideA: 130 * 96, strideB: 0, strideC: 130 * 100, ldc: 100, offsetA: 5 },
    sizes: [5 + 3 * 130 * 96, 96 * 96, 3 * 130 * 100],
  },
];

poolTest("gemmF32() on 2 and 3 threads gives the bits of one thread", async () => {
  const rng = new Rng(41, 3);
  for (const k of CASES) {
    const a = uniform(k.sizes[0], rng), b = uniform(k.sizes[1], rng);
    const c = uniform(k.sizes[2], rng);
    setCpuThreads(1);
    const one = c.slice();
    gemmF32(one, a, b, k.M, k.N, k.K, k.opts);
    for (const threads of [2, 3]) {
      await readyPool(threads);
      const pool = kernelPool()!, before = pool.sharedRuns;
      const many = c.slice();
      gemmF32(many, a, b, k.M, k.N, k.K, k.opts);
      assert.ok(pool.sharedRuns > before, "the product was not split between threads");
      assert.deepEqual(many, one, `${k.M}x${k.N}x${k.K} on ${threads} threads`);
    }
  }
  // a product big enough to grow the shared memory after the workers started
  const [M, N, K] = [700, 520, 300];
  const a = uniform(M * K, rng), b = uniform(K * N, rng);
  setCpuThreads(1);
  const one = product(a, b, M, N, K);
  await readyPool(2);
  assert.deepEqual(product(a, b, M, N, K), one);
  // releasing the kernel instance closes the pool; the next product starts a new one
  releaseGemmF32();
  assert.deepEqual(product(a, b, M, N, K), one);
});

poolTest(
  "gemmF32's rowBias gives the bits of a bias-filled C and beta = 1, on 1, 2 and 3 threads",
  async () => {
    const rng = new Rng(43, 1);
    // the same GEMM without rowBias: linearForward fills C with the bias, then beta = 1
    const plain: GemmFn = (c, a, b, M, N, K, o) => gemmF32(c, a, b, M, N, K, o);
    const cases = [
      { M: 487, C: 64, OC: 64, fused: true }, // threaded (over 2^20 multiply-adds)
      { M: 9, C: 20, OC: 16, fused: true }, // one thread, K padded
      { M: 40, C: 300, OC: 72, fused: false }, // two K blocks
      { M: 301, C: 64, OC: 37, fused: false }, // not a multiple of 8 wide
    ];
    for (const k of cases) {
      const x = uniform(k.M * k.C, rng), w = uniform(k.OC * k.C, rng), bias = uniform(k.OC, rng);
      bias.set([-0, NaN, Infinity, -Infinity, 3e38]); // special values keep their bits
      const want = new Float32Array(k.M * k.OC), opts = { transB: true };
      for (const threads of [1, 2, 3]) {
        if (threads === 1) setCpuThreads(1);
        else await readyPool(threads);
        const ref = new Float32Array(k.M * k.OC), got = new Float32Array(k.M * k.OC).fill(7);
        linearForward(ref, x, w, bias, k.M, k.C, k.OC, plain);
        const fused = gemmF32.rowBias!(got, x, w, bias, k.M, k.OC, k.C, opts);
        assert.equal(fused, k.fused, `${k.M}x${k.C}->${k.OC}: fused`);
        if (!fused) linearForward(got, x, w, bias, k.M, k.C, k.OC, gemmF32);
        assert.deepEqual(got, ref, `${k.M}x${k.C}->${k.OC} on ${threads} threads`);
        if (threads === 1) want.set(ref);
        else assert.deepEqual(got, want, `${k.M}x${k.C}->${k.OC}: ${threads} threads vs one`);
      }
    }
  },
);

poolTest("the whole-call attention on 2 and 3 threads gives the bits of one thread", async () => {
  const rng = new Rng(43, 1);
  const [B, T, C, NH] = [5, 61, 64, 4];
  const qkv = uniform(B * T * 3 * C, rng), dout = uniform(B * T * C, rng);
  // entry 1 has padded keys, entry 3 only padded keys
  const mask = new Float32Array(B * T).fill(1);
  mask.fill(0, T + 40, 2 * T);
  mask.fill(0, 3 * T, 4 * T);
  const run = () => {
    const out = new Float32Array(B * T * C), att = new Float32Array(B * NH * T * T);
    attentionForward(out, att, qkv, mask, B, T, C, NH, gemmF32);
    const dqkv = new Float32Array(B * T * 3 * C), datt = new Float32Array(B * NH * T * T);
    attentionBackward(dqkv, datt, dout, qkv, att, B, T, C, NH, gemmF32);
    return { out, att, dqkv };
  };
  setCpuThreads(1);
  const one = run();
  for (const threads of [2, 3]) {
    await readyPool(threads);
    const pool = kernelPool()!, before = pool.sharedRuns;
    const many = run();
    assert.equal(pool.sharedRuns - before, 2, "forward and backward not split");
    assert.deepEqual(many.out, one.out, `out on ${threads} threads`);
    assert.deepEqual(many.att, one.att, `att on ${threads} threads`);
    assert.deepEqual(many.dqkv, one.dqkv, `dqkv on ${threads} threads`);
  }
});

poolTest(
  "GELU, its gradient and normals on 2 and 3 threads give the bits of one thread",
  async () => {
    const rng = new Rng(47, 2);
    // sizes that do not split evenly; inputs past the GELU table's [-10, 10) included
    const n = 100_003;
    const x = uniform(n, rng).map((v) => v * 12), dy = uniform(n, rng);
    const run = () => {
      const y = new Float32Array(n), dx = new Float32Array(n), z = new Float32Array(n + 1);
      geluForwardF32(y, x, n);
      geluBackwardF32(dx, x, dy, n);
      randnF32(z, n + 1, 9, 4, 2 ** 33 + 3); // an offset past 32 bits, not block-aligned
      return { y, dx, z };
    };
    setCpuThreads(1);
    const one = run();
    for (const threads of [2, 3]) {
      // the scratch memory grows while the new workers are still receiving it: their first job
      // must still see all of it
      closeKernelPool();
      setCpuThreads(threads);
      kernelPool();
      poolScratch(4 * n * threads);
      await readyPool(threads);
      const pool = kernelPool()!, before = pool.sharedRuns;
      const many = run();
      assert.equal(pool.sharedRuns - before, 3, "not every call was split");
      assert.deepEqual(many.y, one.y, `GELU on ${threads} threads`);
      assert.deepEqual(many.dx, one.dx, `GELU gradient on ${threads} threads`);
      assert.deepEqual(many.z, one.z, `normals on ${threads} threads`);
    }
  },
);

Deno.test("JobLayout writes a job's fields into slot 0 and reads them back, and refuses one too big", () => {
  const sab = new SharedArrayBuffer(SLOT_WORDS * 4);
  const words = new Int32Array(sab), words64 = new Float64Array(sab);
  const layout = new JobLayout(["a", "b", "c"], ["t"], ["x", "y"]);
  const job = { a: 7, b: -3, c: 2 ** 31 - 1, t: true, x: 2 ** 40 + 0.5, y: -0 };
  layout.write(words, words64, job);
  assert.deepEqual(layout.read(words, words64), job);
  assert.equal(words[JOB_AT], 7, "the first int32 field at JOB_AT");
  words.fill(0);
  assert.equal(layout.read(words, words64).t, false);
  const many = Array.from({ length: 30 }, (_, i) => `f${i}`);
  assert.throws(() => new JobLayout(many), /does not fit slot 0/);
});

Deno.test("setCpuThreads() and MOTION_GRPO_CPU_THREADS set the thread count, bad ones rejected", () => {
  assert.throws(() => setCpuThreads(0), /from 1 to 64, got 0/);
  assert.throws(() => setCpuThreads(2.5), /from 1 to 64, got 2.5/);
  const saved = Deno.env.get(THREADS_ENV);
  try {
    Deno.env.set(THREADS_ENV, "many");
    setCpuThreads(null);
    assert.throws(() => cpuThreads(), new RegExp(`${THREADS_ENV}: .*got NaN`));
    Deno.env.set(THREADS_ENV, "3");
    setCpuThreads(null);
    assert.equal(cpuThreads(), 3);
    // unset: the logical CPUs (or a cgroup quota's), at most DEFAULT_MAX_THREADS
    Deno.env.delete(THREADS_ENV);
    setCpuThreads(null);
    assert.equal(cpuThreads(), defaultThreads());
    const cpus = navigator.hardwareConcurrency;
    assert.ok(defaultThreads() >= 1 && defaultThreads() <= Math.min(cpus, DEFAULT_MAX_THREADS));
  } finally {
    if (saved === undefined) Deno.env.delete(THREADS_ENV);
    else Deno.env.set(THREADS_ENV, saved);
    setCpuThreads(null);
  }
});

Deno.test("cpusOfQuota() reads a cgroup CPU quota", () => {
  assert.equal(cpusOfQuota("max 100000\n"), null); // v2, no quota
  assert.equal(cpusOfQuota("200000 100000"), 2);
  assert.equal(cpusOfQuota("150000 100000"), 2); // 1.5 CPUs: 2 threads
  assert.equal(cpusOfQuota("50000 100000"), 1);
  assert.equal(cpusOfQuota("-1\n 100000\n"), null); // v1, no quota
  assert.equal(cpusOfQuota("400000\n 100000\n"), 4);
  assert.equal(cpusOfQuota("garbage"), null);
});

Deno.test("without permission to start workers the kernels say so once and run on one thread", async () => {
  const gemmUrl = new URL("../../kernels/wasm/gemm_f32.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      [
        `import { gemmF32 } from "${gemmUrl}";`,
        "const n = 256, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);",
        "gemmF32(c, a, a, n, n, n);",
        "gemmF32(c, a, a, n, n, n);",
        "console.log(c[0], c[n * n - 1]);",
      ].join("\n"),
    );
    // no --allow-read: the worker module cannot be loaded
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-env", script],
      env: { [THREADS_ENV]: "2" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(r.stdout), stderr = new TextDecoder().decode(r.stderr);
    assert.ok(r.success, stderr);
    assert.equal(stdout.trim(), "256 256");
    assert.equal(stderr.match(/The CPU kernels run on one thread/g)?.length, 1, stderr);
  } finally {
    await Deno.remove(script);
  }
});

poolTest(
  "a failing or silent worker fails the call (a silent one after the timeout); a new pool runs",
  async () => {
    const rng = new Rng(5, 5);
    const [M, N, K] = [300, 64, 64];
    const a = uniform(M * K, rng), b = uniform(K * N, rng);
    setCpuThreads(1);
    const one = product(a, b, M, N, K);
    await readyPool(2);
    const pool = kernelPool()!;
    // a share that throws in the worker fails the call; the pool stays usable
    assert.throws(() => pool.run(99, 8, 1, () => {}), /worker thread failed/);
    // the caller's own share failing: its error, after the workers are done
    assert.throws(() =>
      pool.run(99, 8, 1, () => {
        throw new Error("own share failed");
      }), /own share failed/);
    assert.deepEqual(product(a, b, M, N, K), one);
    pool.close();
    const ready = SLOT_WORDS + SLOT.ready;
    while (Atomics.load(pool.control, ready) !== 0) await new Promise((r) => setTimeout(r, 5));
    // a worker that died without a word: its ready flag still up
    Atomics.store(pool.control, ready, 1);
    pool.timeoutMs = 300;
    assert.throws(
      () => product(a, b, M, N, K),
      /worker 1 gave no answer in 0.3 s .*its pool is closed/,
    );
    assert.notEqual(kernelPool(), pool);
    await readyPool(2);
    assert.deepEqual(product(a, b, M, N, K), one);
  },
);
