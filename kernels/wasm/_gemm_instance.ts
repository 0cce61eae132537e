/**
 * The one process-wide instance of the GEMM kernel module (kernels/wasm/gemm.wat), created on
 * first use. Its linear memory only grows: a product that needs more than the largest one before
 * it grows it once, later products reuse it without reallocation. The memory is shared, so that
 * worker threads (kernels/wasm/pool.ts) can run their own instances on it.
 */
import { growTo, moduleInstantiator, newSharedMemory } from "./_shared_memory.ts";
import { GEMM_WASM_BASE64 } from "./gemm_wasm.ts";

/** Exports of the kernel module; see kernels/wasm/gemm.wat for the packed layouts. */
export interface GemmExports {
  memory: WebAssembly.Memory;
  /**
   * C work (mp*4, np*8) = packed A (mp panels) @ packed B (np panels), or += when `acc` is 1, or
   * + the row at `bias` (np*8 floats, one K block only) when `acc` is 2; addresses in bytes.
   */
  gemm(
    mp: number,
    np: number,
    kpad: number,
    kc: number,
    ap: number,
    bp: number,
    cp: number,
    ldc: number,
    acc: number,
    bias: number,
  ): void;
  /**
   * Packs `nblk` 4-row blocks stored row-major at `src` (row stride `ld` bytes, K floats each)
   * into panels at `dst`, transposed; see kernels/wasm/gemm.wat. Addresses in bytes.
   */
  packRows(
    src: number,
    ld: number,
    nblk: number,
    K: number,
    kpad: number,
    dst: number,
    step: number,
    pb: number,
    half: number,
  ): void;
  /** Packs `np` panels of 4 (`wide` 0) or 8 (`wide` 1) floats per k from rows `ld` bytes apart. */
  packCols(
    src: number,
    ld: number,
    np: number,
    K: number,
    kpad: number,
    dst: number,
    wide: number,
  ): void;
}

/** An instance of the kernel module on `memory` (a shared memory of the module's limits). */
export const instantiateGemm: (memory: WebAssembly.Memory) => GemmExports = moduleInstantiator<
  GemmExports
>(GEMM_WASM_BASE64);

/** The kernel module plus a float32 view of its memory that follows growth. */
export class GemmInstance {
  readonly exports: GemmExports;
  /** Float32 view of the whole linear memory (replaced when the memory grows). */
  f32: Float32Array;

  constructor(exports: GemmExports) {
    this.exports = exports;
    this.f32 = new Float32Array(exports.memory.buffer);
  }

  /** Grows the memory to at least `bytes` and returns the (possibly new) float32 view. */
  reserve(bytes: number): Float32Array {
    const memory = this.exports.memory;
    if (bytes > memory.buffer.byteLength) {
      growTo(memory, bytes, "the WASM GEMM");
      this.f32 = new Float32Array(memory.buffer);
    }
    return this.f32;
  }
}

let instance: GemmInstance | null = null;

/** The shared instance, compiled and instantiated synchronously on first call. */
export function gemmInstance(): GemmInstance {
  if (instance === null) {
    instance = new GemmInstance(instantiateGemm(newSharedMemory()));
  }
  return instance;
}

/** Forgets the shared instance, so its memory can be garbage-collected. */
export function releaseGemmInstance(): void {
  instance = null;
}
