/**
 * MDM's training loss with `predict_xstart`: the squared error between the x0 prediction and the
 * clean motion over valid frames (NUMERICS.md section 2), and its gradient.
 *
 * Reduction (MDM `masked_l2`, then `.mean()` over the batch): sample b's error is averaged over
 * its `len_b * F` valid elements, then the B samples are averaged, so
 *   loss = sum_{b, t < len_b, f} w_b (x0hat - x0)^2,   w_b = 1 / (B len_b F),
 * and dloss/dx0hat = 2 w_b (x0hat - x0) on valid frames, 0 on padding. The "pooled" reduction
 * (one mean over every valid element of the batch, w_b = 1 / (F sum len)) is available for
 * comparison; the two agree when every length is equal.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";

/** How the squared errors are averaged (see the module doc). */
export type LossReduction = "mdm" | "pooled";

/**
 * Per-frame loss weights (B*T): `w_b` for frames `t < len_b`, 0 on padding.
 * Float64 on the host: the loss is summed in float64.
 */
export function frameLossWeights(
  lengths: Int32Array, // (B)
  B: number,
  T: number,
  F: number,
  reduction: LossReduction = "mdm",
): Float64Array {
  const w = new Float64Array(B * T); // (B, T)
  let total = 0;
  for (let b = 0; b < B; b++) total += Math.min(lengths[b], T);
  for (let b = 0; b < B; b++) {
    const len = Math.min(lengths[b], T);
    if (len <= 0) continue;
    const wb = reduction === "mdm" ? 1 / (B * len * F) : 1 / (total * F);
    w.fill(wb, b * T, b * T + len);
  }
  return w;
}

/** Buffers of {@linkcode maskedMse}, sized for (B, T, F) and reused across steps. */
export interface MaskedMseScratch {
  frameSq: Tensor; // (B*T) squared error summed over F, per frame
  gradScale: Tensor; // (B*T) 2 w per frame
}

/** Allocates the scratch of {@linkcode maskedMse} for up to B*T frames. */
export function allocMaskedMseScratch(be: Backend, B: number, T: number): MaskedMseScratch {
  return { frameSq: be.tensor([B * T]), gradScale: be.tensor([B * T]) };
}

/**
 * Loss of `pred` against `target`, both (B, T, F), with per-frame weights `w` (B*T) from
 * {@linkcode frameLossWeights}. When `dpred` is given it receives dloss/dpred (B, T, F),
 * overwritten. Returns the loss (float64 sum of float32 per-frame sums).
 */
export async function maskedMse(
  be: Backend,
  dpred: Tensor | null, // (B, T, F)
  pred: Tensor, // (B, T, F)
  target: Tensor, // (B, T, F)
  w: Float64Array, // (B*T)
  scratch: MaskedMseScratch,
  B: number,
  T: number,
  F: number,
): Promise<number> {
  const R = B * T;
  be.rowSumSqDiff(scratch.frameSq, pred, target, null, R, F); // (B*T)
  if (dpred) {
    const scale = Float32Array.from(w.subarray(0, R), (x) => 2 * x); // (B*T)
    be.write(scratch.gradScale, scale);
    be.axpby(dpred, pred, 1, target, -1, R * F); // (B*T, F) pred - target
    be.scaleRows(dpred, dpred, scratch.gradScale, R, F); // padding rows become 0
  }
  const sq = await be.read(scratch.frameSq);
  let loss = 0;
  // Padded frames carry weight 0; their error (an arbitrary prediction vs 0) must not leak in as
  // NaN * 0, so they are skipped rather than multiplied.
  for (let r = 0; r < R; r++) if (w[r] !== 0) loss += w[r] * sq[r];
  return loss;
}
