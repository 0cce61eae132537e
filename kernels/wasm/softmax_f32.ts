/**
 * The attention softmax over host Float32Arrays in WASM SIMD (kernels/wasm/softmax.wat): rows of
 * scores are copied into the module's memory, normalised there and copied back. Every element
 * gets the float64 steps of `softmaxRow` in kernels/attention/cpu.ts, whose table exp this takes
 * as `ExpTables`, so the results are the same bits.
 */
import { SOFTMAX_WASM_BASE64 } from "./softmax_wasm.ts";

/** The table exp of the softmax: exp(d) = pow2[-(k >> 6)] * frac[k & 63] * poly(r). */
export interface ExpTables {
  /** 64 / ln2: k = round(d * inv). */
  inv: number;
  /** ln2/64 = hi + lo: r = d - k hi - k lo. */
  hi: number;
  lo: number;
  /** 2^(j/64), j < 64. */
  frac: Float64Array;
  /** 2^-n, n <= 1075. */
  pow2: Float64Array;
}

/** Exports of kernels/wasm/softmax.wat; addresses in bytes. */
interface SoftmaxExports {
  memory: WebAssembly.Memory;
  softmaxRows(
    x: number,
    rows: number,
    T: number,
    mask: number,
    p: number,
    tab: number,
    inv: number,
    hi: number,
    lo: number,
  ): void;
}

const PAGE = 65536;
const FRAC_LEN = 64, POW2_LEN = 1076;
/** Bytes of the tables at address 0: frac, then pow2 (which the kernel reads at frac + 512). */
const TABLE_BYTES = (FRAC_LEN + POW2_LEN) * 8;

let kernel: SoftmaxExports | null = null;
/** The tables in the memory (copied again when others are passed). */
let loaded: ExpTables | null = null;

/** The module with at least `bytes` of memory, compiled on first use. */
function instance(bytes: number): SoftmaxExports {
  if (kernel === null) {
    const wasm = Uint8Array.from(atob(SOFTMAX_WASM_BASE64), (ch) => ch.charCodeAt(0));
    kernel = new WebAssembly.Instance(new WebAssembly.Module(wasm))
      .exports as unknown as SoftmaxExports;
    loaded = null;
  }
  const memory = kernel.memory;
  if (bytes > memory.buffer.byteLength) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  }
  return kernel;
}

/**
 * Softmax in place of the `rows` rows of `T` scores at `x[o ..]`, all with the key mask
 * `mask[m .. m+T)` (0 = padded: probability exactly 0; a row with every key masked becomes zeros;
 * null: no mask). The bits of `softmaxRow` of kernels/attention/cpu.ts with these `tables`.
 */
export function softmaxRowsF32(
  x: Float32Array, // (rows, T) from o
  o: number,
  rows: number,
  mask: Float32Array | null, // (T) from m
  m: number,
  T: number,
  tables: ExpTables,
): void {
  if (rows === 0 || T === 0) return;
  if (tables.frac.length !== FRAC_LEN || tables.pow2.length !== POW2_LEN) {
    throw new RangeError("Cannot run the softmax kernel: exp tables of the wrong size");
  }
  // memory (bytes): tables | mask (T + 4 floats, 0 past T) | p (T + 2 float64) | x (rows*T + 4)
  // The kernel reads one key past an odd row (lane 1 of the last pair): mask 0 there keeps it out.
  const maskAt = TABLE_BYTES, pAt = maskAt + (T + 4) * 4;
  const xAt = pAt + Math.ceil(((T + 2) * 8) / 16) * 16, n = rows * T;
  const w = instance(xAt + (n + 4) * 4);
  const buf = w.memory.buffer;
  if (loaded !== tables) {
    new Float64Array(buf, 0, FRAC_LEN).set(tables.frac);
    new Float64Array(buf, FRAC_LEN * 8, POW2_LEN).set(tables.pow2);
    loaded = tables;
  }
  const maskF = new Float32Array(buf, maskAt, T + 4); // (T + 4)
  if (mask === null) maskF.fill(1, 0, T);
  else maskF.set(mask.subarray(m, m + T));
  maskF.fill(0, T);
  const xF = new Float32Array(buf, xAt, n); // (rows, T)
  xF.set(x.subarray(o, o + n));
  w.softmaxRows(xAt, rows, T, maskAt, pAt, 0, tables.inv, tables.hi, tables.lo);
  x.set(xF, o);
}
