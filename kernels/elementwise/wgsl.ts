/**
 * Element-wise and row kernels, WGSL: fill, strided 2-D copy, axpby, periodic (broadcast) add,
 * row scaling, weighted row sum of squared differences, row gather. Grid-stride loops over
 * 256-thread workgroups; the row reduction uses one workgroup per row with a fixed-order tree.
 * CPU twin: kernels/elementwise/cpu.ts.
 */
import { f32, gridStride, type Kernel, MAX_GROUPS, u32 } from "../webgpu/kernel.ts";

function loop(count: string, body: string): string {
  return String.raw`
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < ${count}; i += nwg.x * 256u) {
    ${body}
  }
}
`;
}

const FILL = loop("p.n", "out[i] = p.value;");

/** `out[0..n) = value`. */
export function fillKernel(out: GPUBuffer, value: number, n: number): Kernel {
  return {
    name: "fill",
    code: FILL,
    inputs: [],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("n", n), f32("value", value)],
    grid: gridStride(n),
  };
}

const COPY2D = loop(
  "p.rows * p.cols",
  "let r = i / p.cols; let c = i % p.cols; " +
    "dst[p.dstOffset + r * p.dstStride + c] = src[p.srcOffset + r * p.srcStride + c];",
);

/** `dst[dstOffset + r*dstStride + c] = src[srcOffset + r*srcStride + c]` for (rows, cols). */
export function copy2dKernel(
  dst: GPUBuffer,
  src: GPUBuffer,
  rows: number,
  cols: number,
  dstStride: number,
  dstOffset: number,
  srcStride: number,
  srcOffset: number,
): Kernel {
  return {
    name: "copy2d",
    code: COPY2D,
    inputs: [{ name: "src", buffer: src }],
    outputs: [{ name: "dst", buffer: dst }],
    uniforms: [
      u32("rows", rows),
      u32("cols", cols),
      u32("dstStride", dstStride),
      u32("dstOffset", dstOffset),
      u32("srcStride", srcStride),
      u32("srcOffset", srcOffset),
    ],
    grid: gridStride(rows * cols),
  };
}

// One source per aliasing pattern: WebGPU cannot bind a buffer both read-only and writable, so an
// aliased operand is read through `out` itself (the in-place residual add costs no copy).
const AXPBY = {
  none: loop("p.n", "out[i] = p.alpha * a[i] + p.beta * b[i];"),
  a: loop("p.n", "out[i] = p.alpha * out[i] + p.beta * b[i];"),
  b: loop("p.n", "out[i] = p.alpha * a[i] + p.beta * out[i];"),
  both: loop("p.n", "let x = out[i]; out[i] = p.alpha * x + p.beta * x;"),
};

/** `out[i] = alpha a[i] + beta b[i]` over n; `out` may be `a` and/or `b`. */
export function axpbyKernel(
  out: GPUBuffer,
  a: GPUBuffer,
  alpha: number,
  b: GPUBuffer,
  beta: number,
  n: number,
): Kernel {
  const aliasA = a === out, aliasB = b === out;
  const mode = aliasA ? (aliasB ? "both" : "a") : aliasB ? "b" : "none";
  const inputs = [];
  if (!aliasA) inputs.push({ name: "a", buffer: a });
  if (!aliasB) inputs.push({ name: "b", buffer: b });
  return {
    name: `axpby_${mode}`,
    code: AXPBY[mode],
    inputs,
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("n", n), f32("alpha", alpha), f32("beta", beta)],
    grid: gridStride(n),
  };
}

const ADD_PERIODIC = {
  copy: loop("p.n", "out[i] = inp[i] + row[i % p.period];"),
  inPlace: loop("p.n", "out[i] = out[i] + row[i % p.period];"),
};

/** `out[i] = inp[i] + row[i % period]` over n; `out` may be `inp`. */
export function addPeriodicKernel(
  out: GPUBuffer,
  inp: GPUBuffer,
  row: GPUBuffer,
  n: number,
  period: number,
): Kernel {
  const inPlace = out === inp;
  return {
    name: "add_periodic",
    code: inPlace ? ADD_PERIODIC.inPlace : ADD_PERIODIC.copy,
    inputs: inPlace ? [{ name: "row", buffer: row }] : [
      { name: "inp", buffer: inp },
      { name: "row", buffer: row },
    ],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("n", n), u32("period", period)],
    grid: gridStride(n),
  };
}

