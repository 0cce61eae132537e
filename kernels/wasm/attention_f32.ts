/**
 * The attention kernels over host Float32Arrays in WASM SIMD (kernels/wasm/attention.wat): the
 * operands are copied into the module's memory, computed there and the results copied back.
 *
 * - `softmaxRowsF32`: rows of scores normalised in place. Every element gets the float64 steps of
 *   `softmaxRow` in kernels/attention/cpu.ts, whose table exp this takes as `ExpTables`, so the
 *   results are the same bits.
 * - `attentionForwardF32`/`attentionBackwardF32`: a whole attention call (every batch entry and
 *   head) in one kernel call, with the bits of `attentionForward`/`attentionBackward` through
 *   `gemmF32` (kernels/wasm/gemm_f32.ts): each product element is the float32 sum the GEMM kernel
 *   forms, the softmax is the one above. Only where `fusedAttentionFits` (the GEMM sums such
 *   products in one K block; the kernel reads value rows 8 floats at a time).
 */
import { ATTENTION_WASM_BASE64 } from "./attention_wasm.ts";

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

/** Exports of kernels/wasm/attention.wat; addresses in bytes. */
interface AttentionExports {
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
  attentionForward(
    qkv: number,
    att: number,
    out: number,
    mask: number,
    kt: number,
    p: number,
    tab: number,
    B: number,
    T: number,
    C: number,
    NH: number,
    alpha: number,
    inv: number,
    hi: number,
    lo: number,
  ): void;
  attentionBackward(
    qkv: number,
    att: number,
    dout: number,
    dqkv: number,
    datt: number,
    kt: number,
    B: number,
    T: number,
    C: number,
    NH: number,
    alpha: number,
  ): void;
}

const PAGE = 65536;
const FRAC_LEN = 64, POW2_LEN = 1076;
/** Bytes of the tables at address 0: frac, then pow2 (which the kernel reads at frac + 512). */
const TABLE_BYTES = (FRAC_LEN + POW2_LEN) * 8;
/** Longest product sum the GEMM forms in one K block (its KC). */
const MAX_ONE_BLOCK_K = 256;

let kernel: AttentionExports | null = null;
/** The tables in the memory (copied again when others are passed). */
let loaded: ExpTables | null = null;

/** The module with at least `bytes` of memory, compiled on first use. */
function instance(bytes: number): AttentionExports {
  if (kernel === null) {
    const wasm = Uint8Array.from(atob(ATTENTION_WASM_BASE64), (ch) => ch.charCodeAt(0));
    kernel = new WebAssembly.Instance(new WebAssembly.Module(wasm))
      .exports as unknown as AttentionExports;
    loaded = null;
  }
  const memory = kernel.memory;
  if (bytes > memory.buffer.byteLength) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  }
  return kernel;
}

/** Copies `tables` to address 0 unless they are there already. */
function loadTables(buf: ArrayBufferLike, tables: ExpTables): void {
  if (tables.frac.length !== FRAC_LEN || tables.pow2.length !== POW2_LEN) {
    throw new RangeError("Cannot run the softmax kernel: exp tables of the wrong size");
  }
  if (loaded !== tables) {
    new Float64Array(buf, 0, FRAC_LEN).set(tables.frac);
    new Float64Array(buf, FRAC_LEN * 8, POW2_LEN).set(tables.pow2);
    loaded = tables;
  }
}

/** `n` floats rounded up to whole 16-byte blocks, in bytes. */
const bytes16 = (n: number) => Math.ceil((n * 4) / 16) * 16;

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
  // memory (bytes): tables | mask (T + 4 floats, 0 past T) | p (T + 2 float64) | x (rows*T + 4)
  // The kernel reads one key past an odd row (lane 1 of the last pair): mask 0 there keeps it out.
  const maskAt = TABLE_BYTES, pAt = maskAt + (T + 4) * 4;
  const xAt = pAt + bytes16(2 * (T + 2)), n = rows * T;
  const w = instance(xAt + (n + 4) * 4);
  const buf = w.memory.buffer;
  loadTables(buf, tables);
  const maskF = new Float32Array(buf, maskAt, T + 4); // (T + 4)
  if (mask === null) maskF.fill(1, 0, T);
  else maskF.set(mask.subarray(m, m + T));
  maskF.fill(0, T);
  const xF = new Float32Array(buf, xAt, n); // (rows, T)
  xF.set(x.subarray(o, o + n));
  w.softmaxRows(xAt, rows, T, maskAt, pAt, 0, tables.inv, tables.hi, tables.lo);
  x.set(xF, o);
}

/**
 * Whether `attentionForwardF32`/`attentionBackwardF32` give the bits of the GEMM path for these
 * sizes: every product sum within one GEMM K block, and heads a multiple of 8 floats wide.
 */
