/**
 * LayerNorm over the last axis, WGSL. inp (N, C); 32 threads per row, 8 rows per workgroup
 * (kernels/webgpu/row_groups.ts; looping over rows past the grid), each thread summing a fixed
 * strided subset, then a fixed-order tree: deterministic. Backward: dinp per row the same way;
 * dweight/dbias reduced over N by the two-pass column scheme of kernels/linear/wgsl.ts (partials
 * per chunk of rows, then summed in a fixed order).
 * CPU twin: kernels/layernorm/cpu.ts.
 */
import { f32, type Kernel, u32 } from "../webgpu/kernel.ts";
import { gridRowGroups, laneReduce } from "../webgpu/row_groups.ts";
import { columnChunkRows, columnChunks } from "../linear/wgsl.ts";

/** Threads per row: 16 elements each at the MDM's C = 512. */
const LN_LANES = 32;

/**
 * A layernorm row kernel: the loop over rows (each with its `row`, offset `base`, lane and `live`
 * flag; `invC` = 1 / C) around `body`.
 */
function rowsSource(body: string): string {
  return laneReduce(LN_LANES) + String.raw`
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let invC = 1.0 / f32(p.C);
  let lane = li % LANES;
  for (var r0 = wg.x * ROWS; r0 < p.N; r0 += nwg.x * ROWS) {
    let row = r0 + li / LANES;
    let live = row < p.N; // the last group's spare rows still take part in the barriers
    let base = row * p.C;
${body}
  }
}
`;
}

const FORWARD = rowsSource(String.raw`
    var s = 0.0;
    if (live) { for (var c = lane; c < p.C; c += LANES) { s += inp[base + c]; } }
    let m = laneSum2(vec2f(s, 0.0), li).x * invC;
    var v = 0.0;
    if (live) { for (var c = lane; c < p.C; c += LANES) { let d = inp[base + c] - m; v += d * d; } }
    let rs = 1.0 / sqrt(laneSum2(vec2f(v, 0.0), li).x * invC + p.eps);
    if (live) {
      for (var c = lane; c < p.C; c += LANES) {
        out[base + c] = (inp[base + c] - m) * rs * weight[c] + bias[c];
      }
      if (lane == 0u) {
        mean[row] = m;
        rstd[row] = rs;
      }
    }`);

/** Row elements each lane of `FORWARD_HELD` keeps in registers: rows up to 512 (MDM's C). */
const HELD = 16;

/**
 * The forward for rows of at most `LN_LANES * HELD` elements: each lane reads its elements
 * (lane, lane + 32, ...) once into registers (written out: no array that a driver could put in
 * memory) and the three passes run on them, in the same order as `FORWARD`: the same bits, one
 * read of the row instead of three.
 */
const FORWARD_HELD = (() => {
  const js = [...Array(HELD).keys()];
  const each = (f: (j: number) => string) => js.map(f).join("\n");
  return rowsSource(`
${each((j) => `    let ok${j} = live && lane + ${LN_LANES * j}u < p.C;`)}
${each((j) => `    var x${j} = 0.0;`)}
${each((j) => `    if (ok${j}) { x${j} = inp[base + lane + ${LN_LANES * j}u]; }`)}
    var s = 0.0;
${each((j) => `    if (ok${j}) { s += x${j}; }`)}
    let m = laneSum2(vec2f(s, 0.0), li).x * invC;
    var v = 0.0;
${each((j) => `    if (ok${j}) { let d = x${j} - m; v += d * d; }`)}
    let rs = 1.0 / sqrt(laneSum2(vec2f(v, 0.0), li).x * invC + p.eps);
${
    each((j) =>
      `    if (ok${j}) { let c = lane + ${LN_LANES * j}u; ` +
      `out[base + c] = (x${j} - m) * rs * weight[c] + bias[c]; }`
    )
  }
    if (live && lane == 0u) {
      mean[row] = m;
      rstd[row] = rs;
    }`);
})();

/** The largest C whose rows `FORWARD_HELD` keeps in registers. */
export const LN_HELD_C = LN_LANES * HELD;

/**
 * out (N, C), mean (N), rstd (N) from inp (N, C), weight (C), bias (C). Rows of at most
 * `LN_HELD_C` elements are read once (`held`, default when they fit), longer ones three times.
 */
