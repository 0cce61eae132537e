import assert from "node:assert/strict";
import { jointsToFeatures } from "../../datasets/motion/process.ts";
import {
  recoverFromRic,
  recoverFromRot,
  recoverRootRotPos,
} from "../../datasets/motion/recover.ts";
import { KIT, KIT_BONE_LENGTHS, specForFeatures, T2M } from "../../datasets/motion/skeleton.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { loadNpy, npyToFloat32 } from "../../datasets/npy.ts";
import { assertClose, hasTorch, runPython, tempDir } from "../_util.ts";
import { readF32, readFixture, syntheticWalk, writeF32 } from "./motion_util.ts";

// Fixtures written by the independent numpy reference: `python3 tools/motion_ref.py make-golden
// tests/golden/motion`. Tolerance: atol 1e-5 + rtol 1e-5 (KIT positions are in millimetres).
const ATOL = 1e-5, RTOL = 1e-5;

for (const kind of ["t2m", "kit"]) {
  Deno.test(`recoverFromRic() matches the numpy reference (${kind})`, () => {
    const { meta, arrays } = readFixture(`recover_${kind}`);
    const [T, F] = arrays.features.shape;
    assert.equal(meta.T, T);
    const spec = specForFeatures(F);
    assertClose(
      recoverFromRic(arrays.features.data, T, spec),
      arrays.joints.data,
      ATOL,
      RTOL,
      "joints",
    );
    const root = recoverRootRotPos(arrays.features.data, T, F);
    assertClose(root.rotQuat, arrays.rot_quat.data, ATOL, RTOL, "rotQuat");
    assertClose(root.rootPos, arrays.root_pos.data, ATOL, RTOL, "rootPos");
  });

  Deno.test(`jointsToFeatures() matches the numpy reference (${kind})`, () => {
    const { meta, arrays } = readFixture(`process_${kind}`);
    const spec = kind === "t2m" ? T2M : KIT;
    const T = arrays.input.shape[0];
    const p = jointsToFeatures(arrays.input.data, T, spec, {
      uniformSkeleton: meta.uniform === true,
    });
    assertClose(p.joints, arrays.joints.data, ATOL, RTOL, "processed joints");
    assertClose(p.features, arrays.features.data, ATOL, RTOL, "features");
  });
}

// HumanML3D's own processed sample 012314 (new_joints/012314.npy and new_joint_vecs/012314.npy,
// made by the public pipeline in float32). HumanML3D may not be redistributed, so it is read from
// the user's copy: set HUMANML3D_DIR to a HumanML3D root to run these checks.
const HML_DIR = Deno.env.get("HUMANML3D_DIR");
const hmlIgnore = !HML_DIR;

async function readHmlSample() {
  const joints = await loadNpy(`${HML_DIR}/new_joints/012314.npy`);
  const features = await loadNpy(`${HML_DIR}/new_joint_vecs/012314.npy`);
  return {
    arrays: {
      joints: { shape: joints.shape, data: npyToFloat32(joints) },
      features: { shape: features.shape, data: npyToFloat32(features) },
    },
  };
}
Deno.test({
  name: "recoverFromRic() reproduces HumanML3D's new_joints sample",
  ignore: hmlIgnore,
}, async () => {
  const { arrays } = await readHmlSample();
  const T = arrays.features.shape[0];
  assertClose(
    recoverFromRic(arrays.features.data, T, T2M),
    arrays.joints.data,
    1e-5,
    1e-5,
    "joints",
  );
});

Deno.test({
  name: "recoverFromRot() reproduces HumanML3D's new_joints sample on the target skeleton",
  ignore: hmlIgnore,
}, async () => {
  const { arrays } = await readHmlSample();
  const T = arrays.features.shape[0];
  // The 6D rotations and T2M_BONE_LENGTHS (measured on this sample) rebuild the same joints.
  assertClose(recoverFromRot(arrays.features.data, T, T2M), arrays.joints.data, 1e-5, 0, "joints");
});

Deno.test({
  name: "jointsToFeatures() reproduces HumanML3D's new_joint_vecs sample",
  ignore: hmlIgnore,
}, async () => {
  const { arrays } = await readHmlSample();
  const T = arrays.joints.shape[0], F = 263;
  const p = jointsToFeatures(arrays.joints.data, T, T2M);
  // The sample's joints lost the clip's last frame, which reaches the smoothed facing (Gaussian,
  // sigma 20, radius 80 frames) of rows >= T-81: compare the rows before that. The input joints
  // are float32 (~1e-7 m), which bounds agreement at ~1e-5.
  const rows = T - 81;
  assertClose(
    p.features.subarray(0, rows * F),
    arrays.features.data.subarray(0, rows * F),
    5e-5,
    0,
    "features",
  );
  // Root height and contacts do not depend on the facing: every row.
  for (let t = 0; t < T - 1; t++) {
    assertClose([p.features[t * F + 3]], [arrays.features.data[t * F + 3]], 5e-6, 0, `root y ${t}`);
    assertClose(
      p.features.subarray(t * F + 259, t * F + 263),
      arrays.features.data.subarray(t * F + 259, t * F + 263),
      0,
      0,
      `contacts ${t}`,
    );
  }
});

Deno.test({
  name: "jointsToFeatures() and recoverFromRic() match tools/motion_ref.py live",
  ignore: !hasTorch,
  async fn() {
    const dir = await tempDir();
    try {
      const T = 50;
      const cases = [
        {
          kind: "t2m",
          spec: T2M,
          walk: syntheticWalk(T2M, {
            T,
            lengths: T2M.boneLengths!.map((l) => 0.93 * l),
            heading: -1.2,
            slide: 0.004,
          }),
          uniform: true,
        },
        {
          kind: "kit",
          spec: KIT,
          walk: syntheticWalk(KIT, { T, lengths: KIT_BONE_LENGTHS, heading: 0.3 }),
          uniform: false,
        },
      ];
      // Jitter every joint (1 cm): bones whose direction ends up opposite to their rest direction
      // (all of KIT's horizontal bones, since its facing rule turns the rest pose around) make the
      // shortest-arc rotation ill-conditioned; jitter keeps them well away from that.
      const rng = new Rng(7);
      for (const { kind, spec, walk, uniform } of cases) {
        const unit = kind === "kit" ? 1000 : 1;
        for (let i = 0; i < walk.length; i++) walk[i] += 0.01 * unit * rng.normal();
        const input = `${dir.path}/${kind}.in.f32`, prefix = `${dir.path}/${kind}.out`;
        writeF32(input, walk);
        await runPython([
          "tools/motion_ref.py",
          "process",
          input,
          `${T}`,
          kind,
          prefix,
          uniform ? "1" : "0",
        ]);
        const p = jointsToFeatures(walk, T, spec, { uniformSkeleton: uniform });
        assertClose(p.joints, readF32(`${prefix}.joints.f32`), ATOL, RTOL, `${kind} joints`);
        assertClose(p.features, readF32(`${prefix}.features.f32`), ATOL, RTOL, `${kind} features`);
        const feats = `${dir.path}/${kind}.feats.f32`, rec = `${dir.path}/${kind}.rec.f32`;
        writeF32(feats, p.features);
        await runPython([
          "tools/motion_ref.py",
          "recover",
          feats,
          `${T - 1}`,
          `${spec.nfeats}`,
          rec,
        ]);
        assertClose(
          recoverFromRic(p.features, T - 1, spec),
          readF32(rec),
          ATOL,
          RTOL,
          `${kind} recovered`,
        );
      }
    } finally {
      await dir.remove();
    }
  },
});
