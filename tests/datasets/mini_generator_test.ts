import assert from "node:assert/strict";
import { assertClose } from "../_util.ts";
import { locomote } from "../../datasets/mini/_locomotion.ts";
import { poseFrames } from "../../datasets/mini/_pose.ts";
import { BONE, PARENTS } from "../../datasets/mini/_rest_pose.ts";
import { standingFrame, Track } from "../../datasets/mini/_track.ts";
import { FAMILY_NAMES, type FamilyName } from "../../datasets/mini/families.ts";
import { generateClip, MAX_FRAMES, MIN_FRAMES } from "../../datasets/mini/generate_clip.ts";
import { mirrorJoints } from "../../datasets/mini/mirror.ts";
import { footSkate } from "../../datasets/motion/skate.ts";
import { T2M } from "../../datasets/motion/skeleton.ts";

const UPRIGHT: FamilyName[] = FAMILY_NAMES.filter((f) => f !== "crawl");
const STEPPING: FamilyName[] = ["walk", "walk_circle", "walk_backward", "run", "turn", "sidestep"];

Deno.test("generateClip() is deterministic and independent of clip order", () => {
  const a = generateClip(11, 7);
  for (let i = 0; i < 7; i++) generateClip(11, i); // other clips drawn in between change nothing
  const b = generateClip(11, 7);
  assert.equal(a.frames, b.frames);
  assert.deepEqual(a.joints, b.joints);
  assert.deepEqual(a.texts, b.texts);
  assert.equal(a.id, "000007");
});

Deno.test("generateClip() differs between seeds and between clips", () => {
  const a = generateClip(1, 3), b = generateClip(2, 3), c = generateClip(1, 4);
  const differ = (x: typeof a, y: typeof a) =>
    x.frames !== y.frames || x.joints.some((v, i) => v !== y.joints[i]);
  assert.ok(differ(a, b), "seeds 1 and 2 gave the same clip");
  assert.ok(differ(a, c), "clips 3 and 4 are the same");
});

Deno.test("generateClip() keeps lengths in [41, 200] frames (features in [40, 200))", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 150; i++) {
    const c = generateClip(5, i);
    seen.add(c.family);
    assert.ok(c.frames >= MIN_FRAMES && c.frames <= MAX_FRAMES, `clip ${i}: ${c.frames} frames`);
    assert.equal(c.joints.length, c.frames * 22 * 3);
    assert.ok(c.joints.every(Number.isFinite), `clip ${i} has non-finite joints`);
  }
  assert.equal(seen.size, FAMILY_NAMES.length, `families seen: ${[...seen].join(", ")}`);
});

Deno.test("generateClip() keeps every bone length constant (target skeleton, 1e-4 relative)", () => {
  for (const family of FAMILY_NAMES) {
    const c = generateClip(3, 1, { family });
    const lengths: number[] = [];
    for (let t = 0; t < c.frames; t++) {
      for (let j = 1; j < 22; j++) {
        const a = (t * 22 + j) * 3, p = (t * 22 + PARENTS[j]) * 3;
        const d = Math.hypot(
          c.joints[a] - c.joints[p],
          c.joints[a + 1] - c.joints[p + 1],
          c.joints[a + 2] - c.joints[p + 2],
        );
        lengths.push(d / BONE[j]);
      }
    }
    assertClose(lengths, lengths.map(() => 1), 0, 1e-4, `${family} bone length / target`);
  }
});

Deno.test("generateClip() stands on the floor: toes at y = 0, nothing below it", () => {
  for (const family of UPRIGHT) {
    for (let i = 0; i < 3; i++) {
      const c = generateClip(9, i, { family });
      let lowest = Infinity, toeLowest = Infinity;
      for (let k = 0; k < c.frames * 22; k++) lowest = Math.min(lowest, c.joints[3 * k + 1]);
      for (let t = 0; t < c.frames; t++) {
        for (const j of [10, 11]) toeLowest = Math.min(toeLowest, c.joints[(t * 22 + j) * 3 + 1]);
      }
      assert.ok(lowest > -1e-4, `${family} ${i}: a joint at y = ${lowest}`);
      assert.ok(toeLowest < 0.01, `${family} ${i}: toes never touch the floor (${toeLowest})`);
    }
  }
});

Deno.test("locomote() keeps a stance foot exactly planted, and slide > 0 makes it skate", () => {
  const run = (slide: number) => {
    const track = new Track(standingFrame(0.3, -0.2, 0.4));
    locomote(track, {
      duration: 4,
      speed: 1.2,
      dirX: 0,
      dirZ: 1,
      turn: 0.7,
      stepTime: 0.55,
      swingFrac: 0.8,
      lift: 0.1,
      halfWidth: 0.1,
      lean: 0.05,
      run: false,
      slide,
      firstFoot: 0,
      armSwing: 0.6,
    });
    const P = poseFrames(track.frames);
    let worst = 0, steps = 0;
    for (let t = 1; t < track.frames.length; t++) {
      for (const s of [0, 1] as const) {
        if (!track.frames[t].feet[s].planted || !track.frames[t - 1].feet[s].planted) continue;
        steps++;
        for (const j of [7 + s, 10 + s]) {
          const a = (t * 22 + j) * 3, b = ((t - 1) * 22 + j) * 3;
          worst = Math.max(worst, Math.hypot(P[a] - P[b], P[a + 2] - P[b + 2]));
        }
      }
    }
    return { worst, steps };
  };
  const planted = run(0), sliding = run(0.5);
  assert.ok(planted.steps > 60, `only ${planted.steps} stance steps`);
  assert.ok(planted.worst < 1e-5, `stance foot moved ${planted.worst} m in one frame`);
  assert.ok(sliding.worst > 0.01, `sliding stance foot moved only ${sliding.worst} m`);
});

