/**
 * Gradient-norm clipping with `torch.nn.utils.clip_grad_norm_` semantics: the global L2 norm over
 * every gradient; when it exceeds `maxNorm`, every gradient is scaled by
 * `maxNorm / (norm + 1e-6)`.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import type { NamedParam } from "../adamw.ts";

/** Reusable buffers of {@linkcode GradClipper}. */
export class GradClipper {
  readonly backend: Backend;
  readonly #zeros: Tensor; // (maxN) all zero: rowSumSqDiff(g, 0) = sum g^2
  readonly #one: Tensor; // (1)
  readonly #sums: Tensor; // (P) sum of squares per parameter

  constructor(be: Backend, params: readonly NamedParam[]) {
    this.backend = be;
    const maxN = Math.max(1, ...params.map((p) => p.grad.size));
    this.#zeros = be.tensor([maxN]);
    this.#one = be.tensor([1]);
    this.#sums = be.tensor([Math.max(1, params.length)]);
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
    let ss = 0;
    for (let i = 0; i < params.length; i++) ss += sums[i];
    const norm = Math.sqrt(ss);
    if (maxNorm > 0 && Number.isFinite(maxNorm) && norm > maxNorm) {
      const s = Math.fround(maxNorm / (norm + 1e-6));
      for (const p of params) this.backend.axpby(p.grad, p.grad, s, p.grad, 0, p.grad.size);
    }
    return norm;
  }

  free(): void {
    for (const t of [this.#zeros, this.#one, this.#sums]) this.backend.free(t);
  }
}
