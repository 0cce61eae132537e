/**
 * Standard normals into a host Float32Array with the Philox blocks drawn in WebAssembly
 * (kernels/wasm/philox.wat) and the Box-Muller transform on the host: the bits of `randnHost` of
 * kernels/rng/philox.ts (the same u32 blocks, the same float64 formula), faster.
 */
import { u32ToUniform, u32ToUniformOpen0 } from "../rng/philox.ts";
import { PHILOX_WASM_BASE64 } from "./philox_wasm.ts";
import { JobKind, kernelPool, poolScratch } from "./pool.ts";

/** Exports of kernels/wasm/philox.wat; addresses in bytes. */
interface PhiloxExports {
  memory: WebAssembly.Memory;
  /** Blocks of counters first.. (count of them) with key (k0, k1), 4 u32 each, at `dst`. */
  blocks(first: number, count: number, k0: number, k1: number, dst: number): void;
}

const PAGE = 65536;
/** Blocks per kernel call: bounds the memory to 64 KiB of u32s. */
const CHUNK = 4096;

let kernel: PhiloxExports | null = null;
/** u32 view of the module's memory. */
let words: Uint32Array = new Uint32Array(0);

/** The module, compiled on first use, with room for CHUNK blocks. */
function instance(): PhiloxExports {
  if (kernel === null) {
    const wasm = Uint8Array.from(atob(PHILOX_WASM_BASE64), (ch) => ch.charCodeAt(0));
    kernel = new WebAssembly.Instance(new WebAssembly.Module(wasm))
      .exports as unknown as PhiloxExports;
    const need = CHUNK * 16 - kernel.memory.buffer.byteLength;
    if (need > 0) kernel.memory.grow(Math.ceil(need / PAGE));
    words = new Uint32Array(kernel.memory.buffer);
  }
  return kernel;
}

/**
 * `out[i]` = standard normal number `offset + i` of stream `(seed, stream)` for `i < n`, exactly
 * as `randnHost(out, n, seed, stream, offset)`: element e lives in lane e % 4 of Philox block
 * floor(e / 4); lanes (0, 1) and (2, 3) are Box-Muller pairs computed in float64.
 *
 * @example
 * ```ts
 * import { randnF32 } from "./philox_f32.ts";
 * import { randnHost } from "../rng/philox.ts";
 * import assert from "node:assert/strict";
 * const a = new Float32Array(10), b = new Float32Array(10);
 * randnF32(a, 10, 7, 3, 5);
 * randnHost(b, 10, 7, 3, 5);
 * assert.deepEqual(a, b);
 * ```
 */
export function randnF32(
  out: Float32Array, // (n)
  n: number,
  seed: number,
  stream: number,
  offset: number,
): void {
  const pool = n >= THREADED_MIN ? kernelPool() : null;
  if (pool === null) {
    randnRange(out, n, seed, stream, offset);
    return;
  }
  // the shares are computed into the pool's scratch memory, then copied out
  const staged = poolScratch(n);
  pool.control64[RANDN_F64_AT] = seed;
  pool.control64[RANDN_F64_AT + 1] = stream;
  pool.control64[RANDN_F64_AT + 2] = offset;
  pool.run(JobKind.randn, n, 4, (from, to) => randnShare(staged, from, to, pool.control64));
  out.set(staged.subarray(0, n));
}

/** float64 index of a normals job's words (seed, stream, offset) in the pool's control block. */
const RANDN_F64_AT = 8;

/**
 * Normals [from, to) of the job in `control64` into `staged[from .. to)`: the numbers
 * `randnF32` would put there.
 */
export function randnShare(
  staged: Float32Array,
  from: number,
  to: number,
  control64: Float64Array,
): void {
  const seed = control64[RANDN_F64_AT], stream = control64[RANDN_F64_AT + 1];
  const offset = control64[RANDN_F64_AT + 2];
  randnRange(staged.subarray(from, to), to - from, seed, stream, offset + from);
}

/**
 * Normals from which a draw is split between threads (when several are set, kernels/wasm/pool.ts):
 * about 0.5 ms of work.
 */
const THREADED_MIN = 1 << 14;

/** `randnF32` on this thread. */
function randnRange(
  out: Float32Array, // (n)
  n: number,
  seed: number,
  stream: number,
  offset: number,
): void {
  if (n <= 0) return;
  const w = instance(), u = words;
  const first = Math.floor(offset / 4), last = Math.floor((offset + n - 1) / 4);
  for (let b0 = first; b0 <= last; b0 += CHUNK) {
    const count = Math.min(CHUNK, last - b0 + 1);
    w.blocks(b0 >>> 0, count, seed >>> 0, stream >>> 0, 0);
    for (let j = 0; j < count; j++) {
      const i = (b0 + j) * 4 - offset; // output index of lane 0 (may be < 0 or past n at the ends)
      const r0 = Math.sqrt(-2 * Math.log(u32ToUniformOpen0(u[4 * j])));
      const theta0 = 2 * Math.PI * u32ToUniform(u[4 * j + 1]);
      const r1 = Math.sqrt(-2 * Math.log(u32ToUniformOpen0(u[4 * j + 2])));
      const theta1 = 2 * Math.PI * u32ToUniform(u[4 * j + 3]);
      const z0 = r0 * Math.cos(theta0), z1 = r0 * Math.sin(theta0);
      const z2 = r1 * Math.cos(theta1), z3 = r1 * Math.sin(theta1);
      if (i >= 0 && i + 3 < n) {
        out[i] = z0;
        out[i + 1] = z1;
        out[i + 2] = z2;
        out[i + 3] = z3;
      } else {
        // a block cut by the start or the end of the range
        if (i >= 0 && i < n) out[i] = z0;
        if (i + 1 >= 0 && i + 1 < n) out[i + 1] = z1;
        if (i + 2 >= 0 && i + 2 < n) out[i + 2] = z2;
        if (i + 3 >= 0 && i + 3 < n) out[i + 3] = z3;
      }
    }
  }
}
