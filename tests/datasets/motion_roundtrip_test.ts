import assert from "node:assert/strict";
import { jointsToFeatures } from "../../datasets/motion/process.ts";
import {
  recoverFromRic,
  recoverFromRot,
  recoverRootRotPos,
} from "../../datasets/motion/recover.ts";
import {
  KIT,
  KIT_BONE_LENGTHS,
  type SkeletonSpec,
  T2M,
  T2M_BONE_LENGTHS,
} from "../../datasets/motion/skeleton.ts";
import { uniformSkeleton } from "../../datasets/motion/uniform_skeleton.ts";
import { assertClose } from "../_util.ts";
import { boneLengths, syntheticWalk } from "./motion_util.ts";

const CASES: [SkeletonSpec, readonly number[], number][] = [
  [T2M, T2M_BONE_LENGTHS, 1], // metres
  [KIT, KIT_BONE_LENGTHS, 1000], // millimetres
];

function walk(spec: SkeletonSpec, lengths: readonly number[], unit: number, T = 60) {
  return syntheticWalk(spec, {
    T,
    lengths,
    heading: 0.7,
    offset: [1.3 * unit, 0.02 * unit, -0.4 * unit],
  });
}

function frames(x: Float32Array, from: number, to: number, width: number): Float32Array {
  return x.subarray(from * width, to * width);
}

for (const [spec, lengths, unit] of CASES) {
  const J = spec.joints, F = spec.nfeats;

  Deno.test(`syntheticWalk() keeps the ${spec.name} bone lengths`, () => {
    const T = 60;
    const L = boneLengths(walk(spec, lengths, unit, T), T, spec);
    const expected = new Float64Array(T * J);
    for (let t = 0; t < T; t++) for (let j = 0; j < J; j++) expected[t * J + j] = lengths[j];
    assertClose(L, expected, 1e-5 * unit, 1e-5, "bone lengths");
  });

  Deno.test(`jointsToFeatures() puts the ${spec.name} walk on the floor, at the origin, facing +Z`, () => {
    const T = 60;
    const p = jointsToFeatures(walk(spec, lengths, unit, T), T, spec, { uniformSkeleton: false });
    assert.equal(p.features.length, (T - 1) * F);
    assert.equal(p.joints.length, T * J * 3);
    let minY = Infinity;
    for (let i = 0; i < T * J; i++) minY = Math.min(minY, p.joints[3 * i + 1]);
    assertClose([minY, p.joints[0], p.joints[2]], [0, 0, 0], 1e-5 * unit, 0, "floor and origin");
    // Facing: right hip minus left hip (plus shoulders) points to -X when facing +Z.
    const [rh, lh] = spec.faceJoints;
    const acrossZ = p.joints[3 * rh + 2] - p.joints[3 * lh + 2];
    assertClose([acrossZ], [0], 1e-5 * unit, 0, "hips across has no z at frame 0");
    // The walk moves forward: along -X of the across vector's perpendicular, i.e. root z grows
    // for t2m (toes and facing agree) and shrinks for KIT (its rest pose faces -Z by that rule).
    const dz = p.joints[(T - 1) * J * 3 + 2] - p.joints[2];
    assert.ok(Math.abs(dz) > 2 * unit, `root travelled only ${dz} along z`);
    // Root rotation of frame 0 is identity by construction.
    assertClose(p.rootQuat.subarray(0, 4), [1, 0, 0, 0], 1e-7, 0, "rootQuat[0]");
  });

  Deno.test(`recoverFromRic() inverts jointsToFeatures() on the ${spec.name} walk`, () => {
    const T = 60;
    const p = jointsToFeatures(walk(spec, lengths, unit, T), T, spec, { uniformSkeleton: false });
    const rec = recoverFromRic(p.features, T - 1, spec); // (T-1, J, 3)
    assertClose(rec, frames(p.joints, 0, T - 1, J * 3), 1e-4 * unit, 0, "recovered joints");
    const root = recoverRootRotPos(p.features, T - 1, F);
    assertClose(root.rotQuat, p.rootQuat.subarray(0, 4 * (T - 1)), 1e-5, 0, "root rotation");
  });

  Deno.test(`recoverFromRot() agrees with recoverFromRic() on the ${spec.name} walk`, () => {
    const T = 60;
    const p = jointsToFeatures(walk(spec, lengths, unit, T), T, spec, { uniformSkeleton: false });
    const fromRot = recoverFromRot(p.features, T - 1, spec, lengths);
    assertClose(fromRot, recoverFromRic(p.features, T - 1, spec), 1e-4 * unit, 0, "joints");
  });

  Deno.test(`recoverFromRic() keeps ${spec.name} bone lengths within 1%`, () => {
    const T = 60;
    const p = jointsToFeatures(walk(spec, lengths, unit, T), T, spec, { uniformSkeleton: false });
    const rec = recoverFromRic(p.features, T - 1, spec);
    const L = boneLengths(rec, T - 1, spec);
    const expected = new Float64Array((T - 1) * J);
    for (let t = 0; t < T - 1; t++) for (let j = 0; j < J; j++) expected[t * J + j] = lengths[j];
    assertClose(L, expected, 0, 0.01, "bone lengths");
  });

  Deno.test(`jointsToFeatures() round-trips ${spec.name} features through joints`, () => {
    const T = 60;
    const p = jointsToFeatures(walk(spec, lengths, unit, T), T, spec, { uniformSkeleton: false });
    const rec = recoverFromRic(p.features, T - 1, spec); // (T-1, J, 3)
    const q = jointsToFeatures(rec, T - 1, spec, { uniformSkeleton: false }); // (T-2, F)
    // Positions and velocities carry the unit (float32 at 3000 mm is only good to ~2e-4 mm);
    // the yaw velocity, rotations and contacts do not.
    const rot0 = 4 + 3 * (J - 1), rot1 = rot0 + 6 * (J - 1);
    for (
      const [from, to, atol] of [[0, 1, 1e-4], [1, rot0, 1e-4 * unit], [rot0, rot1, 1e-4], [
        rot1,
        F - 4,
        1e-4 * unit,
      ], [F - 4, F, 0]]
    ) {
      const got: number[] = [], want: number[] = [];
      for (let t = 0; t < T - 2; t++) {
        for (let c = from; c < to; c++) {
          got.push(q.features[t * F + c]);
          want.push(p.features[t * F + c]);
        }
      }
      assertClose(got, want, atol, 0, `features [${from}:${to}]`);
    }
  });
}

