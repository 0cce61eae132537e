/**
 * WASM-SIMD element-wise kernels over host Float32Arrays (kernels/wasm/elementwise.wat), the fast
 * path of the CPU backend's `axpby` and GELU. The operands are copied into the module's memory,
 * computed four at a time and copied back; each element gets exactly the float operations of the
 * host loops in kernels/elementwise/cpu.ts and kernels/activation/cpu.ts, so the results are the
 * same bits (see the .wat for why).
 */
import { GELU_TABLES, geluBackward, geluForward } from "../activation/cpu.ts";
import { axpby } from "../elementwise/cpu.ts";
import { growTo, moduleInstantiator, newSharedMemory } from "./_shared_memory.ts";
import { ELEMENTWISE_WASM_BASE64 } from "./elementwise_wasm.ts";
import { JobKind, kernelPool } from "./pool.ts";
import { JobLayout } from "./_control_block.ts";

/** Exports of kernels/wasm/elementwise.wat; addresses in bytes. */
export interface ElementwiseExports {
  memory: WebAssembly.Memory;
  /** out[i] = a[i] + b[i] (float32) for i < n. */
  add(a: number, b: number, out: number, n: number): void;
  /** out[i] = alpha * a[i] + beta * b[i] (float64, rounded to float32) for i < n. */
  axpby(a: number, b: number, out: number, n: number, alpha: number, beta: number): void;
  /** out[i] = x Phi(x), x = inp[i], Phi from the table at `tab`. */
  gelu(inp: number, out: number, n: number, tab: number): void;
  /** out[i] = dout[i] * slope(inp[i]), the slope from the table at `tab`. */
  geluGrad(inp: number, dout: number, out: number, n: number, tab: number): void;
}

/** Below this many elements the host loop is as fast as the copies in and out. */
const MIN_WASM = 64;
/**
 * Elements from which a GELU is split between threads (when several are set,
 * kernels/wasm/pool.ts): about 0.1 ms of kernel time, well above the cost of waking a worker.
 */
const THREADED_MIN = 1 << 15;

/**
 * The GELU tables sit at the start of the memory, operands after them. The kernel has the table
 * layout built in (160 intervals of 1/8 over [-10, 10), 8 coefficients each).
 */
const CDF_AT = 0, SLOPE_AT = GELU_TABLES.cdf.length * 8;
const OPERANDS_AT = SLOPE_AT + GELU_TABLES.slope.length * 8;
const GELU_LAYOUT_OK = GELU_TABLES.lo === -10 && GELU_TABLES.hi === 10 &&
  GELU_TABLES.perUnit === 8 && GELU_TABLES.coefficients === 8 &&
  GELU_TABLES.cdf.length === 160 * 8 && GELU_TABLES.slope.length === 160 * 8;

let kernels: ElementwiseExports | null = null;
let f32: Float32Array = new Float32Array(0);

/** An instance of the module on `memory` (a shared memory of the module's limits). */
export const instantiateElementwise: (memory: WebAssembly.Memory) => ElementwiseExports =
  moduleInstantiator<ElementwiseExports>(ELEMENTWISE_WASM_BASE64);

/** The module with room for `floats` operand floats after the tables, created on first use. */
function instance(floats: number): ElementwiseExports {
  if (kernels === null) {
    kernels = instantiateElementwise(newSharedMemory());
    growTo(kernels.memory, OPERANDS_AT, "the element-wise kernels");
    new Float64Array(kernels.memory.buffer).set(GELU_TABLES.cdf, CDF_AT / 8);
    new Float64Array(kernels.memory.buffer).set(GELU_TABLES.slope, SLOPE_AT / 8);
  }
  growTo(kernels.memory, OPERANDS_AT + floats * 4, "the element-wise kernels");
  if (f32.buffer !== kernels.memory.buffer) f32 = new Float32Array(kernels.memory.buffer);
  return kernels;
}

/** The module's shared memory (with the GELU tables loaded). */
export function elementwiseMemory(): WebAssembly.Memory {
  return instance(0).memory;
}

/**
 * Copies `inputs` (n floats each) into the memory one after another, 16-byte aligned, with room
 * for one output of n floats after them; the module and the byte address of every slot (the
 * inputs', then the output's).
 */
function stage(n: number, ...inputs: Float32Array[]): { w: ElementwiseExports; at: number[] } {
  const stride = Math.ceil(n / 4) * 4; // floats per slot
  const w = instance((inputs.length + 1) * stride);
  const at = Array.from({ length: inputs.length + 1 }, (_, i) => OPERANDS_AT + i * stride * 4);
  inputs.forEach((x, i) => f32.set(x.subarray(0, n), at[i] / 4));
  return { w, at };
}

