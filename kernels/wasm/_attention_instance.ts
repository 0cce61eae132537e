/**
 * The one process-wide instance of the attention module (kernels/wasm/attention.wat) on a shared
 * memory that only grows, and the job of one thread's batch entries of a whole attention call:
 * the calling thread (kernels/wasm/attention_f32.ts) and the worker threads
 * (kernels/wasm/pool_worker.ts) run `attentionPart` on their own entries and scratch, so every
 * entry is computed exactly as on one thread.
 */
import { growTo, moduleInstantiator, newSharedMemory } from "./_shared_memory.ts";
import { ATTENTION_WASM_BASE64 } from "./attention_wasm.ts";
import { JobLayout } from "./_control_block.ts";

/** Exports of kernels/wasm/attention.wat; addresses in bytes. */
export interface AttentionExports {
  memory: WebAssembly.Memory;
  softmaxRows(x: number, rows: number, T: number, mask: number): void;
  attentionForward(
    qkv: number,
    att: number,
    out: number,
    mask: number,
    kt: number,
    B: number,
    T: number,
    C: number,
    NH: number,
    alpha: number,
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
 * entry: part p uses the scratch at `kt0` + p * `scratchBytes`.
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
  scratchBytes: number;
  T: number;
  C: number;
  NH: number;
  /** Scale of the scores. */
  alpha: number;
}

/** How an `AttentionJob` travels to the workers. */
export const ATTENTION_JOB: JobLayout<Exclude<keyof AttentionJob, "alpha">, never, "alpha"> =
  new JobLayout(
    [
      "qkv",
      "att",
      "out",
      "mask",
      "dout",
      "dqkv",
      "datt",
      "kt0",
      "scratchBytes",
      "T",
      "C",
      "NH",
    ],
    [],
    ["alpha"],
  );

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
      b1 - b0,
      T,
      C,
      NH,
      job.alpha,
    );
  }
}
