/**
 * TMR's motion normalisation (Mathux/TMR, `src/data/motion.py` `Normalizer`): TMR's encoders
 * read HumanML3D features normalised with TMR's own per-dimension statistics (`mean.pt`,
 * `std.pt` of `stats/humanml3d/guoh3dfeats`), which are not the dataset's `Mean.npy`/`Std.npy`.
 * @module
 */

/** TMR's `Normalizer.eps`. */
export const TMR_NORM_EPS = 1e-12;

/**
 * `(x - mean) / (std + 1e-12)` over rows of F = `mean.length` features, each step rounded to
 * float32 as PyTorch computes it on float32 tensors. `x` holds whole rows (N, F).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeTmrMotion } from "./normalize.ts";
 * const out = normalizeTmrMotion([3, 5], [1], [2]);
 * assert.deepEqual([...out], [1, 2]);
 * ```
 */
export function normalizeTmrMotion(
  x: ArrayLike<number>, // (N, F)
  mean: ArrayLike<number>, // (F)
  std: ArrayLike<number>, // (F)
): Float32Array {
  const F = mean.length;
  if (F === 0 || std.length !== F) {
    throw new RangeError(
      `Cannot normalise motion for TMR: mean has ${F} entries and std ${std.length}; ` +
        "they must match and be non-empty",
    );
  }
  if (x.length % F !== 0) {
    throw new RangeError(
      `Cannot normalise motion for TMR: ${x.length} values are not whole rows of ${F} features`,
    );
  }
  const f = Math.fround;
  const denom = new Float64Array(F); // (F) float32 values of std + eps
  for (let c = 0; c < F; c++) denom[c] = f(std[c] + TMR_NORM_EPS);
  const out = new Float32Array(x.length); // (N, F)
  for (let i = 0; i < x.length; i++) {
    const c = i % F;
    out[i] = f(x[i] - mean[c]) / denom[c];
  }
  return out;
}
