/**
 * AdamW, WGSL: one in-place step over n parameters in PyTorch's order of operations
 * (`torch.optim.AdamW`, single-tensor path): decay, moments, bias-corrected update. The step
 * scalars are computed on the host in float64 and passed as float32 uniforms, as PyTorch passes
 * Python floats to its float32 kernels. CPU twin: kernels/adamw/cpu.ts.
 */
import type { AdamWOptions } from "../backend.ts";
import { clipsAt } from "./cpu.ts";
import { f32, gridStride, type Kernel, u32 } from "../webgpu/kernel.ts";

const ADAMW = String.raw`
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  // the gradient-norm clip's factor (gradClipScale), or 1
  let scale = select(1.0, grad_scale[0], p.hasScale != 0u);
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    let g = grad[i] * scale;
    // param.mul_(1 - lr * wd)
    let w = param[i] * p.decay;
    // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    let mi = m[i] * p.beta1 + g * p.oneMinusBeta1;
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    let vi = v[i] * p.beta2 + (p.oneMinusBeta2 * g) * g;
    // denom = exp_avg_sq.sqrt() / sqrt(bias_correction2) + eps
    let denom = sqrt(vi) / p.bc2Sqrt + p.eps;
    // param.addcdiv_(exp_avg, denom, value=-step_size)
    param[i] = w + (p.negStepSize * mi) / denom;
    m[i] = mi;
    v[i] = vi;
  }
}
`;

/**
 * One AdamW step over param, m, v (n) in place, reading grad (n) times `gradScale` (1) when
 * given (`null`: `placeholder` is bound and not read).
 */
export function adamwKernel(
  param: GPUBuffer,
  grad: GPUBuffer,
  m: GPUBuffer,
  v: GPUBuffer,
  n: number,
  o: AdamWOptions,
  gradScale: GPUBuffer | null,
  placeholder: GPUBuffer,
): Kernel {
  const bc1 = 1 - Math.pow(o.beta1, o.step);
  const bc2 = 1 - Math.pow(o.beta2, o.step);
  return {
    name: "adamw",
    code: ADAMW,
    inputs: [
      { name: "grad", buffer: grad },
      { name: "grad_scale", buffer: gradScale ?? placeholder },
    ],
    outputs: [
      { name: "param", buffer: param },
      { name: "m", buffer: m },
      { name: "v", buffer: v },
    ],
    uniforms: [
      u32("n", n),
      u32("hasScale", gradScale === null ? 0 : 1),
      f32("decay", 1 - o.lr * o.weightDecay),
      f32("beta1", o.beta1),
      f32("oneMinusBeta1", 1 - o.beta1),
      f32("beta2", o.beta2),
      f32("oneMinusBeta2", 1 - o.beta2),
      f32("bc2Sqrt", Math.sqrt(bc2)),
      f32("eps", o.eps),
      f32("negStepSize", -o.lr / bc1),
    ],
    grid: gridStride(n),
  };
}

const CLIP_SCALE = String.raw`
@compute @workgroup_size(1)
fn main() {
  var ss = 0.0;
  for (var i = 0u; i < p.count; i++) { ss += sums[i]; } // in order: deterministic
  let norm = sqrt(ss);
  var s = 1.0;
  if (p.clips != 0u && norm > p.maxNorm) { s = p.maxNorm / (norm + 1e-6); }
  scale[0] = s;
}
`;

/**
 * scale (1) = `clip_grad_norm_`'s factor from sums (count) of squares (float32 here; the CPU
 * twin `clipFactor` in kernels/adamw/cpu.ts sums in float64). One thread: count is the number of
 * parameter tensors, a few hundred at most.
 */
export function gradClipScaleKernel(
  scale: GPUBuffer,
  sums: GPUBuffer,
  count: number,
  maxNorm: number,
): Kernel {
  const clips = clipsAt(maxNorm);
  return {
    name: "grad_clip_scale",
    code: CLIP_SCALE,
    inputs: [{ name: "sums", buffer: sums }],
    outputs: [{ name: "scale", buffer: scale }],
    uniforms: [
      u32("count", count),
      u32("clips", clips ? 1 : 0),
      f32("maxNorm", clips ? maxNorm : 0),
    ],
    grid: [1, 1, 1],
  };
}
