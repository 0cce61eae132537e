/**
 * Exponential moving average of the weights (MDM `--use_ema`, `avg_model_beta`):
 * `avg = beta avg + (1 - beta) param` after every optimiser step, starting from the initial
 * weights. MDM uses beta 0.9999 over 600k steps; a short run needs a shorter horizon (0.999
 * averages over about 1000 steps), else the average stays near the random initialisation.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import type { NamedParam } from "../adamw.ts";
import { readStateDict, type StateDict, toFloat32 } from "../../models/checkpoint/state_dict.ts";

/** The averaged copy of a list of parameters. */
export class WeightEma {
  readonly backend: Backend;
  readonly decay: number;
  readonly params: readonly NamedParam[];
  readonly avg: Tensor[];

  constructor(be: Backend, params: readonly NamedParam[], decay: number) {
    if (!(decay >= 0 && decay < 1)) {
      throw new RangeError(`Cannot create the weight EMA: decay ${decay} is not in [0, 1)`);
    }
    this.backend = be;
    this.decay = decay;
    this.params = [...params];
    this.avg = this.params.map((p) => {
      const t = be.tensor(p.param.shape);
      be.copy(t, p.param, p.param.size);
      return t;
    });
  }

  /** `avg = decay avg + (1 - decay) param` for every parameter. */
  update(): void {
    const d = this.decay;
    this.params.forEach((p, i) => {
      this.backend.axpby(this.avg[i], this.avg[i], d, p.param, 1 - d, p.param.size);
    });
  }

  /** Host copies of the averages by parameter name. */
  async stateDict(): Promise<StateDict> {
    return await readStateDict(this.backend, this.params.map((p, i) => [p.name, this.avg[i]]));
  }

  /** Overwrites the averages from `sd` (every parameter name must be present with its size). */
  load(sd: StateDict, file = "EMA state dict"): void {
    this.params.forEach((p, i) => {
      const t = sd.get(p.name);
      if (!t) throw new TypeError(`Cannot load the weight EMA from "${file}": missing ${p.name}`);
      const data = toFloat32(t);
      if (data.length !== p.param.size) {
        throw new TypeError(
          `Cannot load the weight EMA from "${file}": ${p.name} has ${data.length} elements, ` +
            `expected ${p.param.size}`,
        );
      }
      this.backend.write(this.avg[i], data);
    });
  }

  free(): void {
    for (const t of this.avg) this.backend.free(t);
  }
}
