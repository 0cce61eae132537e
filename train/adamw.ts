/**
 * AdamW over a list of named parameters, with PyTorch `torch.optim.AdamW` semantics (decoupled
 * weight decay, bias-corrected moments; defaults beta1 0.9, beta2 0.999, eps 1e-8, weight decay
 * 0.01). The update itself is `Backend.adamw`; this class owns the moment buffers, counts steps,
 * and saves or restores its state for resumable checkpoints.
 * @module
 */
import type { Backend, Tensor } from "../kernels/backend.ts";
import { readStateDict, type StateDict, toFloat32 } from "../models/checkpoint/state_dict.ts";

/** A trainable tensor and its gradient (same shape), by a unique name. */
export interface NamedParam {
  name: string;
  param: Tensor;
  grad: Tensor;
}

/** AdamW hyper-parameters; omitted ones take PyTorch's defaults. */
export interface AdamWConfig {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** Optimiser state: steps taken, first (`m`) and second (`v`) moments by parameter name. */
export interface AdamWState {
  step: number;
  m: StateDict;
  v: StateDict;
}

/**
 * AdamW; `step()` applies one update to every parameter from its current gradient.
 *
 * @example
 * ```ts ignore
 * const opt = new AdamW(be, model.trainable(), { lr: 1e-4 });
 * model.zeroGrad(); model.forward(input, B, T); model.backward(dout); opt.step();
 * ```
 */
export class AdamW {
  readonly backend: Backend;
  readonly params: readonly NamedParam[];
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  #step = 0;
  readonly #m: Tensor[];
  readonly #v: Tensor[];

  constructor(backend: Backend, params: readonly NamedParam[], config: AdamWConfig) {
    this.backend = backend;
    this.params = [...params];
    this.lr = config.lr;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.eps = config.eps ?? 1e-8;
    this.weightDecay = config.weightDecay ?? 0.01;
    const names = new Set<string>();
    for (const p of this.params) {
      if (names.has(p.name)) throw new TypeError(`Cannot create AdamW: duplicate name ${p.name}`);
      names.add(p.name);
      if (p.param.size !== p.grad.size) {
        throw new RangeError(
          `Cannot create AdamW: ${p.name} has ${p.param.size} elements, gradient ${p.grad.size}`,
        );
      }
    }
    for (const [k, v] of Object.entries({ beta1: this.beta1, beta2: this.beta2 })) {
      if (!(v >= 0 && v < 1)) throw new RangeError(`Cannot create AdamW: ${k} ${v} not in [0, 1)`);
    }
    this.#m = this.params.map((p) => backend.tensor(p.param.shape));
    this.#v = this.params.map((p) => backend.tensor(p.param.shape));
  }

  /** Number of updates applied so far. */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * One update of every parameter; `lr` overrides the current learning rate (schedules).
   * `gradScale` (1), on the engine, multiplies every gradient first (the gradient-norm clip's
   * factor, `GradClipper.queueScale`): the update needs no read-back of the norm.
   */
  step(lr = this.lr, gradScale: Tensor | null = null): void {
    this.lr = lr;
    this.#step++;
    const opts = {
      lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      step: this.#step,
    };
    this.params.forEach((p, i) => {
      this.backend.adamw(p.param, p.grad, this.#m[i], this.#v[i], p.param.size, opts, gradScale);
    });
  }

  /** Host copy of the state (after all queued work). */
  async state(): Promise<AdamWState> {
    const both = await readStateDict(this.backend, [
      ...this.params.map(({ name }, i) => [`m.${name}`, this.#m[i]] as const),
      ...this.params.map(({ name }, i) => [`v.${name}`, this.#v[i]] as const),
    ]);
    const pick = (which: "m" | "v"): StateDict =>
      new Map(this.params.map(({ name }) => [name, both.get(`${which}.${name}`)!]));
    return { step: this.#step, m: pick("m"), v: pick("v") };
  }

  /** Restores a state saved by `state()`; every parameter must be present with its size. */
  loadState(s: AdamWState, file = "optimizer state"): void {
    if (!Number.isInteger(s.step) || s.step < 0) {
      throw new TypeError(`Cannot load AdamW state from "${file}": step ${s.step} is invalid`);
    }
    this.params.forEach((p, i) => {
      for (const [which, dict, dst] of [["m", s.m, this.#m[i]], ["v", s.v, this.#v[i]]] as const) {
        const t = dict.get(p.name);
        if (!t) {
          throw new TypeError(
            `Cannot load AdamW state from "${file}": ${which} of ${p.name} is missing`,
          );
        }
        const data = toFloat32(t);
        if (data.length !== p.param.size) {
          throw new TypeError(
            `Cannot load AdamW state from "${file}": ${which} of ${p.name} has ${data.length} ` +
              `elements, expected ${p.param.size}`,
          );
        }
        this.backend.write(dst, data);
      }
    });
    this.#step = s.step;
  }

  /** Frees the moment buffers. */
  free(): void {
    for (const t of [...this.#m, ...this.#v]) this.backend.free(t);
  }
}
