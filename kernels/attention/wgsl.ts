/**
 * Multi-head attention pieces, WGSL. The products (Q K^T, att V and their backward) are strided
 * GEMM dispatches inside qkv (B, T, 3C) (kernels/gemm/wgsl.ts); this file holds the row kernels
 * on att (B, NH, T, T): the key-masked softmax (in place on the scaled scores) and its backward
 * (in place on datt). One workgroup of 64 threads per row, fixed-order tree reductions.
 * CPU twin: kernels/attention/cpu.ts.
 */
import { gridRows, type Kernel, u32 } from "../webgpu/kernel.ts";

const WG_REDUCE_64 = String.raw`
var<workgroup> red: array<f32, 64>;
fn wgReduce(v: f32, li: u32, isMax: bool) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) {
      if (isMax) { red[li] = max(red[li], red[li + s]); } else { red[li] = red[li] + red[li + s]; }
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`;

const SOFTMAX = WG_REDUCE_64 + String.raw`
// Key s of batch entry b takes part unless the mask says padded.
fn valid(b: u32, s: u32) -> bool {
  return p.hasMask == 0u || mask[b * p.T + s] != 0.0;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let rows = p.B * p.NH * p.T;
  for (var row = wg.x; row < rows; row += nwg.x) {
    let b = row / (p.NH * p.T);
    let base = row * p.T;
    var mx = -3.4028235e38;
    var found = 0.0;
    for (var s = li; s < p.T; s += 64u) {
      if (valid(b, s)) { mx = max(mx, att[base + s]); found = 1.0; }
    }
    mx = wgReduce(mx, li, true);
    let anyValid = wgReduce(found, li, true);
    var sum = 0.0;
    for (var s = li; s < p.T; s += 64u) {
      if (valid(b, s)) { sum += exp(att[base + s] - mx); }
    }
    sum = wgReduce(sum, li, false);
    for (var s = li; s < p.T; s += 64u) {
      // A row whose keys are all padded gets zeros, not 0/0.
      if (anyValid > 0.0 && valid(b, s)) {
        att[base + s] = exp(att[base + s] - mx) / sum;
      } else {
        att[base + s] = 0.0;
      }
    }
  }
}
`;

/**
 * In place on att (B, NH, T, T) holding scaled scores: softmax over the last axis with keys
 * masked by keyMask (B, T) (`hasMask` false: `mask` is a placeholder and is not read).
 */
export function maskedSoftmaxKernel(
  att: GPUBuffer,
  mask: GPUBuffer,
  hasMask: boolean,
  B: number,
  NH: number,
  T: number,
): Kernel {
  return {
    name: "attention_softmax",
    code: SOFTMAX,
    inputs: [{ name: "mask", buffer: mask }],
    outputs: [{ name: "att", buffer: att }],
    uniforms: [u32("B", B), u32("NH", NH), u32("T", T), u32("hasMask", hasMask ? 1 : 0)],
    grid: gridRows(B * NH * T),
  };
}

const SOFTMAX_BACKWARD = WG_REDUCE_64 + String.raw`
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  for (var row = wg.x; row < p.rows; row += nwg.x) {
    let base = row * p.T;
    var dot = 0.0;
    for (var s = li; s < p.T; s += 64u) { dot += att[base + s] * datt[base + s]; }
    dot = wgReduce(dot, li, false);
    for (var s = li; s < p.T; s += 64u) {
      datt[base + s] = att[base + s] * (datt[base + s] - dot);
    }
  }
}
`;

/**
 * In place on datt (rows, T): `dpre[t, s] = att[t, s] (datt[t, s] - sum_s' att[t, s'] datt[t, s'])`
 * with att (rows, T) the softmax output.
 */
export function softmaxBackwardKernel(
  datt: GPUBuffer,
  att: GPUBuffer,
  rows: number,
  T: number,
): Kernel {
  return {
    name: "attention_softmax_backward",
    code: SOFTMAX_BACKWARD,
    inputs: [{ name: "att", buffer: att }],
    outputs: [{ name: "datt", buffer: datt }],
    uniforms: [u32("rows", rows), u32("T", T)],
    grid: gridRows(rows),
  };
}
