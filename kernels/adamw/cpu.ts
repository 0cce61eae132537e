/**
 * AdamW, CPU twin of PyTorch's `torch.optim.AdamW` (single-tensor path: not foreach, not
 * amsgrad, not capturable), float32 in place. Each float32 tensor operation of PyTorch is rounded
 * with `Math.fround` in PyTorch's order and grouping (20 steps over 20000 values matched PyTorch
 * 1.13's vectorised x86 CPU kernels bit for bit; other builds may differ by an ulp):
 * ```
 * p *= 1 - lr*wd
 * m = m*b1 + (1-b1)*g                 (the multiply-add rounded once: ATen's fmadd)
 * v = v*b2 + ((1-b2)*g)*g             (the last multiply-add rounded once)
 * denom = sqrt(v) / sqrt(1 - b2^t) + eps
 * p += ((-lr/(1 - b1^t)) * m) / denom
 * ```
 * Scalars are computed in float64 (Python floats) and rounded to float32 when they meet a tensor.
 */
import type { AdamWOptions } from "../backend.ts";

// ----------------------------------------------------------------------------------------------
// AdamW: param, grad, m, v (n)

/**
 * One AdamW step in place over `n` elements; `opts.step` is the 1-based step number. `gradScale`
 * multiplies each gradient first, rounded to float32 as an in-place scaling of the gradient would
 * be (1: the gradient as it is).
 */
export function adamw(
  param: Float32Array, // (n)
  grad: Float32Array, // (n)
  m: Float32Array, // (n) first moment
  v: Float32Array, // (n) second moment
  n: number,
  opts: AdamWOptions,
  gradScale = 1,
): void {
  const f = Math.fround;
  const { lr, beta1, beta2, eps, weightDecay, step } = opts;
  const decay = f(1 - lr * weightDecay);
  const b1 = f(beta1), oneMinusB1 = f(1 - beta1);
  const b2 = f(beta2), oneMinusB2 = f(1 - beta2);
  const bc2Sqrt = f(Math.sqrt(1 - beta2 ** step));
  const negStep = f(-lr / (1 - beta1 ** step));
  const epsF = f(eps);
  const scale = f(gradScale);
  for (let i = 0; i < n; i++) {
    const g = scale === 1 ? grad[i] : f(grad[i] * scale);
    const p = f(param[i] * decay);
    // A product of two float32 values is exact in float64, so `f(x + y * z)` rounds the sum
    // once, like the fused multiply-add ATen's vectorised add/addcmul kernels use.
    const mi = f(f(m[i] * b1) + oneMinusB1 * g);
    const vi = f(f(v[i] * b2) + f(oneMinusB2 * g) * g);
    const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + epsF);
    param[i] = f(p + f(f(negStep * mi) / denom));
    m[i] = mi;
    v[i] = vi;
  }
}

// ----------------------------------------------------------------------------------------------
// Gradient-norm clipping factor: sums (count) -> norm, scale

/**
 * The global gradient norm (float64) from each gradient's sum of squares, and the float32 factor
 * `torch.nn.utils.clip_grad_norm_` scales the gradients by: `maxNorm / (norm + 1e-6)` where the
 * norm exceeds `maxNorm`, else 1 (always 1 where `maxNorm` is <= 0 or infinite).
 */
export function clipFactor(
  sums: ArrayLike<number>, // (count)
  count: number,
  maxNorm: number,
): { norm: number; scale: number } {
  let ss = 0;
  for (let i = 0; i < count; i++) ss += sums[i];
  const norm = Math.sqrt(ss);
  const clips = clipsAt(maxNorm) && norm > maxNorm;
  return { norm, scale: clips ? Math.fround(maxNorm / (norm + 1e-6)) : 1 };
}

/** Whether a maximum norm clips at all (a positive, finite one); else the factor is always 1. */
export function clipsAt(maxNorm: number): boolean {
  return maxNorm > 0 && Number.isFinite(maxNorm);
}
