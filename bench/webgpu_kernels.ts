/**
 * Per-kernel timings of the WebGPU backend at the official MDM shapes (latent 512, 4 heads,
 * 197 tokens, CFG batch 8, ff 1024), to see where a forward/backward spends its GPU time.
 * Each op runs once untimed, then is queued `reps` times and timed by the GPU's timestamp queries
 * (`gpuMs`); 200 tiny element-wise ops show the floor of one dispatch, and the read-back round
 * trip is timed on the wall clock. Prints milliseconds per call and GFLOP/s for the products.
 *
 * Usage: `deno run -A bench/webgpu_kernels.ts [--batch 8] [--reps 100] [--tiles 64x128wu,...]
 * [--rounds 1]` (hardware adapter only; `--tiles`: time only these tiles of the table, `--rounds`:
 * print the table that many times, to see the spread).
 */
import type { GemmOptions, Tensor } from "../kernels/backend.ts";
import { createWebGpuBackend, type WebGpuBackend } from "../kernels/webgpu_backend.ts";
import { resolveGemm } from "../kernels/gemm/cpu.ts";
import { maskedSoftmaxKernel } from "../kernels/attention/wgsl.ts";
import { layernormForwardKernel } from "../kernels/layernorm/wgsl.ts";
import {
  columnAccumulateKernel,
  columnChunks,
  columnPartialKernel,
} from "../kernels/linear/wgsl.ts";
import {
  chooseSplit,
  chooseTile,
  GEMM_TILES,
  gemmKernel,
  splitOf,
  splitReduceKernel,
  tileName,
} from "../kernels/gemm/wgsl.ts";

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

const B = arg("--batch", 8), reps = arg("--reps", 100), rounds = arg("--rounds", 1);
const tileFilter = Deno.args.includes("--tiles")
  ? Deno.args[Deno.args.indexOf("--tiles") + 1].split(",")
  : null;
const T = 197, C = 512, NH = 4, FF = 1024, R = B * T;

/**
 * GPU milliseconds per repetition of `run` (which queues one or more dispatches): the sum of its
 * dispatches' timestamp-query durations over `reps` repetitions. Wall time would count Deno's
 * read-back latency (about 11 ms per sync on an H100, against 4 ms of work for 40 products at
 * B 8), which no fixed floor subtracts reliably.
 */
async function gpuMs(be: WebGpuBackend, run: () => void): Promise<number> {
  run();
  await be.sync();
  if (!be.runtime.startProfile()) {
    throw new Error(`Cannot time kernels: ${be.describe()} has no timestamp queries`);
  }
  for (let i = 0; i < reps; i++) run();
  const kernels = await be.runtime.stopProfile();
  return kernels.reduce((sum, k) => sum + k.ms, 0) / reps;
}

async function time(
  be: WebGpuBackend,
  label: string,
  flops: number,
  run: () => void,
): Promise<void> {
  const ms = await gpuMs(be, run);
  const gf = flops > 0 ? `${(flops / ms / 1e6).toFixed(0).padStart(6)} GF/s` : "";
  console.log(`  ${label.padEnd(44)} ${ms.toFixed(3).padStart(9)} ms ${gf}`);
}

const be = await createWebGpuBackend();
console.log(
  `webgpu kernels on ${be.describe()}: B ${B}, T ${T}, C ${C}, reps ${reps} ` +
    `(GPU time from timestamp queries)`,
);
const t = (...shape: number[]): Tensor => {
  const x = be.tensor(shape);
  be.randn(x, x.size, { seed: 1, stream: shape.length, offset: 0 });
  return x;
};
const x = t(R, C), w3 = t(3 * C, C), b3 = t(3 * C), qkv = t(R, 3 * C), y3 = t(R, 3 * C);
const w1 = t(FF, C), b1 = t(FF), h = t(R, FF), w2 = t(C, FF), b2 = t(C), y = t(R, C);
const dW1 = t(FF, C), db1 = t(FF), dx = t(R, C), hG = t(R, FF), dh = t(R, FF);
const att = t(B, NH, T, T), datt = t(B, NH, T, T), out = t(R, C), dqkv = t(R, 3 * C);
const mean = t(R), rstd = t(R), lw = t(C), lb = t(C), tiny = t(4);

