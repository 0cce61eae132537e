/**
 * Mean and Std of motion features, computed the way HumanML3D's `cal_mean_variance.ipynb` does:
 * per-dimension mean and population std over every frame of every clip (mirrors included), then
 * the std of each block of the layout replaced by the block's average (weights 1.0 in the public
 * notebook; the feature weighting of some training codes is not part of the dataset files).
 *
 * @module
 */

/** Streaming per-dimension mean and variance (Chan et al.'s pairwise merge), float64. */
export class FeatureStats {
  readonly width: number;
  count = 0;
  readonly mean: Float64Array; // (F)
  readonly m2: Float64Array; // (F)

  constructor(width: number) {
    this.width = width;
    this.mean = new Float64Array(width);
    this.m2 = new Float64Array(width);
  }

  /** Adds the rows of one clip. `rows` is (n, F). */
  add(rows: Float32Array, n: number): void {
    const F = this.width;
    if (n === 0) return;
    const cm = new Float64Array(F), c2 = new Float64Array(F);
    for (let t = 0; t < n; t++) for (let f = 0; f < F; f++) cm[f] += rows[t * F + f];
    for (let f = 0; f < F; f++) cm[f] /= n;
    for (let t = 0; t < n; t++) {
      for (let f = 0; f < F; f++) {
        const d = rows[t * F + f] - cm[f];
        c2[f] += d * d;
      }
    }
    const na = this.count, nb = n, nt = na + nb;
    for (let f = 0; f < F; f++) {
      const delta = cm[f] - this.mean[f];
      this.mean[f] += (delta * nb) / nt;
      this.m2[f] += c2[f] + (delta * delta * na * nb) / nt;
    }
    this.count = nt;
  }

  /**
   * Mean and block-averaged Std (float32) for J joints: blocks `[0]`, `[1:3]`, `[3]`, ric,
   * rotations, velocities, contacts, each std replaced by its block mean.
   */
  meanStd(joints: number): { mean: Float32Array; std: Float32Array } {
    const F = this.width;
    if (this.count === 0) throw new RangeError("Cannot compute Mean/Std: no frames were added");
    const std = new Float64Array(F);
    for (let f = 0; f < F; f++) std[f] = Math.sqrt(this.m2[f] / this.count);
    const r = 4 + 3 * (joints - 1), rot = r + 6 * (joints - 1), vel = rot + 3 * joints;
    const bounds = [0, 1, 3, 4, r, rot, vel, F];
    if (vel + 4 !== F) {
      throw new RangeError(`Cannot compute Mean/Std: width ${F} does not fit ${joints} joints`);
    }
    for (let b = 0; b + 1 < bounds.length; b++) {
      let s = 0;
      for (let f = bounds[b]; f < bounds[b + 1]; f++) s += std[f];
      const avg = s / (bounds[b + 1] - bounds[b]);
      for (let f = bounds[b]; f < bounds[b + 1]; f++) std[f] = avg;
    }
    return { mean: Float32Array.from(this.mean), std: Float32Array.from(std) };
  }
}