Deno.test("footSkate() is near zero on generated stepping clips and high on the sliding variant", () => {
  for (const family of STEPPING) {
    let planted = 0, sliding = 0;
    for (let i = 0; i < 4; i++) {
      const a = generateClip(21, i, { family });
      const b = generateClip(21, i, { family, slide: 0.5 });
      planted += footSkate(a.joints, a.frames, T2M, 20) / 4;
      sliding += footSkate(b.joints, b.frames, T2M, 20) / 4;
    }
    assert.ok(planted < 0.01, `${family}: skate ${planted} m/s on planted clips`);
    if (family !== "turn") {
      assert.ok(sliding > 0.1, `${family}: skate only ${sliding} m/s on sliding clips`);
    }
  }
});

Deno.test("mirrorJoints() negates x, swaps sides, and is its own inverse", () => {
  const c = generateClip(4, 2);
  const m = mirrorJoints(c.joints, c.frames);
  assert.equal(m[(5 * 22 + 7) * 3], -c.joints[(5 * 22 + 8) * 3]); // left ankle x ← -right ankle x
  assert.equal(m[(5 * 22 + 0) * 3 + 1], c.joints[(5 * 22 + 0) * 3 + 1]);
  assert.deepEqual(mirrorJoints(m, c.frames), c.joints);
});

/** Facing (x, z) of frame t from the hips: left hip minus right hip, turned a quarter left. */
function facing(j: Float32Array, t: number): [number, number] {
  const lx = j[(t * 22 + 1) * 3] - j[(t * 22 + 2) * 3];
  const lz = j[(t * 22 + 1) * 3 + 2] - j[(t * 22 + 2) * 3 + 2];
  // Left = up × forward, so forward = left × up: (lx, lz) → (-lz, lx).
  return [-lz, lx];
}

Deno.test("generated motions match their sides: waves, kicks, turns and side steps", () => {
  const y = (c: { joints: Float32Array }, t: number, j: number) => c.joints[(t * 22 + j) * 3 + 1];
  for (let i = 0; i < 12; i++) {
    const wave = generateClip(31, i, { family: "wave" });
    const waveSem = wave.segments[0].sem;
    const kick = generateClip(31, i, { family: "kick" });
    const kickSem = kick.segments[0].sem;
    const turn = generateClip(31, i, { family: "turn" });
    const turnSem = turn.segments[0].sem;
    const step = generateClip(31, i, { family: "sidestep" });
    const stepSem = step.segments[0].sem;
    assert.ok(waveSem.kind === "wave" && kickSem.kind === "kick");
    assert.ok(turnSem.kind === "turn" && stepSem.kind === "sidestep");

    // Raised hands: wrist above the head only for the waving side(s). Left wrist 20, right 21.
    const raised = [20, 21].map((w) => {
      let m = -Infinity;
      for (let t = 0; t < wave.frames; t++) m = Math.max(m, y(wave, t, w) - y(wave, t, 15));
      return m > 0;
    });
    assert.deepEqual(raised, [waveSem.side !== "right", waveSem.side !== "left"], `wave ${i}`);

    // Kicking ankle lifts well off the floor; the other stays down. Left ankle 7, right 8.
    const lifted = [7, 8].map((a) => {
      let m = -Infinity;
      for (let t = 0; t < kick.frames; t++) m = Math.max(m, y(kick, t, a));
      return m > 0.25;
    });
    assert.deepEqual(lifted, [kickSem.side === "left", kickSem.side === "right"], `kick ${i}`);

    // Turning left rotates the facing counterclockwise seen from above (+Y).
    const [f0x, f0z] = facing(turn.joints, 0), [f1x, f1z] = facing(turn.joints, turn.frames - 1);
    const crossY = f0z * f1x - f0x * f1z;
    const dot = f0x * f1x + f0z * f1z;
    if (turnSem.angle === 90) {
      assert.equal(crossY > 0, turnSem.side === "left", `turn ${i}: cross ${crossY}`);
    } else if (turnSem.angle === 180) assert.ok(dot < -0.5 * Math.hypot(f0x, f0z) ** 2);
    else assert.ok(dot > 0.5 * Math.hypot(f0x, f0z) ** 2);

    // Side steps move the root toward the named side of the body.
    const [gx, gz] = facing(step.joints, 0);
    const leftX = gz, leftZ = -gx; // up × forward
    const T1 = step.frames - 1;
    const dx = step.joints[T1 * 66] - step.joints[0],
      dz = step.joints[T1 * 66 + 2] - step.joints[2];
    assert.equal(dx * leftX + dz * leftZ > 0, stepSem.side === "left", `sidestep ${i}`);
  }
});
