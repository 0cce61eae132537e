/**
 * The clipped GRPO objective and its gradient, WGSL: ONE workgroup of 256 threads in one
 * dispatch. Thread k handles samples k, k+256, ... (writing `dlogp` and summing its own partial
 * sums in sample order), then a fixed-shape tree reduction in workgroup memory gives the means:
 * deterministic, no atomics. Formulas and the `stats` layout: the CPU twin,
 * kernels/grpo_loss/cpu.ts.
 */
import { f32, type Kernel, u32 } from "../webgpu/kernel.ts";
import type { GrpoLossParams } from "./cpu.ts";

const GRPO_LOSS = String.raw`
const WG = 256u;
const K = 6u; // partial sums: policy, kl, ratio, approxKl, clipped, active
var<workgroup> red: array<f32, 1536>; // (K, WG)

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u) {
  let k = lid.x;
  let invN = 1.0 / f32(p.N);
  var acc = array<f32, 6>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  for (var i = k; i < p.N; i += WG) {
    let logRatio = logp[i] - logpOld[i];
    let r = exp(logRatio);
    let A = adv[i];
    let unclipped = -A * r;
    let clipped = -A * clamp(r, 1.0 - p.eps, 1.0 + p.eps);
    let clampActive = clipped > unclipped;
    acc[0] += max(unclipped, clipped);
    dlogp[i] = select(unclipped * invN, 0.0, clampActive);
    acc[1] += kl[i];
    acc[2] += r;
    acc[3] += (r - 1.0) - logRatio;
    acc[4] += select(0.0, 1.0, abs(r - 1.0) > p.eps);
    acc[5] += select(0.0, 1.0, clampActive);
  }
  for (var c = 0u; c < K; c++) {
    red[c * WG + k] = acc[c];
  }
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (k < s) {
      for (var c = 0u; c < K; c++) {
        red[c * WG + k] += red[c * WG + k + s];
      }
    }
    workgroupBarrier();
  }
  if (k == 0u) {
    let policy = red[0] * invN;
    let klMean = red[WG] * invN;
    stats[0] = policy + p.beta * klMean;
    stats[1] = policy;
    stats[2] = klMean;
    stats[3] = red[2u * WG] * invN;
    stats[4] = red[3u * WG] * invN;
    stats[5] = red[4u * WG] * invN;
    stats[6] = red[5u * WG] * invN;
    stats[7] = p.beta * invN;
  }
}
`;

/**
 * Loss, diagnostics and `dloss/dlogp` of N samples in one dispatch.
 *
 * @param stats (GRPO_STATS) output, layout `GrpoStat`
 * @param dlogp (N) output, overwritten
 */
export function grpoLossKernel(
  stats: GPUBuffer, // (8)
  dlogp: GPUBuffer, // (N)
  logp: GPUBuffer, // (N)
  logpOld: GPUBuffer, // (N)
  adv: GPUBuffer, // (N)
  kl: GPUBuffer, // (N)
  N: number,
  p: GrpoLossParams,
): Kernel {
  return {
    name: "grpo_loss",
    code: GRPO_LOSS,
    inputs: [
      { name: "logp", buffer: logp },
      { name: "logpOld", buffer: logpOld },
      { name: "adv", buffer: adv },
      { name: "kl", buffer: kl },
    ],
    outputs: [
      { name: "stats", buffer: stats },
      { name: "dlogp", buffer: dlogp },
    ],
    uniforms: [u32("N", N), f32("eps", p.clipEpsilon), f32("beta", p.klBeta)],
    grid: [1, 1, 1],
  };
}
