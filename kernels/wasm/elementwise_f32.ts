/**
 * WASM-SIMD element-wise kernels over host Float32Arrays (kernels/wasm/elementwise.wat), the fast
 * path of the CPU backend's `axpby` and GELU. The operands are copied into the module's memory,
 * computed four at a time and copied back; each element gets exactly the float operations of the
 * host loops in kernels/elementwise/cpu.ts and kernels/activation/cpu.ts, so the results are the
 * same bits (see the .wat for why).
 */
import { GELU_TABLES, geluBackward, geluForward } from "../activation/cpu.ts";
import { axpby } from "../elementwise/cpu.ts";
import { ELEMENTWISE_WASM_BASE64 } from "./elementwise_wasm.ts";

/** Exports of kernels/wasm/elementwise.wat; addresses in bytes. */
interface ElementwiseExports {
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
const PAGE = 65536;

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
/** Float32 view of the whole memory (replaced when the memory grows). */
let f32: Float32Array = new Float32Array(0);

/**
 * The module, its memory grown to hold `floats` operand floats (from OPERANDS_AT, `f32` viewing
 * the whole memory); compiled, with the GELU tables copied in, on first use.
 */
function instance(floats: number): ElementwiseExports {
  if (kernels === null) {
    const bytes = Uint8Array.from(atob(ELEMENTWISE_WASM_BASE64), (ch) => ch.charCodeAt(0));
    const module = new WebAssembly.Module(bytes);
    kernels = new WebAssembly.Instance(module).exports as unknown as ElementwiseExports;
    grow(kernels.memory, OPERANDS_AT);
    new Float64Array(kernels.memory.buffer).set(GELU_TABLES.cdf, CDF_AT / 8);
    new Float64Array(kernels.memory.buffer).set(GELU_TABLES.slope, SLOPE_AT / 8);
  }
  grow(kernels.memory, OPERANDS_AT + floats * 4);
  if (f32.buffer !== kernels.memory.buffer) f32 = new Float32Array(kernels.memory.buffer);
  return kernels;
}

/** Grows `memory` to at least `bytes`. */
function grow(memory: WebAssembly.Memory, bytes: number): void {
  if (bytes > memory.buffer.byteLength) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  }
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
  // operands: a (n) | b (n) | out (n), each 16-byte aligned
  const stride = Math.ceil(n / 4) * 4, at = OPERANDS_AT / 4;
  const w = instance(3 * stride), f = f32;
  f.set(a.subarray(0, n), at);
  f.set(b.subarray(0, n), at + stride);
  const aAt = OPERANDS_AT, bAt = aAt + stride * 4, outAt = bAt + stride * 4;
  if (alpha === 1 && beta === 1) w.add(aAt, bAt, outAt, n);
  else w.axpby(aAt, bAt, outAt, n, alpha, beta);
  out.set(f.subarray(at + 2 * stride, at + 2 * stride + n));
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
  // operands: inp (n) | out (n)
  const stride = Math.ceil(n / 4) * 4, at = OPERANDS_AT / 4;
  const w = instance(2 * stride), f = f32;
  f.set(inp.subarray(0, n), at);
  w.gelu(OPERANDS_AT, OPERANDS_AT + stride * 4, n, CDF_AT);
  out.set(f.subarray(at + stride, at + stride + n));
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
  // operands: inp (n) | dout (n) | dinp (n)
  const stride = Math.ceil(n / 4) * 4, at = OPERANDS_AT / 4;
  const w = instance(3 * stride), f = f32;
  f.set(inp.subarray(0, n), at);
  f.set(dout.subarray(0, n), at + stride);
  const inpAt = OPERANDS_AT, doutAt = inpAt + stride * 4, dinpAt = doutAt + stride * 4;
  w.geluGrad(inpAt, doutAt, dinpAt, n, SLOPE_AT);
  dinp.set(f.subarray(at + 2 * stride, at + 2 * stride + n));
}