export function fusedAttentionFits(T: number, C: number, NH: number): boolean {
  const HS = C / NH;
  return T >= 1 && T <= MAX_ONE_BLOCK_K && HS % 8 === 0 && HS <= MAX_ONE_BLOCK_K;
}

/**
 * The forward of kernels/attention/cpu.ts in one kernel call: `att = softmax(Q K^T / sqrt(HS))`
 * per head with the key mask (0 = padded, null = none), `out = att V`. Requires
 * `fusedAttentionFits(T, C, NH)`.
 */
export function attentionForwardF32(
  out: Float32Array, // (B, T, C)
  att: Float32Array, // (B, NH, T, T)
  qkv: Float32Array, // (B, T, 3C)
  keyMask: Float32Array | null, // (B, T)
  B: number,
  T: number,
  C: number,
  NH: number,
  tables: ExpTables,
): void {
  if (B === 0) return;
  const HS = C / NH, Tp = Math.ceil(T / 8) * 8;
  const nQkv = B * T * 3 * C, nAtt = B * NH * T * T, nOut = B * T * C;
  // memory (bytes): tables | masks (B, T + 4) | p (T + 2 float64) | K^T (HS, Tp) | qkv | att | out
  const maskAt = TABLE_BYTES, pAt = maskAt + bytes16(B * (T + 4));
  const ktAt = pAt + bytes16(2 * (T + 2)), qkvAt = ktAt + bytes16(HS * Tp);
  const attAt = qkvAt + bytes16(nQkv), outAt = attAt + bytes16(nAtt);
  const w = instance(outAt + nOut * 4);
  const buf = w.memory.buffer;
  loadTables(buf, tables);
  stageKeyMasks(new Float32Array(buf, maskAt, B * (T + 4)), keyMask, B, T);
  new Float32Array(buf, qkvAt, nQkv).set(qkv.subarray(0, nQkv));
  w.attentionForward(
    qkvAt,
    attAt,
    outAt,
    maskAt,
    ktAt,
    pAt,
    0,
    B,
    T,
    C,
    NH,
    1 / Math.sqrt(HS),
    tables.inv,
    tables.hi,
    tables.lo,
  );
  att.set(new Float32Array(buf, attAt, nAtt));
  out.set(new Float32Array(buf, outAt, nOut));
}

/**
 * The backward of kernels/attention/cpu.ts in one kernel call: overwrites `dqkv` from `dout`,
 * `qkv` and the forward's `att`. `datt`, scratch in the host version, is left untouched.
 * Requires `fusedAttentionFits(T, C, NH)`.
 */
export function attentionBackwardF32(
  dqkv: Float32Array, // (B, T, 3C)
  dout: Float32Array, // (B, T, C)
  qkv: Float32Array, // (B, T, 3C)
  att: Float32Array, // (B, NH, T, T)
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  if (B === 0) return;
  const HS = C / NH, Tp = Math.ceil(T / 8) * 8;
  const nQkv = B * T * 3 * C, nAtt = B * NH * T * T, nOut = B * T * C;
  // memory (bytes): tables (unused here) | V^T (HS, Tp) | qkv | att | dout | dqkv | datt
  const ktAt = TABLE_BYTES, qkvAt = ktAt + bytes16(HS * Tp), attAt = qkvAt + bytes16(nQkv);
  const doutAt = attAt + bytes16(nAtt), dqkvAt = doutAt + bytes16(nOut);
  const dattAt = dqkvAt + bytes16(nQkv);
  const w = instance(dattAt + nAtt * 4);
  const buf = w.memory.buffer;
  new Float32Array(buf, qkvAt, nQkv).set(qkv.subarray(0, nQkv));
  new Float32Array(buf, attAt, nAtt).set(att.subarray(0, nAtt));
  new Float32Array(buf, doutAt, nOut).set(dout.subarray(0, nOut));
  w.attentionBackward(qkvAt, attAt, doutAt, dqkvAt, dattAt, ktAt, B, T, C, NH, 1 / Math.sqrt(HS));
  dqkv.set(new Float32Array(buf, dqkvAt, nQkv));
}

/** The (B, T + 4) masks of the kernel: each row's T keys (ones without a mask), then zeros. */
function stageKeyMasks(
  staged: Float32Array, // (B, T + 4)
  keyMask: Float32Array | null, // (B, T)
  B: number,
  T: number,
): void {
  staged.fill(0);
  for (let b = 0; b < B; b++) {
    const row = b * (T + 4);
    if (keyMask === null) staged.fill(1, row, row + T);
    else staged.set(keyMask.subarray(b * T, b * T + T), row);
  }
}
