/** The WebGPU backend's tensor: a float32 storage buffer on the shared device. */
import type { BackendKind, Tensor } from "../backend.ts";

/** A float32 tensor held in one GPU storage buffer (padded to at least 4 bytes). */
export class GpuTensor implements Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  readonly owner: BackendKind = "webgpu";
  readonly buffer: GPUBuffer;
  /** Set by `free()`: later use is an error. */
  freed = false;

  constructor(shape: readonly number[], size: number, buffer: GPUBuffer) {
    this.shape = [...shape];
    this.size = size;
    this.buffer = buffer;
  }
}
