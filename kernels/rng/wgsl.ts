/**
 * Philox-4x32-10 and Box-Muller normals, WGSL port of kernels/rng/philox.ts: the raw u32 blocks
 * are bit-identical to `philox4x32()`, the normals agree with `randnHost()` (float64) to ~1e-6.
 * Element e of a stream lives in block floor(e / 4) (counter (block, 0, 0, 0), key (seed, stream)),
 * lane e % 4; lanes (0, 1) and (2, 3) are Box-Muller pairs. One thread per block.
 */
import { gridStride, type Kernel, u32 } from "../webgpu/kernel.ts";

/**
 * Port of `mulhi32()` and `philox4x32()` in kernels/rng/philox.ts. WGSL has 32-bit integers only,
 * so the high word of the 64-bit product is assembled from 16-bit halves.
 */
export const WGSL_PHILOX = String.raw`
fn mulhi32(a: u32, b: u32) -> u32 {
  let aLo = a & 0xffffu;
  let aHi = a >> 16u;
  let bLo = b & 0xffffu;
  let bHi = b >> 16u;
  let lolo = aLo * bLo;
  let hilo = aHi * bLo;
  let lohi = aLo * bHi;
  let hihi = aHi * bHi;
  let mid = (lolo >> 16u) + (hilo & 0xffffu) + (lohi & 0xffffu);
  return hihi + (hilo >> 16u) + (lohi >> 16u) + (mid >> 16u);
}

fn philox4x32(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var i = 0u; i < 10u; i++) {
    let hi0 = mulhi32(0xD2511F53u, c.x);
    let lo0 = 0xD2511F53u * c.x;
    let hi1 = mulhi32(0xCD9E8D57u, c.z);
    let lo1 = 0xCD9E8D57u * c.z;
    c = vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2u(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}
`;

/**
 * Port of `randnHost()`'s Box-Muller pair in kernels/rng/philox.ts, in float32. ln(u) for u near 1
 * uses the series of ln(1 - d) (WGSL's log only promises absolute accuracy there, and sqrt(-2 ln u)
 * magnifies it); the angle is shifted to [-pi, pi), where WGSL's sin and cos are accurate.
 */
export const WGSL_BOX_MULLER = String.raw`
fn ln_open0(x: u32) -> f32 {
  // u = ((x >> 8) + 1) / 2^24 in (0, 1]; d = 1 - u exactly.
  let m = (x >> 8u) + 1u;
  let d = f32(16777216u - m) * (1.0 / 16777216.0);
  if (d < 0.0625) {
    return -d * (1.0 + d * (1.0 / 2.0 + d * (1.0 / 3.0 + d * (1.0 / 4.0 + d * (1.0 / 5.0 +
      d * (1.0 / 6.0 + d * (1.0 / 7.0 + d * (1.0 / 8.0))))))));
  }
  return log(f32(m) * (1.0 / 16777216.0));
}

// Two normals from two u32: (r cos(2 pi u_b), r sin(2 pi u_b)), r = sqrt(-2 ln u_a).
fn box_muller(xa: u32, xb: u32) -> vec2f {
  let r = sqrt(-2.0 * ln_open0(xa));
  // 2 pi u_b - pi in [-pi, pi); cos(t + pi) = -cos(t), sin(t + pi) = -sin(t).
  let t = 3.14159265358979 * (f32(xb >> 8u) * (1.0 / 8388608.0) - 1.0);
  return vec2f(-r * cos(t), -r * sin(t));
}
`;

const RANDN = WGSL_PHILOX + WGSL_BOX_MULLER + String.raw`
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let lane0 = p.offset & 3u;
  let blocks = (lane0 + p.n + 3u) / 4u;
  for (var j = gid.x; j < blocks; j += nwg.x * 256u) {
    let x = philox4x32(vec4u((p.offset >> 2u) + j, 0u, 0u, 0u), vec2u(p.seed, p.stream));
    let z01 = box_muller(x.x, x.y);
    let z23 = box_muller(x.z, x.w);
    var z = array<f32, 4>(z01.x, z01.y, z23.x, z23.y);
    for (var l = 0u; l < 4u; l++) {
      let e = j * 4u + l;
      if (e >= lane0 && e - lane0 < p.n) { out[e - lane0] = z[l]; }
    }
  }
}
`;

/** out (n) = standard normals at elements [offset, offset + n) of stream (seed, stream). */
export function randnKernel(
  out: GPUBuffer,
  n: number,
  seed: number,
  stream: number,
  offset: number,
): Kernel {
  return {
    name: "randn",
    code: RANDN,
    inputs: [],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("n", n), u32("seed", seed), u32("stream", stream), u32("offset", offset)],
    grid: gridStride(Math.ceil(((offset % 4) + n) / 4)),
  };
}

const PHILOX_DEBUG = WGSL_PHILOX + String.raw`
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var j = gid.x; j < p.blocks; j += nwg.x * 256u) {
    let x = philox4x32(vec4u(p.first + j, 0u, 0u, 0u), vec2u(p.seed, p.stream));
    out[4u * j] = x.x;
    out[4u * j + 1u] = x.y;
    out[4u * j + 2u] = x.z;
    out[4u * j + 3u] = x.w;
  }
}
`;

/** Debug: the raw u32 Philox blocks `first .. first + blocks` of (seed, stream), out (4 * blocks). */
export function philoxDebugKernel(
  out: GPUBuffer,
  blocks: number,
  first: number,
  seed: number,
  stream: number,
): Kernel {
  return {
    name: "philox_debug",
    code: PHILOX_DEBUG,
    inputs: [],
    outputs: [{ name: "out", buffer: out, type: "u32" }],
    uniforms: [
      u32("blocks", blocks),
      u32("first", first),
      u32("seed", seed),
      u32("stream", stream),
    ],
    grid: gridStride(blocks),
  };
}