const SCALE_ROWS = {
  copy: loop("p.R * p.C", "out[i] = inp[i] * s[i / p.C];"),
  inPlace: loop("p.R * p.C", "out[i] = out[i] * s[i / p.C];"),
};

/** `out[r, c] = inp[r, c] * s[r]` over (R, C); `out` may be `inp`. */
export function scaleRowsKernel(
  out: GPUBuffer,
  inp: GPUBuffer,
  s: GPUBuffer,
  R: number,
  C: number,
): Kernel {
  const inPlace = out === inp;
  return {
    name: "scale_rows",
    code: inPlace ? SCALE_ROWS.inPlace : SCALE_ROWS.copy,
    inputs: inPlace ? [{ name: "s", buffer: s }] : [
      { name: "inp", buffer: inp },
      { name: "s", buffer: s },
    ],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("R", R), u32("C", C)],
    grid: gridStride(R * C),
  };
}

/**
 * Columns per workgroup of `rowSumSqDiffKernel`: a long row is summed in chunks by separate
 * workgroups (a few rows of a whole motion each would leave most of the GPU idle), and
 * `rowChunkSumKernel` adds the chunks of a row in order.
 */
export const ROW_CHUNK = 4096;

const ROW_SUM_SQ_DIFF = String.raw`
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let chunks = nwg.x;
  let c0 = wg.x * ${ROW_CHUNK}u;
  let c1 = min(p.C, c0 + ${ROW_CHUNK}u);
  for (var r = wg.y; r < p.R; r += nwg.y) {
    let base = r * p.C;
    var s = 0.0;
    for (var c = c0 + li; c < c1; c += 256u) {
      let d = a[base + c] - b[base + c];
      let w = select(1.0, wt[base + c], p.hasW != 0u);
      s += w * d * d;
    }
    red[li] = s;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
      if (li < k) { red[li] = red[li] + red[li + k]; }
      workgroupBarrier();
    }
    if (li == 0u) { out[r * chunks + wg.x] = red[0]; }
    workgroupBarrier();
  }
}
`;

/**
 * `out[r, k] = sum over chunk k of row r of w (a - b)^2`, (R, C) → (R, chunks) with
 * `chunks = ceil(C / ROW_CHUNK)`: with one chunk, `out` is the (R) result itself; `hasW` false:
 * w = 1 (`w` is then a placeholder and is not read).
 */
export function rowSumSqDiffKernel(
  out: GPUBuffer,
  a: GPUBuffer,
  b: GPUBuffer,
  w: GPUBuffer,
  hasW: boolean,
  R: number,
  C: number,
): Kernel {
  return {
    name: "row_sum_sq_diff",
    code: ROW_SUM_SQ_DIFF,
    inputs: [{ name: "a", buffer: a }, { name: "b", buffer: b }, { name: "wt", buffer: w }],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("R", R), u32("C", C), u32("hasW", hasW ? 1 : 0)],
    grid: [Math.max(1, Math.ceil(C / ROW_CHUNK)), Math.min(Math.max(R, 1), MAX_GROUPS), 1],
  };
}

const ROW_CHUNK_SUM = loop(
  "p.R",
  "var s = 0.0; for (var k = 0u; k < p.chunks; k++) { s += part[i * p.chunks + k]; } out[i] = s;",
);

/** `out[r] = sum_k part[r, k]` in chunk order over (R, chunks). */
export function rowChunkSumKernel(
  out: GPUBuffer,
  part: GPUBuffer,
  R: number,
  chunks: number,
): Kernel {
  return {
    name: "row_chunk_sum",
    code: ROW_CHUNK_SUM,
    inputs: [{ name: "part", buffer: part }],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("R", R), u32("chunks", chunks)],
    grid: gridStride(R),
  };
}

const GATHER_ROWS = loop(
  "p.R * p.C",
  "let r = i / p.C; let c = i % p.C; out[i] = table[u32(index[r]) * p.C + c];",
);

/** `out[r, c] = table[index[r], c]` for r < R; index (R) is an i32 buffer. */
export function gatherRowsKernel(
  out: GPUBuffer,
  table: GPUBuffer,
  index: GPUBuffer,
  R: number,
  C: number,
): Kernel {
  return {
    name: "gather_rows",
    code: GATHER_ROWS,
    inputs: [{ name: "table", buffer: table }, { name: "index", buffer: index, type: "i32" }],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("R", R), u32("C", C)],
    grid: gridStride(R * C),
  };
}
