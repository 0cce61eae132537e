/**
 * The one process-wide instance of the attention module (kernels/wasm/attention.wat) on a shared
 * memory that only grows, and the job of one thread's batch entries of a whole attention call:
 * the calling thread (kernels/wasm/attention_f32.ts) and the worker threads
 * (kernels/wasm/pool_worker.ts) run `attentionPart` on their own entries and scratch, so every
 * entry is computed exactly as on one thread.
 */
import { growTo, moduleInstantiator, newSharedMemory } from "./_shared_memory.ts";
import { ATTENTION_WASM_BASE64 } from "./attention_wasm.ts";

/** Exports of kernels/wasm/attention.wat; addresses in bytes. */
export interface AttentionExports {
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

/** An instance of the attention module on `memory` (a shared memory of the module's limits). */
export const instantiateAttention: (memory: WebAssembly.Memory) => AttentionExports =
  moduleInstantiator<AttentionExports>(ATTENTION_WASM_BASE64);

let exportsOfThis: AttentionExports | null = null;

/** This thread's instance, created on first use. */
export function attentionExports(): AttentionExports {
  exportsOfThis ??= instantiateAttention(newSharedMemory());
  return exportsOfThis;
}

/** The shared memory of this thread's instance. */
export function attentionMemory(): WebAssembly.Memory {
  return attentionExports().memory;
}

/** Grows the memory to at least `bytes`. */
export function growAttentionMemory(bytes: number): void {
  growTo(attentionMemory(), bytes, "the attention kernel");
}

/**
 * A whole attention call staged in the memory (byte addresses of batch entry 0), split by batch
 * entry: part p uses the scratch at `kt0`/`p0` + p * `scratchBytes`.
 */
export interface AttentionJob {
  /** Both directions: qkv (B, T, 3C) and the probabilities att (B, NH, T, T). */
  qkv: number;
  att: number;
  /** Forward only (0 in the backward): out (B, T, C) and the (B, T + 4) key masks. */
  out: number;
  mask: number;
  /** Backward only (0 in the forward): dout (B, T, C), dqkv (B, T, 3C), datt (B, NH, T, T). */
  dout: number;
  dqkv: number;
  datt: number;
  kt0: number;
  p0: number;
  scratchBytes: number;
  T: number;
  C: number;
  NH: number;
  /** Scale of the scores, and the softmax's exp constants (forward). */
  alpha: number;
  inv: number;
  hi: number;
  lo: number;
}

/** int32 words of a job from `at`; its float64 words go to float64 index ATTENTION_F64_AT on. */
const INT_WORDS = 13;
/** float64 index of the job's float64 words in the control block (after its int32 words). */
const ATTENTION_F64_AT = 8;

/** Writes `job` at int32 word `at` (at + INT_WORDS <= 2 * ATTENTION_F64_AT) of the block. */
export function writeAttentionJob(
  words: Int32Array,
  words64: Float64Array,
  at: number,
  job: AttentionJob,
): void {
  if (at + INT_WORDS > 2 * ATTENTION_F64_AT) throw new RangeError("attention job overlaps");
  words[at] = job.qkv;
  words[at + 1] = job.att;
  words[at + 2] = job.out;
  words[at + 3] = job.mask;
  words[at + 4] = job.dout;
  words[at + 5] = job.dqkv;
  words[at + 6] = job.datt;
  words[at + 7] = job.kt0;
  words[at + 8] = job.p0;
  words[at + 9] = job.scratchBytes;
  words[at + 10] = job.T;
  words[at + 11] = job.C;
  words[at + 12] = job.NH;
  words64[ATTENTION_F64_AT] = job.alpha;
  words64[ATTENTION_F64_AT + 1] = job.inv;
  words64[ATTENTION_F64_AT + 2] = job.hi;
  words64[ATTENTION_F64_AT + 3] = job.lo;
}

/** The job written at `at` by `writeAttentionJob`. */
export function readAttentionJob(words: Int32Array, words64: Float64Array, at: number) {
  return {
    qkv: words[at],
    att: words[at + 1],
    out: words[at + 2],
    mask: words[at + 3],
    dout: words[at + 4],
    dqkv: words[at + 5],
    datt: words[at + 6],
    kt0: words[at + 7],
    p0: words[at + 8],
    scratchBytes: words[at + 9],
    T: words[at + 10],
    C: words[at + 11],
    NH: words[at + 12],
    alpha: words64[ATTENTION_F64_AT],
    inv: words64[ATTENTION_F64_AT + 1],
    hi: words64[ATTENTION_F64_AT + 2],
    lo: words64[ATTENTION_F64_AT + 3],
  } satisfies AttentionJob;
}

/** Forward (`backward` false) or backward of batch entries [b0, b1) of `job`, as part `part`. */
export function attentionPart(
  w: AttentionExports,
  job: AttentionJob,
  backward: boolean,
  b0: number,
  b1: number,
  part: number,
): void {
  if (b1 <= b0) return;
  const { T, C, NH } = job;
  const rowQkv = b0 * T * 3 * C * 4, rowOut = b0 * T * C * 4, rowAtt = b0 * NH * T * T * 4;
  const kt = job.kt0 + part * job.scratchBytes;
  if (backward) {
    w.attentionBackward(
      job.qkv + rowQkv,
      job.att + rowAtt,
      job.dout + rowOut,
      job.dqkv + rowQkv,
      job.datt + rowAtt,
      kt,
      b1 - b0,
      T,
      C,
      NH,
      job.alpha,
    );
  } else {
    w.attentionForward(
      job.qkv + rowQkv,
      job.att + rowAtt,
      job.out + rowOut,
      job.mask + b0 * (T + 4) * 4,
      kt,
      job.p0 + part * job.scratchBytes,
      0,
      b1 - b0,
      T,
      C,
      NH,
      job.alpha,
      job.inv,
      job.hi,
      job.lo,
    );
  }
}
