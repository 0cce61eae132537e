/**
 * Physics penalty, WGSL: one workgroup of 32 threads per sample (grid-stride over samples), one
 * thread per joint. Each thread scans the valid frames in order, accumulating the root yaw itself
 * (the same float32 sums in every thread, so no sharing is needed), and keeps its joint's last two
 * displacements for the third difference; foot threads first find their lowest point, then sum
 * the contact-weighted speeds. The per-joint partial sums meet in workgroup memory and thread 0
 * adds them in joint order: deterministic, no atomics. Formulas and output layout: the CPU twin,
 * kernels/physics/cpu.ts.
 */
import { f32, gridRows, type Kernel, u32 } from "../webgpu/kernel.ts";
import type { PhysicsParams } from "./cpu.ts";

/** Most joints one workgroup handles (its size). */
export const PHYSICS_MAX_JOINTS = 32;

const PHYSICS = String.raw`
var<workgroup> partJerk: array<f32, 32>;
var<workgroup> partNum: array<f32, 32>;
var<workgroup> partDen: array<f32, 32>;
var<workgroup> partBad: array<u32, 32>;

// Exponent bits all ones: inf or NaN. Bit test, since compilers may fold x != x away.
fn nonFinite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn chan(b: u32, t: u32, c: u32) -> f32 {
  return feat[(b * p.T + t) * p.F + c] * stdv[c] + meanv[c];
}

// Root-relative position of joint j at frame t (metres), rotated by the yaw (c2, s2).
fn offsetOf(b: u32, t: u32, j: u32, c2: f32, s2: f32) -> vec3f {
  if (j == 0u) {
    return vec3f(0.0, chan(b, t, 3u) * p.unit, 0.0);
  }
  let c = 4u + 3u * (j - 1u);
  let x = chan(b, t, c);
  let y = chan(b, t, c + 1u);
  let z = chan(b, t, c + 2u);
  return vec3f(c2 * x - s2 * z, y, s2 * x + c2 * z) * p.unit;
}

fn badOffset(b: u32, t: u32, j: u32) -> bool {
  if (j == 0u) {
    return nonFinite(chan(b, t, 3u));
  }
  let c = 4u + 3u * (j - 1u);
  return nonFinite(chan(b, t, c)) || nonFinite(chan(b, t, c + 1u)) || nonFinite(chan(b, t, c + 2u));
}

@compute @workgroup_size(32)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let j = lid.x;
  let isFoot = j == p.foot0 || j == p.foot1 || j == p.foot2 || j == p.foot3;
  let fps3 = p.fps * p.fps * p.fps;
  for (var b = wid.x; b < p.B; b += nwg.x) {
    let L = min(u32(max(lengths[b], 0.0)), p.T);
    var bad = false;
    var jerkSum = 0.0;
    var num = 0.0;
    var den = 0.0;
    if (j < p.J) {
      // The joint's lowest point over the valid frames (its height does not depend on the yaw).
      var low = 3.0e38;
      if (isFoot) {
        for (var t = 0u; t < L; t++) {
          low = min(low, offsetOf(b, t, j, 1.0, 0.0).y);
        }
      }
      var a = 0.0;
      var prev = vec3f(0.0);
      var d1 = vec3f(0.0); // D[t-2]
      var d2 = vec3f(0.0); // D[t-3]
      for (var t = 0u; t < L; t++) {
        if (t > 0u) {
          let yaw = chan(b, t - 1u, 0u);
          bad = bad || nonFinite(yaw);
          a += yaw;
        }
        let c2 = cos(2.0 * a);
        let s2 = sin(2.0 * a);
        let o = offsetOf(b, t, j, c2, s2);
        bad = bad || badOffset(b, t, j);
        if (t > 0u) {
          // Row t-1's velocity, rotated by frame t's yaw, moves the root from t-1 to t.
          let vx = chan(b, t - 1u, 1u);
          let vz = chan(b, t - 1u, 2u);
          bad = bad || nonFinite(vx) || nonFinite(vz);
          let D = o - prev + vec3f(c2 * vx - s2 * vz, 0.0, s2 * vx + c2 * vz) * p.unit;
          if (isFoot) {
            let h = max(prev.y, o.y) - low;
            let w = 1.0 / (1.0 + exp(min((h - p.hThr) / p.hWidth, 80.0)));
            num += w * length(D.xz) * p.fps;
            den += w;
          }
          if (t >= 3u) {
            jerkSum += length(D - 2.0 * d1 + d2) * fps3;
          }
          d2 = d1;
          d1 = D;
        }
        prev = o;
      }
    }
    partJerk[j] = jerkSum;
    partNum[j] = num;
    partDen[j] = den;
    partBad[j] = select(0u, 1u, bad);
    workgroupBarrier();
    if (j == 0u) {
      var js = 0.0;
      var ns = 0.0;
      var ds = 0.0;
      var anyBad = 0u;
      for (var k = 0u; k < 32u; k++) {
        js += partJerk[k];
        ns += partNum[k];
        ds += partDen[k];
        anyBad = anyBad | partBad[k];
      }
      let skate = select(0.0, ns / ds, ds > 0.0);
      let jerk = select(0.0, js / f32((L - 3u) * p.J), L >= 4u);
      let r = exp(-p.lambdaSkate * skate / p.sSkate - p.lambdaJerk * jerk / p.sJerk);
      let nan = bitcast<f32>(0x7fc00000u);
      out[4u * b] = select(r, nan, anyBad != 0u);
      out[4u * b + 1u] = select(skate, nan, anyBad != 0u);
      out[4u * b + 2u] = select(jerk, nan, anyBad != 0u);
      out[4u * b + 3u] = f32(anyBad);
    }
    // Thread 0 must finish reading before the next sample overwrites the partial sums.
    workgroupBarrier();
  }
}
`;

/**
 * The physics penalty of B samples: `out` (B, 4) receives `[R, L_skate, L_jerk, nonFinite]`.
 *
 * @param features (B, T, F) normalised
 * @param mean (F)
 * @param std (F)
 * @param lengths (B) valid frames, as float32 integers
 */
export function physicsPenaltyKernel(
  out: GPUBuffer, // (B, 4)
  features: GPUBuffer, // (B, T, F)
  mean: GPUBuffer, // (F)
  std: GPUBuffer, // (F)
  lengths: GPUBuffer, // (B)
  B: number,
  T: number,
  F: number,
  p: PhysicsParams,
): Kernel {
  if (p.joints < 1 || p.joints > PHYSICS_MAX_JOINTS) {
    throw new RangeError(
      `Cannot build the physics kernel: ${p.joints} joints, at most ${PHYSICS_MAX_JOINTS} supported`,
    );
  }
  return {
    name: "physics_penalty",
    code: PHYSICS,
    inputs: [
      { name: "feat", buffer: features },
      { name: "meanv", buffer: mean },
      { name: "stdv", buffer: std },
      { name: "lengths", buffer: lengths },
    ],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [
      u32("B", B),
      u32("T", T),
      u32("F", F),
      u32("J", p.joints),
      u32("foot0", p.feet[0]),
      u32("foot1", p.feet[1]),
      u32("foot2", p.feet[2]),
      u32("foot3", p.feet[3]),
      f32("fps", p.fps),
      f32("unit", p.metresPerUnit),
      f32("hThr", p.contactHeight),
      f32("hWidth", p.contactWidth),
      f32("lambdaSkate", p.lambdaSkate),
      f32("lambdaJerk", p.lambdaJerk),
      f32("sSkate", p.skateScale),
      f32("sJerk", p.jerkScale),
    ],
    grid: gridRows(B),
  };
}
