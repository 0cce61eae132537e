/**
 * WASM-SIMD element-wise kernels over host Float32Arrays (kernels/wasm/elementwise.wat), the fast
 * path of the CPU backend's `axpby`. The operands are copied into the module's memory, computed
 * four at a time and copied back; each element gets exactly the float operations of the host loop
 * in kernels/elementwise/cpu.ts, so the results are the same bits (see the .wat for why).
 */
import { axpby } from "../elementwise/cpu.ts";
import { ELEMENTWISE_WASM_BASE64 } from "./elementwise_wasm.ts";

/** Exports of kernels/wasm/elementwise.wat; addresses in bytes. */
interface ElementwiseExports {
  memory: WebAssembly.Memory;
  /** out[i] = a[i] + b[i] (float32) for i < n. */
  add(a: number, b: number, out: number, n: number): void;
  /** out[i] = alpha * a[i] + beta * b[i] (float64, rounded to float32) for i < n. */
  axpby(a: number, b: number, out: number, n: number, alpha: number, beta: number): void;
}

/** Below this many elements the host loop is as fast as the copies in and out. */
const MIN_WASM = 64;
const PAGE = 65536;

let kernels: ElementwiseExports | null = null;
/** Float32 view of the whole memory (replaced when the memory grows). */
let f32: Float32Array = new Float32Array(0);

/** The module, its memory grown to at least `floats` (compiled on first use). */
function instance(floats: number): ElementwiseExports {
  if (kernels === null) {
    const bytes = Uint8Array.from(atob(ELEMENTWISE_WASM_BASE64), (ch) => ch.charCodeAt(0));
    const module = new WebAssembly.Module(bytes);
    kernels = new WebAssembly.Instance(module).exports as unknown as ElementwiseExports;
    f32 = new Float32Array(kernels.memory.buffer);
  }
  const memory = kernels.memory;
  if (floats * 4 > memory.buffer.byteLength) {
    memory.grow(Math.ceil((floats * 4 - memory.buffer.byteLength) / PAGE));
    f32 = new Float32Array(memory.buffer);
  }
  return kernels;
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
  // memory: a (n) | b (n) | out (n), each 16-byte aligned
  const stride = Math.ceil(n / 4) * 4;
  const w = instance(3 * stride), f = f32;
  f.set(a.subarray(0, n), 0);
  f.set(b.subarray(0, n), stride);
  if (alpha === 1 && beta === 1) w.add(0, stride * 4, 2 * stride * 4, n);
  else w.axpby(0, stride * 4, 2 * stride * 4, n, alpha, beta);
  out.set(f.subarray(2 * stride, 2 * stride + n));
}
