/**
 * Linear layer pieces, WGSL (the products themselves are GEMM dispatches, kernels/gemm/wgsl.ts):
 * the bias broadcast of the forward, and the deterministic column reduction of the backward,
 * `dbias[oc] += sum_n dout[n, oc]`, in two passes without atomics: pass 1 sums fixed chunks of
 * rows per column into partials (chunks, OC), pass 2 adds the partials of each column in a fixed
 * order (16 lanes, each over every 16th chunk, then a tree). CPU twin:
 * kernels/linear/cpu.ts.
 */
import { type Kernel, MAX_GROUPS, u32 } from "../webgpu/kernel.ts";

const BIAS_ADD = String.raw`
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = p.N * p.OC;
  for (var i = gid.x; i < n; i += nwg.x * 256u) {
    out[i] = out[i] + bias[i % p.OC];
  }
}
`;

/** `out[n, oc] += bias[oc]` over out (N, OC), in place. */
export function biasAddKernel(out: GPUBuffer, bias: GPUBuffer, N: number, OC: number): Kernel {
  return {
    name: "linear_bias_add",
    code: BIAS_ADD,
    inputs: [{ name: "bias", buffer: bias }],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("N", N), u32("OC", OC)],
    grid: [Math.min(Math.ceil((N * OC) / 256), MAX_GROUPS), 1, 1],
  };
}

/**
 * Rows per chunk of the column reduction: at least 32 (each thread of pass 1 sums one chunk of
 * one column, so a longer chunk is a longer chain of dependent loads), few enough chunks for one
 * grid axis.
 */
export function columnChunkRows(N: number): number {
  return Math.max(32, Math.ceil(N / MAX_GROUPS));
}

/** Number of chunks (rows of the partials buffer) for N rows. */
export function columnChunks(N: number): number {
  return Math.ceil(N / columnChunkRows(N));
}

const COLUMN_PARTIAL = String.raw`
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let col = gid.x;
  if (col >= p.C) { return; }
  let r0 = wg.y * p.rows;
  let r1 = min(r0 + p.rows, p.N);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += x[r * p.C + col]; }
  partial[wg.y * p.C + col] = s;
}
`;

/** Pass 1: `partial[k, c] = sum over rows of chunk k of x[r, c]`, x (N, C) → partial (chunks, C). */
export function columnPartialKernel(
  partial: GPUBuffer,
  x: GPUBuffer,
  N: number,
  C: number,
): Kernel {
  return {
    name: "column_partial",
    code: COLUMN_PARTIAL,
    inputs: [{ name: "x", buffer: x }],
    outputs: [{ name: "partial", buffer: partial }],
    uniforms: [u32("N", N), u32("C", C), u32("rows", columnChunkRows(N))],
    grid: [Math.ceil(C / 64), columnChunks(N), 1],
  };
}

/** Lanes that share one column of the second pass (each sums every 16th chunk). */
const ACCUMULATE_LANES = 16;

const COLUMN_ACCUMULATE = String.raw`
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let col = wg.x * 16u + lid.x;
  var s = 0.0;
  if (col < p.C) {
    for (var k = lid.y; k < p.chunks; k += 16u) { s += partial[k * p.C + col]; }
  }
  red[li] = s;
  workgroupBarrier();
  for (var h = 8u; h > 0u; h >>= 1u) {
    if (lid.y < h) { red[li] = red[li] + red[li + 16u * h]; }
    workgroupBarrier();
  }
  if (lid.y == 0u && col < p.C) { dst[col] = dst[col] + red[li]; }
}
`;

/** Pass 2: `target[c] += sum_k partial[k, c]`, partial (chunks, C) → target (C). */
export function columnAccumulateKernel(
  target: GPUBuffer,
  partial: GPUBuffer,
  chunks: number,
  C: number,
): Kernel {
  return {
    name: "column_accumulate",
    code: COLUMN_ACCUMULATE,
    inputs: [{ name: "partial", buffer: partial }],
    outputs: [{ name: "dst", buffer: target }],
    uniforms: [u32("C", C), u32("chunks", chunks)],
    grid: [Math.ceil(C / ACCUMULATE_LANES), 1, 1],
  };
}
