/**
 * GEMM benchmark: the WASM-SIMD `gemmF32` against the plain-TypeScript `gemmRef` loops and
 * against PyTorch CPU (`torch.mm` / `torch.bmm`, with our thread count: `torchThreads`) timed in the same run.
 * Prints GFLOP/s and `ratio = our_time / torch_time` (below 1: we are faster).
 *
 * Usage: `deno run -A bench/gemm.ts`
 */
import type { GemmOptions } from "../kernels/backend.ts";
import { type GemmFn, gemmRef } from "../kernels/gemm/cpu.ts";
import { Rng } from "../kernels/rng/philox.ts";
import { gemmF32 } from "../kernels/wasm/gemm_f32.ts";
import { torchThreads } from "./torch.ts";

/** One benchmarked product: `batch` times op(A) (M, K) @ op(B) (K, N). */
export interface GemmBenchCase {
  label: string;
  M: number;
  N: number;
  K: number;
  batch: number;
  transA: boolean;
  transB: boolean;
}

/** Best (minimum) milliseconds per product (`torchMs` null when PyTorch is unavailable). */
export interface GemmBenchRow extends GemmBenchCase {
  oursMs: number;
  plainMs: number;
  torchMs: number | null;
  /** `oursMs / torchMs`, null without PyTorch. */
  ratio: number | null;
}

/** A case without transposed A. */
function gemmCase(label: string, [M, N, K]: number[], batch: number, transB: boolean) {
  return { label, M, N, K, batch, transA: false, transB };
}

/** The shapes of the engine's products: MDM linear layers (B*T = 4*197 rows) and attention. */
export const GEMM_BENCH_CASES: readonly GemmBenchCase[] = [
  gemmCase("linear 788x512 @ 512x512", [788, 512, 512], 1, false),
  gemmCase("attn QK^T 197x128 @ (197x128)^T, b16", [197, 197, 128], 16, true),
  gemmCase("linear 20x512 @ (512x512)^T", [20, 512, 512], 1, true),
  gemmCase("linear 788x263 @ (512x263)^T", [788, 512, 263], 1, true),
  gemmCase("linear 4x512 @ 512x263", [4, 263, 512], 1, false),
];

/** The interpreter with PyTorch (Debian's), as in tests/_util.ts. */
const PYTHON = Deno.env.get("MOTION_GRPO_PYTHON") ?? "/usr/bin/python3";
const TORCH_SCRIPT = new URL("./_torch_gemm.py", import.meta.url).pathname;

const flops = (c: GemmBenchCase) => 2 * c.M * c.N * c.K * c.batch;
/** Repetitions for about `seconds` at `gflops`, clamped to [lo, hi]. */
const repsFor = (c: GemmBenchCase, seconds: number, gflops: number, lo: number, hi: number) =>
  Math.max(lo, Math.min(hi, Math.round((seconds * gflops * 1e9) / flops(c))));

/**
 * Minimum milliseconds over `reps` calls of `fn` on the case's operands, after 2 warm-up calls
 * (the minimum, not the median: on a shared 2-core machine other processes only add time).
 */
function timeGemm(fn: GemmFn, c: GemmBenchCase, reps: number): number {
  const rng = new Rng(7, 0);
  const randn = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const a = randn(c.batch * c.M * c.K), b = randn(c.batch * c.K * c.N);
  const out = new Float32Array(c.batch * c.M * c.N); // (batch, M, N)
  const opts: GemmOptions = { batch: c.batch, transA: c.transA, transB: c.transB };
  for (let i = 0; i < 2; i++) fn(out, a, b, c.M, c.N, c.K, opts);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn(out, a, b, c.M, c.N, c.K, opts);
    times.push(performance.now() - t0);
  }
  return Math.min(...times);
}

/** Minimum milliseconds per product from PyTorch with `threads` threads, or null without it. */
async function torchTimes(
  cases: readonly GemmBenchCase[],
  reps: number[],
  threads: number,
): Promise<(number | null)[]> {
  const spec = cases.map((c, i) => ({ ...c, reps: reps[i] }));
  try {
    const r = await new Deno.Command(PYTHON, {
      args: [TORCH_SCRIPT, String(threads), JSON.stringify(spec)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr).trim());
    const seconds: number[] = JSON.parse(new TextDecoder().decode(r.stdout));
    return seconds.map((s) => s * 1e3);
  } catch (e) {
    console.warn(`PyTorch timings skipped: ${PYTHON} ${TORCH_SCRIPT} failed: ${e}`);
    return cases.map(() => null);
  }
}

const gf = (c: GemmBenchCase, ms: number) => (flops(c) / ms / 1e6).toFixed(1).padStart(5);
const ms = (t: number) => `${t.toFixed(3).padStart(8)} ms`;

/** Runs the GEMM benchmark, prints one line per case and returns the rows. */
export async function benchGemm(
  cases: readonly GemmBenchCase[] = GEMM_BENCH_CASES,
): Promise<GemmBenchRow[]> {
  const reps = cases.map((c) => repsFor(c, 0.5, 30, 5, 400));
  const threads = torchThreads();
  const torchMs = await torchTimes(cases, reps, threads);
  console.log(
    `gemm (${threads} thread${threads > 1 ? "s" : ""} both sides; GFLOP/s; ratio = our_time / ` +
      "torch_time)",
  );
  const rows: GemmBenchRow[] = [];
  for (const [i, c] of cases.entries()) {
    const oursMs = timeGemm(gemmF32, c, reps[i]);
    const plainMs = timeGemm(gemmRef, c, repsFor(c, 0.5, 1, 1, 20));
    const t = torchMs[i];
    const ratio = t === null ? null : oursMs / t;
    rows.push({ ...c, oursMs, plainMs, torchMs: t, ratio });
    console.log(
      `  ${c.label.padEnd(38)} wasm ${ms(oursMs)} ${gf(c, oursMs)} GF/s | ` +
        `plain TS ${ms(plainMs)} ${gf(c, plainMs)} GF/s | ` +
        (t === null ? "torch n/a" : `torch ${ms(t)} ${gf(c, t)} GF/s | ratio ${ratio!.toFixed(2)}`),
    );
  }
  return rows;
}

if (import.meta.main) await benchGemm();
