import assert from "node:assert/strict";
import { footContacts } from "../../datasets/motion/foot_contacts.ts";
import { jointsToFeatures } from "../../datasets/motion/process.ts";
import { recoverFromRic } from "../../datasets/motion/recover.ts";
import { footSkate } from "../../datasets/motion/skate.ts";
import {
  KIT,
  KIT_BONE_LENGTHS,
  type SkeletonSpec,
  T2M,
  T2M_BONE_LENGTHS,
} from "../../datasets/motion/skeleton.ts";
import { assertClose } from "../_util.ts";
import { legPhase, syntheticWalk } from "./motion_util.ts";

const T = 80;

/** Checks contact labels (T-1, 4) against the gait: on inside stance, off in mid-swing. */
function checkContacts(spec: SkeletonSpec, contacts: Float32Array, period: number) {
  let stanceSteps = 0, swingSteps = 0;
  for (let t = 0; t + 1 < T; t++) {
    // Leg 0 of the walk is the first chain (right leg), leg 1 the left leg.
    for (const [leg, cols] of [[0, [2, 3]], [1, [0, 1]]] as const) {
      const a = legPhase(t, period, leg), b = legPhase(t + 1, period, leg);
      for (const c of cols) {
        if (a.stance && b.stance && a.cycle === b.cycle) {
          assert.equal(contacts[t * 4 + c], 1, `${spec.name} step ${t} leg ${leg} is in stance`);
          stanceSteps++;
        } else if (!a.stance && a.s >= 0.2 && a.s <= 0.8) {
          assert.equal(contacts[t * 4 + c], 0, `${spec.name} step ${t} leg ${leg} is in swing`);
          swingSteps++;
        }
      }
    }
  }
  assert.ok(
    stanceSteps > 100 && swingSteps > 30,
    `only ${stanceSteps}/${swingSteps} steps checked`,
  );
}

for (const [spec, lengths] of [[T2M, T2M_BONE_LENGTHS], [KIT, KIT_BONE_LENGTHS]] as const) {
  Deno.test(`jointsToFeatures() marks ${spec.name} contacts in stance and not in swing`, () => {
    const walk = syntheticWalk(spec, { T, lengths, heading: 2.5 });
    const p = jointsToFeatures(walk, T, spec, { uniformSkeleton: false });
    checkContacts(spec, p.contacts, spec.fps);
    const F = spec.nfeats;
    const fromFeatures = new Float32Array((T - 1) * 4);
    for (let t = 0; t < T - 1; t++) {
      fromFeatures.set(p.features.subarray(t * F + F - 4, t * F + F), 4 * t);
    }
    assertClose(fromFeatures, p.contacts, 0, 0, "contacts in the features");
  });
}

Deno.test("footContacts() applies the optional height rule", () => {
  const walk = syntheticWalk(T2M, { T, lengths: T2M_BONE_LENGTHS });
  const all = footContacts(walk, T, T2M);
  const none = footContacts(walk, T, T2M, 0.002, -1); // every foot is above y = -1
  assert.ok(all.reduce((s, x) => s + x, 0) > 100);
  assert.equal(none.reduce((s, x) => s + x, 0), 0);
});

Deno.test("footSkate() is zero for planted feet and large for sliding feet", () => {
  const planted = syntheticWalk(T2M, { T, lengths: T2M_BONE_LENGTHS, heading: 1 });
  // Sliding 1 cm per frame (0.2 m/s at 20 fps) stays under the dataset's contact threshold
  // (0.002 m² per frame), so the labels still say "in contact".
  const sliding = syntheticWalk(T2M, { T, lengths: T2M_BONE_LENGTHS, heading: 1, slide: 0.01 });
  const p = jointsToFeatures(planted, T, T2M);
  const s = jointsToFeatures(sliding, T, T2M);
  checkContacts(T2M, s.contacts, T2M.fps);
  const plantedSkate = footSkate(p.joints, T, T2M, 20, p.contacts);
  const slidingSkate = footSkate(s.joints, T, T2M, 20, s.contacts);
  assert.ok(plantedSkate < 1e-4, `planted skate ${plantedSkate} m/s`);
  assert.ok(slidingSkate > 0.15, `sliding skate ${slidingSkate} m/s`);
  assert.ok(slidingSkate > 5 * plantedSkate);
  // The height rule (no labels) sees the same thing.
  const plantedH = footSkate(p.joints, T, T2M, 20);
  const slidingH = footSkate(s.joints, T, T2M, 20);
  assert.ok(plantedH < 1e-4, `planted skate (height rule) ${plantedH} m/s`);
  assertClose([slidingH], [0.2], 0.02, 0, "sliding skate (height rule), m/s");
});

Deno.test("footSkate() accepts recovered joints with the features' contact channels", () => {
  const sliding = syntheticWalk(T2M, { T, lengths: T2M_BONE_LENGTHS, slide: 0.01 });
  const s = jointsToFeatures(sliding, T, T2M);
  const rec = recoverFromRic(s.features, T - 1, T2M); // (T-1, 22, 3)
  const skate = footSkate(rec, T - 1, T2M, 20, s.contacts); // contacts (T-1, 4)
  assertClose([skate], [footSkate(s.joints, T, T2M, 20, s.contacts)], 0.02, 0, "skate, m/s");
  assert.throws(() => footSkate(rec, T - 1, T2M, 20, new Float32Array(7)), RangeError);
});
