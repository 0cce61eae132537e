/**
 * The attention kernels over host Float32Arrays in WASM SIMD (kernels/wasm/attention.wat): the
 * operands are copied into the module's memory, computed there and the results copied back.
 *
 * - `softmaxRowsF32`: rows of scores normalised in place. Every element gets the float32 steps of
 *   `softmaxRowF32` in kernels/attention/_softmax_f32.ts, so the results are the same bits.
 * - `attentionForwardF32`/`attentionBackwardF32`: a whole attention call (every batch entry and
 *   head) in one kernel call, with the bits of `attentionForward`/`attentionBackward` through
 *   `gemmF32` (kernels/wasm/gemm_f32.ts): each product element is the float32 sum the GEMM kernel
 *   forms, the softmax is the one above. Only where `fusedAttentionFits` (the GEMM sums such
 *   products in one K block; the kernel reads value rows 8 floats at a time).
 */
import {
  ATTENTION_JOB,
  type AttentionExports,
  attentionExports,
  type AttentionJob,
  attentionPart,
  growAttentionMemory,
} from "./_attention_instance.ts";
import { JobKind, type KernelPool, kernelPool } from "./pool.ts";

/** Longest product sum the GEMM forms in one K block (its KC). */
const MAX_ONE_BLOCK_K = 256;

/** The module with at least `bytes` of memory, compiled on first use. */
function instance(bytes: number): AttentionExports {
  growAttentionMemory(bytes);
  return attentionExports();
}

/** `n` floats rounded up to whole 16-byte blocks, in bytes. */
const bytes16 = (n: number) => Math.ceil((n * 4) / 16) * 16;

/**
 * Softmax in place of the `rows` rows of `T` scores at `x[o ..]`, all with the key mask
 * `mask[m .. m+T)` (0 = padded: probability exactly 0; a row with every key masked becomes zeros;
 * null: no mask). The bits of `softmaxRowF32` of kernels/attention/_softmax_f32.ts.
 */
export function softmaxRowsF32(
  x: Float32Array, // (rows, T) from o
  o: number,
  rows: number,
  mask: Float32Array | null, // (T) from m
  m: number,
  T: number,
): void {
  if (rows === 0 || T === 0) return;
  // memory (bytes): mask (T + 4 floats, 0 past T) | x (rows*T + 4)
  // The kernel reads up to 3 keys past a row (its last block of four): mask 0 keeps them out.
  const maskAt = 0, xAt = bytes16(T + 4), n = rows * T;
  const w = instance(xAt + (n + 4) * 4);
  const buf = w.memory.buffer;
  const maskF = new Float32Array(buf, maskAt, T + 4); // (T + 4)
  if (mask === null) maskF.fill(1, 0, T);
  else maskF.set(mask.subarray(m, m + T));
  maskF.fill(0, T);
  const xF = new Float32Array(buf, xAt, n); // (rows, T)
  xF.set(x.subarray(o, o + n));
  w.softmaxRows(xAt, rows, T, maskAt);
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
): void {
  if (B === 0) return;
  const HS = C / NH, Tp = Math.ceil(T / 8) * 8;
  const pool = splitPool(B, T, C), parts = pool === null ? 1 : Math.min(B, pool.threads);
  const nQkv = B * T * 3 * C, nAtt = B * NH * T * T, nOut = B * T * C;
  // memory (bytes): masks (B, T + 4) | per part: K^T (HS, Tp) | qkv | att | out
  const maskAt = 0, ktAt = maskAt + bytes16(B * (T + 4)), scratchBytes = bytes16(HS * Tp);
  const qkvAt = ktAt + parts * scratchBytes;
  const attAt = qkvAt + bytes16(nQkv), outAt = attAt + bytes16(nAtt);
  const w = instance(outAt + nOut * 4);
  const buf = w.memory.buffer;
  stageKeyMasks(new Float32Array(buf, maskAt, B * (T + 4)), keyMask, B, T);
  new Float32Array(buf, qkvAt, nQkv).set(qkv.subarray(0, nQkv));
  const job: AttentionJob = {
    qkv: qkvAt,
    att: attAt,
    out: outAt,
    mask: maskAt,
    dout: 0,
    dqkv: 0,
    datt: 0,
    kt0: ktAt,
    scratchBytes,
    T,
    C,
    NH,
    alpha: 1 / Math.sqrt(HS),
  };
  runAttention(w, job, false, B, pool);
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
  const pool = splitPool(B, T, C), parts = pool === null ? 1 : Math.min(B, pool.threads);
  const nQkv = B * T * 3 * C, nAtt = B * NH * T * T, nOut = B * T * C;
  // memory (bytes): per part: V^T (HS, Tp) | qkv | att | dout | dqkv | datt
  const ktAt = 0, scratchBytes = bytes16(HS * Tp);
  const qkvAt = ktAt + parts * scratchBytes, attAt = qkvAt + bytes16(nQkv);
  const doutAt = attAt + bytes16(nAtt), dqkvAt = doutAt + bytes16(nOut);
  const dattAt = dqkvAt + bytes16(nQkv);
  const w = instance(dattAt + nAtt * 4);
  const buf = w.memory.buffer;
  new Float32Array(buf, qkvAt, nQkv).set(qkv.subarray(0, nQkv));
  new Float32Array(buf, attAt, nAtt).set(att.subarray(0, nAtt));
  new Float32Array(buf, doutAt, nOut).set(dout.subarray(0, nOut));
  const job: AttentionJob = {
    qkv: qkvAt,
    att: attAt,
    out: 0,
    mask: 0,
    dout: doutAt,
    dqkv: dqkvAt,
    datt: dattAt,
    kt0: ktAt,
    scratchBytes,
    T,
    C,
    NH,
    alpha: 1 / Math.sqrt(HS),
  };
  runAttention(w, job, true, B, pool);
  dqkv.set(new Float32Array(buf, dqkvAt, nQkv));
}

/**
 * Multiply-adds of one of the call's products (B T^2 C, for Q K^T) from which a call is split
 * between threads (kernels/wasm/pool.ts): well above the cost of waking a worker.
 */
const THREADED_MIN_MACS = 1 << 19;

/** The pool to split a call of these sizes with, or null when it is not worth splitting. */
function splitPool(B: number, T: number, C: number): KernelPool | null {
  return B < 2 || B * T * T * C < THREADED_MIN_MACS ? null : kernelPool();
}

/**
 * Runs `job` over batch entries [0, B): split between the threads of `pool` (staged with a
 * scratch for each of up to min(B, pool.threads) parts), or all here without one.
 */
function runAttention(
  w: AttentionExports,
  job: AttentionJob,
  backward: boolean,
  B: number,
  pool: KernelPool | null,
): void {
  if (pool === null) {
    attentionPart(w, job, backward, 0, B, 0);
    return;
  }
  ATTENTION_JOB.write(pool.control, pool.control64, job);
  const kind = backward ? JobKind.attentionBackward : JobKind.attentionForward;
  pool.run(kind, B, 1, (b0, b1) => attentionPart(w, job, backward, b0, b1, 0));
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
