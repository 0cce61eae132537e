/**
 * Gradient-norm clipping with `torch.nn.utils.clip_grad_norm_` semantics: the global L2 norm over
 * every gradient; when it exceeds `maxNorm`, every gradient is scaled by
 * `maxNorm / (norm + 1e-6)`. Two ways: `clip` reads the norm back and scales the gradients in
 * place; `queueScale` leaves the factor on the engine for AdamW to apply (`AdamW.step`), so that
 * the update is queued without waiting for the GPU.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { clipFactor } from "../../kernels/adamw/cpu.ts";
import type { NamedParam } from "../adamw.ts";

/** Reusable buffers of {@linkcode GradClipper}. */
export class GradClipper {
  readonly backend: Backend;
  readonly #zeros: Tensor; // (maxN) all zero: rowSumSqDiff(g, 0) = sum g^2
  readonly #one: Tensor; // (1)
  readonly #sums: Tensor; // (P) sum of squares per parameter
  readonly #scale: Tensor; // (1) the clip factor of queueScale

  constructor(be: Backend, params: readonly NamedParam[]) {
    this.backend = be;
    const maxN = Math.max(1, ...params.map((p) => p.grad.size));
    this.#zeros = be.tensor([maxN]);
    this.#one = be.tensor([1]);
    this.#sums = be.tensor([Math.max(1, params.length)]);
    this.#scale = be.tensor([1]);
  }

  /**
   * Returns the global gradient norm before clipping; scales the gradients in place when it is
   * above `maxNorm` (`maxNorm <= 0` or infinite only measures).
   */
  async clip(params: readonly NamedParam[], maxNorm: number): Promise<number> {
    const sums = await this.backend.read(this.queueSums(params));
    return this.applySums(params, maxNorm, sums);
  }

  /**
   * Queues the sum of squares of each gradient; returns the (P) tensor they go to, for the
   * caller to read (alone, or with other results in one read-back) and pass to `applySums`.
   */
  queueSums(params: readonly NamedParam[]): Tensor {
    const be = this.backend;
    params.forEach((p, i) => {
      be.rowSumSqDiff(this.#one, p.grad, this.#zeros, null, 1, p.grad.size);
      be.copy(this.#sums, this.#one, 1, i, 0);
    });
    return this.#sums;
  }

  /** The second half of `clip`, given the read-back of `queueSums`' tensor. */
  applySums(params: readonly NamedParam[], maxNorm: number, sums: Float32Array): number {
    const { norm, scale } = clipFactor(sums, params.length, maxNorm);
    if (scale !== 1) {
      for (const p of params) this.backend.axpby(p.grad, p.grad, scale, p.grad, 0, p.grad.size);
    }
    return norm;
  }

  /**
   * Queues the sums of squares (returned: read them back for the norm, `GradClipper.norm`) and
   * the clip factor, left on the engine for `AdamW.step` (returned as `scale`); the gradients
   * themselves are not changed. The factor is `clip`'s; on the GPU it is summed in float32.
   */
  queueScale(params: readonly NamedParam[], maxNorm: number): { sums: Tensor; scale: Tensor } {
    const sums = this.queueSums(params);
    this.backend.gradClipScale(this.#scale, sums, params.length, maxNorm);
    return { sums, scale: this.#scale };
  }

  /** The norm before clipping (float64) from a host copy of `queueScale`'s sums. */
  static norm(sums: Float32Array, count: number): number {
    return clipFactor(sums, count, Infinity).norm;
  }

  free(): void {
    for (const t of [this.#zeros, this.#one, this.#sums, this.#scale]) this.backend.free(t);
  }
}