/** Copies n floats from byte address `at` of the memory into `out`. */
function unstage(out: Float32Array, at: number, n: number): void {
  out.set(f32.subarray(at / 4, at / 4 + n));
}

/**
 * `out[i] = alpha * a[i] + beta * b[i]` for `i < n`, the same bits as `axpby` of
 * kernels/elementwise/cpu.ts (which it runs for short arrays). `out` may alias `a` or `b`.
 *
 * @example
 * ```ts
 * import { axpbyF32 } from "./elementwise_f32.ts";
 * import assert from "node:assert/strict";
 * const out = new Float32Array(2);
 * axpbyF32(out, new Float32Array([1, 2]), 2, new Float32Array([3, 4]), 1, 2);
 * assert.deepEqual(out, new Float32Array([5, 8]));
 * ```
 */
export function axpbyF32(
  out: Float32Array, // (n)
  a: Float32Array, // (n)
  alpha: number,
  b: Float32Array, // (n)
  beta: number,
  n: number,
): void {
  if (n < MIN_WASM) {
    axpby(out, a, alpha, b, beta, n);
    return;
  }
  const { w, at: [aAt, bAt, outAt] } = stage(n, a, b);
  if (alpha === 1 && beta === 1) w.add(aAt, bAt, outAt, n);
  else w.axpby(aAt, bAt, outAt, n, alpha, beta);
  unstage(out, outAt, n);
}

/**
 * `out[i] = x Phi(x)`, `x = inp[i]`, for `i < n`: the bits of `geluForward` of
 * kernels/activation/cpu.ts (which it runs for short arrays). `out` may alias `inp`.
 */
export function geluForwardF32(
  out: Float32Array, // (n)
  inp: Float32Array, // (n)
  n: number,
): void {
  if (n < MIN_WASM || !GELU_LAYOUT_OK) {
    geluForward(out, inp, n);
    return;
  }
  const { w, at: [inpAt, outAt] } = stage(n, inp);
  runGelu(w, { inp: inpAt, dout: 0, out: outAt }, false, n);
  unstage(out, outAt, n);
}

/**
 * `dinp[i] = dout[i] * (Phi(x) + x phi(x))`, `x = inp[i]`, for `i < n`: the bits of
 * `geluBackward` of kernels/activation/cpu.ts (which it runs for short arrays). `dinp` may alias
 * `inp` or `dout`.
 */
export function geluBackwardF32(
  dinp: Float32Array, // (n)
  inp: Float32Array, // (n)
  dout: Float32Array, // (n)
  n: number,
): void {
  if (n < MIN_WASM || !GELU_LAYOUT_OK) {
    geluBackward(dinp, inp, dout, n);
    return;
  }
  const { w, at: [inpAt, doutAt, dinpAt] } = stage(n, inp, dout);
  runGelu(w, { inp: inpAt, dout: doutAt, out: dinpAt }, true, n);
  unstage(dinp, dinpAt, n);
}

/** Byte addresses of a staged GELU: its input, the incoming gradient (backward) and the output. */
export interface GeluJob {
  inp: number;
  dout: number;
  out: number;
}

/** How a `GeluJob` travels to the workers. */
export const GELU_JOB: JobLayout<keyof GeluJob> = new JobLayout(["inp", "dout", "out"]);

/** GELU forward (or its gradient, `backward`) of elements [from, to) of a staged job. */
export function geluPart(
  w: ElementwiseExports,
  job: GeluJob,
  backward: boolean,
  from: number,
  to: number,
): void {
  if (to <= from) return;
  const o = from * 4;
  if (backward) w.geluGrad(job.inp + o, job.dout + o, job.out + o, to - from, SLOPE_AT);
  else w.gelu(job.inp + o, job.out + o, to - from, CDF_AT);
}

/** Runs a staged GELU over n elements, split between the pool's threads when it is worth it. */
function runGelu(w: ElementwiseExports, job: GeluJob, backward: boolean, n: number): void {
  const pool = n >= THREADED_MIN ? kernelPool() : null;
  if (pool === null) {
    geluPart(w, job, backward, 0, n);
    return;
  }
  GELU_JOB.write(pool.control, pool.control64, job);
  // 8-element blocks: each element's bits do not depend on its block, the split is just tidy
  const kind = backward ? JobKind.geluBackward : JobKind.geluForward;
  pool.run(kind, n, 8, (from, to) => geluPart(w, job, backward, from, to));
}
