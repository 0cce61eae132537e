/**
 * Multi-head attention pieces, WGSL. The products (Q K^T, att V and their backward) are strided
 * GEMM dispatches inside qkv (B, T, 3C) (kernels/gemm/wgsl.ts); this file holds the row kernels
 * on att (B, NH, T, T): the key-masked softmax (in place on the scaled scores) and its backward
 * (in place on datt). 16 threads per row, 16 rows per workgroup, fixed-order tree reductions
 * (kernels/webgpu/row_groups.ts).
 * CPU twin: kernels/attention/cpu.ts.
 */
import { type Kernel, u32 } from "../webgpu/kernel.ts";
import { gridRowGroups, laneReduce } from "../webgpu/row_groups.ts";

/** Threads per row: about 12 keys each at the MDM's 197 tokens. */
const SOFTMAX_LANES = 16;

/**
 * A masked-softmax kernel: the key test, and the loop over rows (each with its batch entry `b`,
 * offset `base`, lane and `live` flag) around `body`.
 */
function softmaxSource(body: string): string {
  return laneReduce(SOFTMAX_LANES) + String.raw`
// Key s of batch entry b takes part unless the mask says padded.
fn valid(b: u32, s: u32) -> bool {
  return p.hasMask == 0u || mask[b * p.T + s] != 0.0;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let rows = p.B * p.NH * p.T;
  let lane = li % LANES;
  for (var r0 = wg.x * ROWS; r0 < rows; r0 += nwg.x * ROWS) {
    let row = r0 + li / LANES;
    let live = row < rows; // the last group's spare rows still take part in the barriers
    let b = row / (p.NH * p.T);
    let base = row * p.T;
${body}
  }
}
`;
}

const SOFTMAX = softmaxSource(String.raw`
    var mx = -3.4028235e38;
    var found = 0.0;
    if (live) {
      for (var s = lane; s < p.T; s += LANES) {
        if (valid(b, s)) { mx = max(mx, att[base + s]); found = 1.0; }
      }
    }
    mx = laneMax(mx, li);
    var sum = 0.0;
    if (live) {
      for (var s = lane; s < p.T; s += LANES) {
        if (valid(b, s)) { sum += exp(att[base + s] - mx); }
      }
    }
    // .y: whether any key of the row is valid (the sum of 0/1 flags)
    let total = laneSum2(vec2f(sum, found), li);
    if (live) {
      for (var s = lane; s < p.T; s += LANES) {
        // A row whose keys are all padded gets zeros, not 0/0.
        if (total.y > 0.0 && valid(b, s)) {
          att[base + s] = exp(att[base + s] - mx) / total.x;
        } else {
          att[base + s] = 0.0;
        }
      }
    }`);

/** Keys each lane of `SOFTMAX_HELD` keeps in registers: rows up to 208 (MDM's 197 tokens). */
const HELD = 13;

/** The longest rows `SOFTMAX_HELD` keeps in registers. */
export const SOFTMAX_HELD_T = SOFTMAX_LANES * HELD;

/**
 * `SOFTMAX` for rows of at most `SOFTMAX_HELD_T` keys: each lane reads its scores and mask
 * entries once into registers (written out, no array) and keeps exp(s - max) for the last pass:
 * the same operations in the same order, one read of the row instead of three.
 */
const SOFTMAX_HELD = (() => {
  const js = [...Array(HELD).keys()];
  const each = (f: (j: number) => string) => js.map(f).join("\n");
  const at = (j: number) => `lane + ${SOFTMAX_LANES * j}u`;
  return softmaxSource(`
${each((j) => `    let in${j} = live && ${at(j)} < p.T;`)}
${each((j) => `    var x${j} = 0.0;\n    var v${j} = false;`)}
${each((j) => `    if (in${j}) { x${j} = att[base + ${at(j)}]; v${j} = valid(b, ${at(j)}); }`)}
    var mx = -3.4028235e38;
    var found = 0.0;
${each((j) => `    if (v${j}) { mx = max(mx, x${j}); found = 1.0; }`)}
    mx = laneMax(mx, li);
    var sum = 0.0;
${each((j) => `    var e${j} = 0.0;\n    if (v${j}) { e${j} = exp(x${j} - mx); sum += e${j}; }`)}
    let total = laneSum2(vec2f(sum, found), li);
${
    each((j) =>
      `    if (in${j}) { att[base + ${
        at(j)
      }] = select(0.0, e${j} / total.x, total.y > 0.0 && v${j}); }`
    )
  }`);
})();

/**
 * In place on att (B, NH, T, T) holding scaled scores: softmax over the last axis with keys
 * masked by keyMask (B, T) (`hasMask` false: `mask` is a placeholder and is not read). Rows of
 * at most `SOFTMAX_HELD_T` keys are read once (`held`, default when they fit).
 */
export function maskedSoftmaxKernel(
  att: GPUBuffer,
  mask: GPUBuffer,
  hasMask: boolean,
  B: number,
  NH: number,
  T: number,
  held = T <= SOFTMAX_HELD_T,
): Kernel {
  if (held && T > SOFTMAX_HELD_T) {
    throw new RangeError(`Cannot hold rows of ${T} keys in registers: at most ${SOFTMAX_HELD_T}`);
  }
  return {
    name: held ? "attention_softmax_held" : "attention_softmax",
    code: held ? SOFTMAX_HELD : SOFTMAX,
    inputs: [{ name: "mask", buffer: mask }],
    outputs: [{ name: "att", buffer: att }],
    uniforms: [u32("B", B), u32("NH", NH), u32("T", T), u32("hasMask", hasMask ? 1 : 0)],
    grid: gridRowGroups(B * NH * T, SOFTMAX_LANES),
  };
}

const SOFTMAX_BACKWARD = laneReduce(SOFTMAX_LANES) + String.raw`
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let lane = li % LANES;
  for (var r0 = wg.x * ROWS; r0 < p.rows; r0 += nwg.x * ROWS) {
    let row = r0 + li / LANES;
    let live = row < p.rows;
    let base = row * p.T;
    var dot = 0.0;
    if (live) { for (var s = lane; s < p.T; s += LANES) { dot += att[base + s] * datt[base + s]; } }
    dot = laneSum2(vec2f(dot, 0.0), li).x;
    if (live) {
      for (var s = lane; s < p.T; s += LANES) {
        datt[base + s] = att[base + s] * (datt[base + s] - dot);
      }
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
    grid: gridRowGroups(rows, SOFTMAX_LANES),
  };
}