Deno.test("jointsToFeatures() rescales a larger t2m skeleton to the target bone lengths", () => {
  const T = 40;
  const big = syntheticWalk(T2M, { T, lengths: T2M_BONE_LENGTHS.map((l) => 1.1 * l) });
  const p = jointsToFeatures(big, T, T2M); // uniformSkeleton defaults to true for T2M
  const L = boneLengths(p.joints, T, T2M);
  const expected = new Float64Array(T * 22);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < 22; j++) expected[t * 22 + j] = T2M_BONE_LENGTHS[j];
  }
  assertClose(L, expected, 1e-5, 1e-5, "bone lengths after rescaling");
  // On the target lengths already, rescaling changes nothing.
  const same = syntheticWalk(T2M, { T, lengths: T2M_BONE_LENGTHS, heading: -2 });
  assertClose(uniformSkeleton(same, T, T2M, T2M_BONE_LENGTHS), same, 1e-5, 0, "no-op rescale");
});

Deno.test("jointsToFeatures() rejects a joints array of the wrong size", () => {
  assert.throws(
    () => jointsToFeatures(new Float32Array(10 * 21 * 3), 10, T2M),
    /Cannot compute motion features: joints have length 630, expected T=10/,
  );
  assert.throws(() => recoverFromRic(new Float32Array(262), 1, T2M), RangeError);
  assert.throws(
    () => jointsToFeatures(new Float32Array(2 * 22 * 3), 2, T2M, { uniformSkeleton: false }),
    /the facing of frame 0 is undefined/,
  );
  assert.throws(
    () => jointsToFeatures(new Float32Array(2 * 21 * 3), 2, KIT, { uniformSkeleton: true }),
    /has no boneLengths/,
  );
});
