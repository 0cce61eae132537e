/**
 * Poser: control frames → joint positions (T, 22, 3). The trunk, head and shoulders follow by
 * forward kinematics from the pelvis (rest offsets rotated by heading and lean), arms and legs by
 * analytic two-bone IK toward their targets. Every bone keeps its target length exactly, and a
 * reachable ankle target is met exactly, so a planted target gives a planted foot.
 *
 * @module
 */
import type { Frame } from "./_frame.ts";
import { clamp, headingX, headingZ, rotYawPitch } from "./_math.ts";
import { ANKLE_Y, ARM, J, LEG, REACH, REST_OFFSETS, type SideIndex } from "./_rest_pose.ts";

const NJ = 22;

/**
 * Places joints `mid` and `end` of a two-bone limb rooted at joint `a` (already placed in `P`)
 * so that `end` lies at the target (or as close as the limb reaches, along the same line) and
 * `mid` bends toward the pole direction. Bone lengths l1 (a→mid) and l2 (mid→end) are exact.
 */
function twoBoneIk(
  P: Float64Array, // (22, 3)
  a: number,
  mid: number,
  end: number,
  tx: number,
  ty: number,
  tz: number,
  px: number,
  py: number,
  pz: number,
  l1: number,
  l2: number,
): void {
  const ax = P[3 * a], ay = P[3 * a + 1], az = P[3 * a + 2];
  let dx = tx - ax, dy = ty - ay, dz = tz - az;
  let d = Math.hypot(dx, dy, dz);
  if (d < 1e-9) {
    dx = 0, dy = -1, dz = 0, d = 1;
  }
  const ux = dx / d, uy = dy / d, uz = dz / d;
  const dc = clamp(d, Math.abs(l1 - l2) + 1e-4, l1 + l2 - 1e-6);
  const cosA = clamp((l1 * l1 + dc * dc - l2 * l2) / (2 * l1 * dc), -1, 1);
  const sinA = Math.sqrt(1 - cosA * cosA);
  // Pole component orthogonal to the limb axis; fall back to any perpendicular if parallel.
  const pu = px * ux + py * uy + pz * uz;
  let vx = px - pu * ux, vy = py - pu * uy, vz = pz - pu * uz;
  let vn = Math.hypot(vx, vy, vz);
  if (vn < 1e-6) {
    vx = -uz, vy = 0, vz = ux;
    vn = Math.hypot(vx, vy, vz);
    if (vn < 1e-6) vx = 1, vy = 0, vz = 0, vn = 1;
  }
  vx /= vn, vy /= vn, vz /= vn;
  P[3 * mid] = ax + l1 * (cosA * ux + sinA * vx);
  P[3 * mid + 1] = ay + l1 * (cosA * uy + sinA * vy);
  P[3 * mid + 2] = az + l1 * (cosA * uz + sinA * vz);
  P[3 * end] = ax + dc * ux;
  P[3 * end + 1] = ay + dc * uy;
  P[3 * end + 2] = az + dc * uz;
}

/** Places joint j = parent + R(yaw, pitch) · rest offset of j. */
function place(P: Float64Array, j: number, parent: number, yaw: number, pitch: number): void {
  rotYawPitch(
    yaw,
    pitch,
    REST_OFFSETS[3 * j],
    REST_OFFSETS[3 * j + 1],
    REST_OFFSETS[3 * j + 2],
    P,
    3 * j,
  );
  P[3 * j] += P[3 * parent];
  P[3 * j + 1] += P[3 * parent + 1];
  P[3 * j + 2] += P[3 * parent + 2];
}

/** How far the pelvis must drop so that a leg from `hip` reaches the ankle target (≥ 0). */
function dropToReach(P: Float64Array, hip: number, f: Frame["feet"][0], reach: number): number {
  const h = Math.hypot(f.x - P[3 * hip], f.z - P[3 * hip + 2]);
  const v = h < reach ? Math.sqrt(reach * reach - h * h) : 0;
  return Math.max(0, P[3 * hip + 1] - f.y - v);
}

/** Places the pelvis (lowered by `drop`) and the hips. */
function placePelvis(f: Frame, P: Float64Array, drop: number): void {
  P[0] = f.x, P[1] = f.pelvisY - drop, P[2] = f.z;
  place(P, J.hip[0], 0, f.yaw, f.lean / 3);
  place(P, J.hip[1], 0, f.yaw, f.lean / 3);
}

/**
 * How far the pelvis must drop below `pelvisY` for the legs to reach their ankle targets. A foot
 * on the floor must be reached; a lifted foot counts less the higher it is (none above 4 cm), so
 * a swing foot left behind does not pull the body down, yet the constraint fades in smoothly
 * before touch-down. Free legs (kicks) never count.
 */
function requiredDrop(f: Frame, P: Float64Array): number {
  if (f.mode === "crawl") return 0;
  placePelvis(f, P, 0);
  let drop = 0;
  for (const s of [0, 1] as const) {
    const foot = f.feet[s];
    if (foot.free) continue;
    const w = foot.planted ? 1 : clamp(1 - (foot.y - ANKLE_Y[s]) / 0.04, 0, 1);
    if (w === 0) continue;
    drop = Math.max(drop, w * dropToReach(P, J.hip[s], foot, REACH * (LEG[s][0] + LEG[s][1])));
  }
  return drop;
}

