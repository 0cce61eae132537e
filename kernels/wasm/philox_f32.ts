/**
 * Standard normals into a host Float32Array, drawn in WebAssembly (kernels/wasm/philox.wat): the
 * Philox blocks and the Box-Muller transform there, with the bits of `randnHost` of
 * kernels/rng/philox.ts. The kernel's float64 log, cos and sin are polynomials within a few ulps of
 * Math's; it lists the rare blocks where that could change a float32 rounding, and those are redone
 * here with Math, so every number is the host's.
 */
import { u32ToUniform, u32ToUniformOpen0 } from "../rng/philox.ts";
import { PHILOX_WASM_BASE64 } from "./philox_wasm.ts";
import { JobKind, kernelPool, poolScratch } from "./pool.ts";
import { JobLayout } from "./_control_block.ts";

/** Exports of kernels/wasm/philox.wat; addresses in bytes. */
export interface PhiloxExports {
  memory: WebAssembly.Memory;
  /** Blocks of counters first.. (count of them) with key (k0, k1), 4 u32 each, at `dst`. */
  blocks(first: number, count: number, k0: number, k1: number, dst: number): void;
  /**
   * The normals of those blocks, 4 float32 each, at `dst`; the indices of the blocks whose float32
   * are not certain within the relative `bound` at `listed` (u32); returns their number.
   */
  normals(
    first: number,
    count: number,
    k0: number,
    k1: number,
    dst: number,
    listed: number,
    bound: number,
  ): number;
  /** For the tests: float64 radii sqrt(-2 log((m + 1) 2^-24)), m = first.. (count even). */
  radii(first: number, count: number, dst: number): void;
  /** For the tests: per pair of m = first..: cos, cos, sin, sin of (2 pi) (m 2^-24), float64. */
  angles(first: number, count: number, dst: number): void;
}

const PAGE = 65536;
/** Blocks per kernel call. */
const CHUNK = 4096;
/** Memory (bytes): normals (CHUNK blocks) | listed blocks (CHUNK u32) | one block's u32. */
const LISTED_AT = CHUNK * 16, SCRATCH_AT = LISTED_AT + CHUNK * 4;

let kernel: PhiloxExports | null = null;
/** Views of the module's memory: u32 words, the float32 normals, the listed block indices. */
let words: Uint32Array = new Uint32Array(0);
let normals: Float32Array = new Float32Array(0);
let listed: Uint32Array = new Uint32Array(0);

/** The module (compiled on first use) with the memory above; exposed for the tests. */
export function philoxInstance(): PhiloxExports {
  if (kernel === null) {
    const wasm = Uint8Array.from(atob(PHILOX_WASM_BASE64), (ch) => ch.charCodeAt(0));
    kernel = new WebAssembly.Instance(new WebAssembly.Module(wasm))
      .exports as unknown as PhiloxExports;
    const need = SCRATCH_AT + 16 - kernel.memory.buffer.byteLength;
    if (need > 0) kernel.memory.grow(Math.ceil(need / PAGE));
    const buf = kernel.memory.buffer;
    words = new Uint32Array(buf);
    normals = new Float32Array(buf, 0, CHUNK * 4);
    listed = new Uint32Array(buf, LISTED_AT, CHUNK);
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
  const staged = poolScratch(n), job = { seed, stream, offset };
  RANDN_JOB.write(pool.control, pool.control64, job);
  pool.run(JobKind.randn, n, 4, (from, to) => randnShare(staged, from, to, job));
  out.set(staged.subarray(0, n));
}

/** A draw split between threads: its stream and first element (float64: offsets pass 2^32). */
export interface RandnJob {
  seed: number;
  stream: number;
  offset: number;
}

/** How a `RandnJob` travels to the workers. */
export const RANDN_JOB: JobLayout<never, never, keyof RandnJob> = new JobLayout([], [], [
  "seed",
  "stream",
  "offset",
]);

/** Normals [from, to) of `job` into `staged[from .. to)`: the numbers `randnF32` would put there. */
export function randnShare(staged: Float32Array, from: number, to: number, job: RandnJob): void {
  randnRange(staged.subarray(from, to), to - from, job.seed, job.stream, job.offset + from);
}

/**
 * Normals from which a draw is split between threads (when several are set, kernels/wasm/pool.ts):
 * about 0.2 ms of work.
 */
const THREADED_MIN = 1 << 14;

/**
 * Relative distance within which the kernel's float64 normal is certain to be the host's (Math's
 * log, cos and sin): the kernel's functions agree with Math to 2 ulps (radius) and 1 ulp (cos,
 * sin) on all their inputs (tests/kernels/wasm_philox_test.ts), so the products agree to about
 * 6 ulps (2^-49.4); 2^-44 leaves a factor of 40.
 */
export const NORMALS_BOUND = 2 ** -44;

/** Blocks redone on the host (their float32 not certain), for the tests. */
export let hostRedoneBlocks = 0;

/** `randnF32` on this thread. */
function randnRange(
  out: Float32Array, // (n)
  n: number,
  seed: number,
  stream: number,
  offset: number,
): void {
  if (n <= 0) return;
  const w = philoxInstance();
  const first = Math.floor(offset / 4), last = Math.floor((offset + n - 1) / 4);
  for (let b0 = first; b0 <= last; b0 += CHUNK) {
    const count = Math.min(CHUNK, last - b0 + 1);
    const redo = w.normals(b0 >>> 0, count, seed >>> 0, stream >>> 0, 0, LISTED_AT, NORMALS_BOUND);
    for (let j = 0; j < redo; j++) {
      redoBlock(w, listed[j], b0 + listed[j], seed, stream);
    }
    hostRedoneBlocks += redo;
    // normals [4 b0, 4 (b0 + count)) are at floats 0.., of which [offset, offset + n) are wanted
    const from = Math.max(offset - 4 * b0, 0), to = Math.min(offset + n - 4 * b0, 4 * count);
    out.set(normals.subarray(from, to), 4 * b0 + from - offset);
  }
}

/** Block `b` at index `j` of the chunk, with the host's float64 steps (Math's log, cos, sin). */
function redoBlock(w: PhiloxExports, j: number, b: number, seed: number, stream: number): void {
  w.blocks(b >>> 0, 1, seed >>> 0, stream >>> 0, SCRATCH_AT);
  const u = words, s = SCRATCH_AT / 4;
  for (let pair = 0; pair < 4; pair += 2) {
    const r = Math.sqrt(-2 * Math.log(u32ToUniformOpen0(u[s + pair])));
    const theta = 2 * Math.PI * u32ToUniform(u[s + pair + 1]);
    normals[4 * j + pair] = r * Math.cos(theta);
    normals[4 * j + pair + 1] = r * Math.sin(theta);
  }
}
