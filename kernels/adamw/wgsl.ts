/**
 * AdamW, WGSL: one in-place step over n parameters in PyTorch's order of operations
 * (`torch.optim.AdamW`, single-tensor path): decay, moments, bias-corrected update. The step
 * scalars are computed on the host in float64 and passed as float32 uniforms, as PyTorch passes
 * Python floats to its float32 kernels. CPU twin: kernels/adamw/cpu.ts.
 */
import type { AdamWOptions } from "../backend.ts";
import { f32, gridStride, type Kernel, u32 } from "../webgpu/kernel.ts";

const ADAMW = String.raw`
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    let g = grad[i];
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

/** One AdamW step over param, m, v (n) in place, reading grad (n). */
export function adamwKernel(
  param: GPUBuffer,
  grad: GPUBuffer,
  m: GPUBuffer,
  v: GPUBuffer,
  n: number,
  o: AdamWOptions,
): Kernel {
  const bc1 = 1 - Math.pow(o.beta1, o.step);
  const bc2 = 1 - Math.pow(o.beta2, o.step);
  return {
    name: "adamw",
    code: ADAMW,
    inputs: [{ name: "grad", buffer: grad }],
    outputs: [
      { name: "param", buffer: param },
      { name: "m", buffer: m },
      { name: "v", buffer: v },
    ],
    uniforms: [
      u32("n", n),
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