/**
 * Smooths per-frame pelvis drops without ever going below them: a running max over ±r frames,
 * then a normalised binomial blur of radius r (each blurred value averages maxima that all
 * cover the frame itself, so it is at least that frame's drop).
 */
function smoothDrops(drop: Float64Array, r: number): Float64Array {
  const T = drop.length;
  const mx = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let m = 0;
    for (let k = Math.max(0, t - r); k <= Math.min(T - 1, t + r); k++) m = Math.max(m, drop[k]);
    mx[t] = m;
  }
  const w: number[] = [];
  for (let k = -r; k <= r; k++) w.push(Math.cos((Math.PI * k) / (2 * r + 2)) ** 2);
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let s = 0, ws = 0;
    for (let k = -r; k <= r; k++) {
      const i = t + k;
      if (i < 0 || i >= T) continue;
      s += w[k + r] * mx[i];
      ws += w[k + r];
    }
    out[t] = s / ws;
  }
  return out;
}

function poseUpright(f: Frame, P: Float64Array, drop: number): void {
  placePelvis(f, P, drop);
  for (const s of [0, 1] as const) {
    const foot = f.feet[s];
    const sign = s === 0 ? 1 : -1;
    // Knee points along the foot, a little outward.
    const px = headingX(foot.yaw, 0.15 * sign, 1), pz = headingZ(foot.yaw, 0.15 * sign, 1);
    twoBoneIk(
      P,
      J.hip[s],
      J.knee[s],
      J.ankle[s],
      foot.x,
      foot.y,
      foot.z,
      px,
      0,
      pz,
      LEG[s][0],
      LEG[s][1],
    );
    place(P, J.foot[s], J.ankle[s], foot.yaw, foot.pitch);
  }
}

function poseCrawlLegs(f: Frame, P: Float64Array): void {
  P[0] = f.x, P[1] = f.pelvisY, P[2] = f.z;
  const pelvisPitch = f.lean / 3;
  place(P, J.hip[0], 0, f.yaw, pelvisPitch);
  place(P, J.hip[1], 0, f.yaw, pelvisPitch);
  for (const s of [0, 1] as const) {
    const a = f.feet[s];
    // Ankle at its (planted) target behind the hips; the knee bends forward and down to the floor.
    twoBoneIk(
      P,
      J.hip[s],
      J.knee[s],
      J.ankle[s],
      a.x,
      a.y,
      a.z,
      headingX(a.yaw, 0, 0.3),
      -1,
      headingZ(a.yaw, 0, 0.3),
      LEG[s][0],
      LEG[s][1],
    );
    // Toes point back and down onto the floor.
    const foot = J.foot[s];
    const fl = Math.hypot(
      REST_OFFSETS[3 * foot],
      REST_OFFSETS[3 * foot + 1],
      REST_OFFSETS[3 * foot + 2],
    );
    const back = 0.8, down = 0.6; // unit (back, down) direction of the foot
    P[3 * foot] = P[3 * J.ankle[s]] + fl * headingX(a.yaw, 0, -back);
    P[3 * foot + 1] = P[3 * J.ankle[s] + 1] - fl * down;
    P[3 * foot + 2] = P[3 * J.ankle[s] + 2] + fl * headingZ(a.yaw, 0, -back);
  }
}

function poseTrunkAndArms(f: Frame, P: Float64Array): void {
  const yaw = f.yaw, lean = f.lean;
  place(P, J.spine1, 0, yaw, 0.5 * lean);
  place(P, J.spine2, J.spine1, yaw, 0.8 * lean);
  place(P, J.spine3, J.spine2, yaw, lean);
  place(P, J.neck, J.spine3, yaw, lean);
  place(P, J.head, J.neck, yaw, 0.75 * lean);
  for (const s of [0, 1] as SideIndex[]) {
    place(P, J.collar[s], J.spine3, yaw, lean);
    place(P, J.shoulder[s], J.collar[s], yaw, lean);
    const sh = J.shoulder[s];
    const w = f.wrist[s], p = f.pole[s];
    let tx = w[0], ty = w[1], tz = w[2];
    if (!f.wristWorld) {
      tx = P[3 * sh] + headingX(yaw, w[0], w[2]);
      ty = P[3 * sh + 1] + w[1];
      tz = P[3 * sh + 2] + headingZ(yaw, w[0], w[2]);
    }
    twoBoneIk(
      P,
      sh,
      J.elbow[s],
      J.wrist[s],
      tx,
      ty,
      tz,
      headingX(yaw, p[0], p[2]),
      p[1],
      headingZ(yaw, p[0], p[2]),
      ARM[s][0],
      ARM[s][1],
    );
  }
}

/**
 * Joint positions of every frame.
 *
 * @param frames control frames (T)
 * @returns joint positions, metres, y up (T, 22, 3)
 */
export function poseFrames(frames: readonly Frame[]): Float32Array {
  const T = frames.length;
  const out = new Float32Array(T * NJ * 3); // (T, 22, 3)
  const P = new Float64Array(NJ * 3); // (22, 3) one frame
  const need = new Float64Array(T); // (T) pelvis drop each frame needs
  for (let t = 0; t < T; t++) need[t] = requiredDrop(frames[t], P);
  const drops = smoothDrops(need, 2);
  for (let t = 0; t < T; t++) {
    const f = frames[t];
    if (f.mode === "crawl") poseCrawlLegs(f, P);
    else poseUpright(f, P, drops[t]);
    poseTrunkAndArms(f, P);
    out.set(P, t * NJ * 3);
  }
  return out;
}