export function layernormForwardKernel(
  out: GPUBuffer,
  mean: GPUBuffer,
  rstd: GPUBuffer,
  inp: GPUBuffer,
  weight: GPUBuffer,
  bias: GPUBuffer,
  N: number,
  C: number,
  eps: number,
  held = C <= LN_HELD_C,
): Kernel {
  if (held && C > LN_HELD_C) {
    throw new RangeError(`Cannot hold rows of ${C} elements in registers: at most ${LN_HELD_C}`);
  }
  return {
    name: held ? "layernorm_forward_held" : "layernorm_forward",
    code: held ? FORWARD_HELD : FORWARD,
    inputs: [
      { name: "inp", buffer: inp },
      { name: "weight", buffer: weight },
      { name: "bias", buffer: bias },
    ],
    outputs: [
      { name: "out", buffer: out },
      { name: "mean", buffer: mean },
      { name: "rstd", buffer: rstd },
    ],
    uniforms: [u32("N", N), u32("C", C), f32("eps", eps)],
    grid: gridRowGroups(N, LN_LANES),
  };
}

const BACKWARD_INPUT = rowsSource(String.raw`
    var m = 0.0;
    var rs = 0.0;
    // dnorm = weight * dout; dinp = (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) * rstd.
    var acc = vec2f(0.0, 0.0);
    if (live) {
      m = mean[row];
      rs = rstd[row];
      for (var c = lane; c < p.C; c += LANES) {
        let norm = (inp[base + c] - m) * rs;
        let dnorm = weight[c] * dout[base + c];
        acc = acc + vec2f(dnorm, dnorm * norm);
      }
    }
    let sums = laneSum2(acc, li) * invC;
    if (live) {
      for (var c = lane; c < p.C; c += LANES) {
        let norm = (inp[base + c] - m) * rs;
        let dnorm = weight[c] * dout[base + c];
        dinp[base + c] = (dnorm - sums.x - norm * sums.y) * rs;
      }
    }`);

/** dinp (N, C), overwritten, from dout (N, C), inp (N, C), weight (C), mean (N), rstd (N). */
export function layernormBackwardInputKernel(
  dinp: GPUBuffer,
  dout: GPUBuffer,
  inp: GPUBuffer,
  weight: GPUBuffer,
  mean: GPUBuffer,
  rstd: GPUBuffer,
  N: number,
  C: number,
): Kernel {
  return {
    name: "layernorm_backward_input",
    code: BACKWARD_INPUT,
    inputs: [
      { name: "dout", buffer: dout },
      { name: "inp", buffer: inp },
      { name: "weight", buffer: weight },
      { name: "mean", buffer: mean },
      { name: "rstd", buffer: rstd },
    ],
    outputs: [{ name: "dinp", buffer: dinp }],
    uniforms: [u32("N", N), u32("C", C)],
    grid: gridRowGroups(N, LN_LANES),
  };
}

const BACKWARD_PARAMS_PARTIAL = String.raw`
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let col = gid.x;
  if (col >= p.C) { return; }
  let r0 = wg.y * p.rows;
  let r1 = min(r0 + p.rows, p.N);
  var sw = 0.0;
  var sb = 0.0;
  for (var r = r0; r < r1; r++) {
    let d = dout[r * p.C + col];
    sw += d * ((inp[r * p.C + col] - mean[r]) * rstd[r]);
    sb += d;
  }
  pw[wg.y * p.C + col] = sw;
  pb[wg.y * p.C + col] = sb;
}
`;

/**
 * Pass 1 of dweight/dbias: per chunk of rows, `pw[k, c] = sum dout * norm`, `pb[k, c] = sum dout`,
 * pw and pb (chunks, C) with `chunks = columnChunks(N)`; pass 2 is `columnAccumulateKernel`.
 */
export function layernormParamsPartialKernel(
  pw: GPUBuffer,
  pb: GPUBuffer,
  dout: GPUBuffer,
  inp: GPUBuffer,
  mean: GPUBuffer,
  rstd: GPUBuffer,
  N: number,
  C: number,
): Kernel {
  return {
    name: "layernorm_backward_params_partial",
    code: BACKWARD_PARAMS_PARTIAL,
    inputs: [
      { name: "dout", buffer: dout },
      { name: "inp", buffer: inp },
      { name: "mean", buffer: mean },
      { name: "rstd", buffer: rstd },
    ],
    outputs: [{ name: "pw", buffer: pw }, { name: "pb", buffer: pb }],
    uniforms: [u32("N", N), u32("C", C), u32("rows", columnChunkRows(N))],
    grid: [Math.ceil(C / 64), columnChunks(N), 1],
  };
}