const gemm =
  (c: Tensor, a: Tensor, b: Tensor, M: number, N: number, K: number, o: GemmOptions) => () =>
    be.gemm(c, a, b, M, N, K, o);
await time(
  be,
  "gemm NT in_proj (R x 3C x C)",
  2 * R * 3 * C * C,
  gemm(y3, x, w3, R, 3 * C, C, {
    transB: true,
  }),
);
await time(be, "gemm NN (R x 3C x C)", 2 * R * 3 * C * C, gemm(y3, x, w3, R, 3 * C, C, {}));
await time(
  be,
  "gemm TN weight grad (FF x C x R)",
  2 * R * FF * C,
  gemm(dW1, h, x, FF, C, R, {
    transA: true,
  }),
);
await time(
  be,
  "linearForward in_proj",
  2 * R * 3 * C * C,
  () => be.linearForward(qkv, x, w3, b3, R, C, 3 * C),
);
await time(
  be,
  "linearForward linear1",
  2 * R * FF * C,
  () => be.linearForward(h, x, w1, b1, R, C, FF),
);
await time(
  be,
  "linearForward linear1 + GELU (epilogue)",
  2 * R * FF * C,
  () => be.linearForward(h, x, w1, b1, R, C, FF, { gelu: hG }),
);
await time(
  be,
  "linearForward linear2",
  2 * R * FF * C,
  () => be.linearForward(y, h, w2, b2, R, FF, C),
);
await time(
  be,
  "linearBackward linear2 dx through GELU",
  2 * R * FF * C,
  () => be.linearBackward(dh, null, null, y, hG, w2, R, FF, C, { geluInput: h }),
);
await time(
  be,
  "linearBackward linear1 (dx, dW, db)",
  4 * R * FF * C,
  () => be.linearBackward(dx, dW1, db1, h, x, w1, R, C, FF),
);
await time(
  be,
  "attentionForward",
  4 * B * T * T * C,
  () => be.attentionForward(out, att, qkv, null, B, T, C, NH),
);
await time(
  be,
  "attentionBackward",
  8 * B * T * T * C,
  () => be.attentionBackward(dqkv, datt, out, qkv, att, B, T, C, NH),
);
await time(
  be,
  "layernormForward",
  0,
  () => be.layernormForward(y, mean, rstd, x, lw, lb, R, C, 1e-5),
);
await time(
  be,
  "layernormBackward",
  0,
  () => be.layernormBackward(dx, lw, lb, y, x, lw, mean, rstd, R, C),
);
// This version's row and bias-gradient kernels against the ones they replaced (not yet timed on
// a GPU when they were made the default):
const buf = (t: Tensor) => be.bufferOf(t);
await time(
  be,
  "layernormForward, three passes (before)",
  0,
  () =>
    be.dispatch(
      layernormForwardKernel(
        buf(y),
        buf(mean),
        buf(rstd),
        buf(x),
        buf(lw),
        buf(lb),
        R,
        C,
        1e-5,
        false,
      ),
    ),
);
await time(
  be,
  "masked softmax held (default)",
  0,
  () => be.dispatch(maskedSoftmaxKernel(buf(att), buf(tiny), false, B, NH, T, true)),
);
await time(
  be,
  "masked softmax, three passes (before)",
  0,
  () => be.dispatch(maskedSoftmaxKernel(buf(att), buf(tiny), false, B, NH, T, false)),
);
await time(
  be,
  "dW + db linear1, db in the product (default)",
  2 * R * FF * C,
  () => be.linearBackward(null, dW1, db1, h, x, w1, R, C, FF),
);
await time(
  be,
  "dW + db linear1, db by column sums (before)",
  2 * R * FF * C,
  () => {
    be.gemm(dW1, h, x, FF, C, R, { transA: true, beta: 1 });
    const chunks = columnChunks(R), part = be.runtime.temp(chunks * FF * 4);
    be.dispatch(columnPartialKernel(part, buf(h), R, FF));
    be.dispatch(columnAccumulateKernel(buf(db1), part, chunks, FF));
  },
);
await time(be, "geluForward (R x FF)", 0, () => be.geluForward(h, h, R * FF));
await time(be, "axpby (R x C)", 0, () => be.axpby(y, x, 1, dx, 1, R * C));
await time(be, "axpby in place (R x C)", 0, () => be.axpby(y, y, 1, dx, 1, R * C));
await time(be, "randn (R x C)", 0, () => be.randn(y, R * C, { seed: 2, stream: 3, offset: 0 }));
/** Every tile on the products of a forward/backward, to check `chooseTile`'s pick. */
async function tiles(be: WebGpuBackend): Promise<void> {
  console.log("  gemm tiles (GF/s; * = chooseTile's pick):");
  const hs = C / NH;
  const cases: [string, Tensor, Tensor, Tensor, number, number, number, GemmOptions][] = [
    ["in_proj NT (R x 3C x C)", y3, x, w3, R, 3 * C, C, { transB: true }],
    ["linear1 NT (R x FF x C)", h, x, w1, R, FF, C, { transB: true }],
    ["linear2 NT (R x C x FF)", y, h, w2, R, C, FF, { transB: true }],
    ["dX NN (R x C x FF)", dx, h, w2, R, C, FF, {}],
    ["dW TN (FF x C x R)", dW1, h, x, FF, C, R, { transA: true }],
    ["scores NT (T x T x hs, B*NH)", att, qkv, qkv, T, T, hs, {
      transB: true,
      batch: B * NH,
      lda: 3 * C,
      ldb: 3 * C,
      strideA: hs,
      strideB: hs,
    }],
    ["att V NN (T x hs x T, B*NH)", out, att, qkv, T, hs, T, {
      batch: B * NH,
      ldb: 3 * C,
      ldc: C,
      strideB: hs,
      strideC: hs,
    }],
    // the backward's att^T dout (and dpreatt^T Q): TN per head
    ["dV TN (T x hs x T, B*NH)", dqkv, att, out, T, hs, T, {
      transA: true,
      batch: B * NH,
      ldb: C,
      ldc: 3 * C,
      strideB: hs,
      strideC: hs,
    }],
  ];
  /** GF/s of `dispatchAll` (which queues one product) over `reps` repetitions. */
  const rate = async (flop: number, dispatchAll: () => void): Promise<string> =>
    (flop / await gpuMs(be, dispatchAll) / 1e6).toFixed(0);
  for (const [label, c, a, b, M, N, K, o] of cases) {
    const g = { M, N, K, ...resolveGemm(M, N, K, o) };
    const pick = chooseTile(g), split = chooseSplit(g, pick);
    const flop = 2 * M * N * K * g.batch;
    const [bc, ba, bb] = [c, a, b].map((t) => be.bufferOf(t));
    const row: string[] = [];
    for (const tile of GEMM_TILES) {
      if (tileFilter !== null && !tileFilter.includes(tileName(tile))) continue;
      const k = gemmKernel(bc, ba, bb, g, { tile });
      const mark = tile === pick && split.splits === 1 ? "*" : " ";
      row.push(`${tileName(tile)}${mark} ${await rate(flop, () => be.dispatch(k))}`);
    }
    // split-K with the picked tile: partial products, then the ordered reduction
    if (g.batch === 1 && K >= 512) {
      const part = be.tensor([8 * M * N]);
      for (const want of [2, 4, 6, 8]) {
        const s = splitOf(K, want);
        const k = gemmKernel(be.bufferOf(part), ba, bb, g, { tile: pick, split: s });
        const r = splitReduceKernel(bc, be.bufferOf(part), g, s.splits);
        const mark = s.splits === split.splits ? "*" : " ";
        row.push(
          `split ${s.splits}${mark} ${await rate(flop, () => (be.dispatch(k), be.dispatch(r)))}`,
        );
      }
      be.free(part);
    }
    console.log(`    ${label.padEnd(30)} ${row.join(" | ")}`);
  }
}
for (let r = 0; r < rounds; r++) await tiles(be);

const n = 200;
await time(be, `${n} tiny axpby (GPU time of all ${n})`, 0, () => {
  for (let i = 0; i < n; i++) be.axpby(tiny, tiny, 1, tiny, 1, 4);
});
const t0 = performance.now();
for (let i = 0; i < 20; i++) await be.read(tiny);
console.log(
  `  ${"read() round trip".padEnd(44)} ${
    ((performance.now() - t0) / 20).toFixed(3).padStart(9)
  } ms`,
);
be.destroy();
