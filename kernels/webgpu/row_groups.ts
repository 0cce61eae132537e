/**
 * Row reductions with several rows per workgroup: `lanes` threads share one row (a power of two
 * up to 256), so a workgroup of 256 threads works on 256 / lanes rows at once and one barrier
 * serves all of them. (One workgroup per row spends most of its time in barriers when rows are a
 * few hundred elements long: 7 to 8 tree levels per reduction for 2 to 3 elements per thread.)
 * The sums run in a fixed order (each lane strided over its row, then a fixed tree): deterministic.
 */
import { MAX_GROUPS } from "./kernel.ts";

/**
 * WGSL: `LANES` and `ROWS` (rows per workgroup) constants, and `laneSum2(v, li)` / `laneMax(v, li)`
 * returning the sum / maximum of `v` over the `LANES` threads of the calling thread's row (threads
 * `li - li % LANES ..`). Every thread of the workgroup must call them (uniform control flow).
 */
export function laneReduce(lanes: number): string {
  if (!Number.isInteger(Math.log2(lanes)) || lanes < 1 || lanes > 256) {
    throw new RangeError(`Lanes per row must be a power of two up to 256, got ${lanes}`);
  }
  // a fixed tree over the row's lanes of `red`, combining two vec2f entries with `combine`
  const tree = (name: string, combine: string) =>
    String.raw`
fn ${name}(v: vec2f, li: u32) -> vec2f {
  let lane = li % LANES;
  red[li] = v;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { red[li] = ${combine}; }
    workgroupBarrier();
  }
  let r = red[li - lane];
  workgroupBarrier();
  return r;
}`;
  return String.raw`
const LANES = ${lanes}u; // threads per row
const ROWS = ${256 / lanes}u; // rows per workgroup of 256
var<workgroup> red: array<vec2f, 256>;
${tree("laneSum2", "red[li] + red[li + s]")}
${tree("laneMax2", "max(red[li], red[li + s])")}
fn laneMax(v: f32, li: u32) -> f32 {
  return laneMax2(vec2f(v, 0.0), li).x;
}
`;
}

/** Grid for `rows` rows at 256 / `lanes` rows per workgroup, capped at 65535 (kernels loop). */
export function gridRowGroups(rows: number, lanes: number): [number, number, number] {
  return [Math.min(Math.ceil(rows / (256 / lanes)), MAX_GROUPS), 1, 1];
}
