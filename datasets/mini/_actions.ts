/**
 * Actions on the spot: standing idle, jumps, kicks, waves, squats, sitting down and standing up,
 * and crawling on hands and knees. Each appends frames to a `Track`, starting from its last
 * frame and (except sitting down and crawling) ending in a relaxed stand.
 *
 * @module
 */
import type { FootTarget, Frame, V3 } from "./_frame.ts";
import { cloneFrame } from "./_frame.ts";
import { headingX, headingZ, lerp, smoothstep } from "./_math.ts";
import { poseFrames } from "./_pose.ts";
import { ANKLE_Y, J, type SideIndex, sideSign, STAND_Y } from "./_rest_pose.ts";
import { planSteps, RootPath } from "./_steps.ts";
import { defaultPole, DT, FPS, hangingWrist, standingFrame, type Track } from "./_track.ts";

/** Gravity, m/s². */
const G = 9.81;

/** Value at time t of a piecewise ease-in/ease-out curve through keys [time, value] (sorted). */
export function keyed(t: number, keys: readonly (readonly [number, number])[]): number {
  if (t <= keys[0][0]) return keys[0][1];
  for (let k = 1; k < keys.length; k++) {
    if (t <= keys[k][0]) {
      const [t0, v0] = keys[k - 1], [t1, v1] = keys[k];
      return lerp(v0, v1, smoothstep((t - t0) / (t1 - t0)));
    }
  }
  return keys[keys.length - 1][1];
}

/** Per-component `keyed()` of 3-vectors. */
function keyed3(t: number, keys: readonly (readonly [number, V3])[]): V3 {
  const c = (i: number) => keyed(t, keys.map(([tk, v]) => [tk, v[i]] as const));
  return [c(0), c(1), c(2)];
}

function frameCount(seconds: number): number {
  return Math.max(1, Math.round(seconds * FPS));
}

/** A frame that keeps the feet of `f` planted where they are. */
function planted(f: Frame): Frame {
  const g = cloneFrame(f);
  for (const s of [0, 1] as const) {
    g.feet[s].planted = true;
    g.feet[s].free = false;
    g.feet[s].pitch = 0;
    g.feet[s].y = ANKLE_Y[s];
  }
  return g;
}

/** Stands still for `seconds`, relaxing into a neutral stand (breathing sway only). */
export function idle(track: Track, seconds: number): void {
  const s0 = planted(track.last);
  const frames: Frame[] = [];
  const n = frameCount(seconds);
  for (let i = 1; i <= n; i++) {
    const f = cloneFrame(s0);
    f.pelvisY = STAND_Y - 0.004 * (1 - Math.cos((2 * Math.PI * i * DT) / 3.5));
    f.lean = 0.02;
    f.wrist = [hangingWrist(0), hangingWrist(1)];
    f.pole = [defaultPole(0), defaultPole(1)];
    frames.push(f);
  }
  track.append(frames, 8);
}

/** Parameters of one jump. */
export interface JumpParams {
  /** Horizontal distance along the heading, metres (0: in place). */
  forward: number;
  /** Crouch depth of the pelvis before take-off, metres. */
  crouch: number;
  /** Seconds in the air. */
  flight: number;
  /** Seconds of the preparatory crouch. */
  prepare: number;
}

/** One two-footed jump: crouch, push, ballistic flight, landing with absorption, recovery. */
export function jump(track: Track, p: JumpParams): void {
  const s0 = planted(track.last);
  const push = 0.15, absorb = 0.3, recover = 0.4;
  const tTake = p.prepare + push, tLand = tTake + p.flight;
  const total = tLand + absorb + recover;
  const base = STAND_Y + 0.02;
  const v0 = (G * p.flight) / 2;
  const n = frameCount(total);
  const frames: Frame[] = [];
  const landing = s0.feet.map((f) => ({
    ...f,
    x: f.x + headingX(s0.yaw, 0, p.forward),
    z: f.z + headingZ(s0.yaw, 0, p.forward),
  }));
  for (let i = 1; i <= n; i++) {
    const t = i * DT;
    const f = cloneFrame(s0);
    let y: number;
    if (t < tTake) {
      y = keyed(t, [[0, STAND_Y], [p.prepare, STAND_Y - p.crouch], [tTake, base]]);
    } else if (t < tLand) {
      const tau = t - tTake;
      y = base + v0 * tau - 0.5 * G * tau * tau;
    } else {
      y = keyed(t, [[tLand, base], [tLand + absorb, STAND_Y - 0.7 * p.crouch], [total, STAND_Y]]);
    }
    f.pelvisY = y;
    // The root travels from the push to just after landing.
    const u = smoothstep((t - p.prepare) / (push + p.flight + 0.1));
    f.x = s0.x + headingX(s0.yaw, 0, p.forward * u);
    f.z = s0.z + headingZ(s0.yaw, 0, p.forward * u);
    f.lean = keyed(t, [[0, 0], [p.prepare, 0.4], [tTake, 0.15], [tLand, 0.1], [
      tLand + absorb,
      0.35,
    ], [total, 0]]);
    for (const s of [0, 1] as const) {
      const sg = sideSign(s);
      f.wrist[s] = keyed3(t, [
        [0, hangingWrist(s)],
        [p.prepare - 0.08, [0.06 * sg, -0.4, -0.25]],
        [tTake + 0.12, [0.1 * sg, 0.0, 0.38]],
        [Math.max(tLand, tTake + 0.2), [0.12 * sg, -0.2, 0.3]],
        [tLand + absorb, [0.1 * sg, -0.32, 0.3]],
        [total, hangingWrist(s)],
      ]);
      const foot: FootTarget = f.feet[s];
      if (t >= tTake && t < tLand) {
        const a = (t - tTake) / p.flight;
        const e = smoothstep(a);
        foot.x = lerp(s0.feet[s].x, landing[s].x, e);
        foot.z = lerp(s0.feet[s].z, landing[s].z, e);
        foot.y = ANKLE_Y[s] + (y - base) + 0.06 * Math.sin(Math.PI * a);
        foot.pitch = 0.25 * Math.sin(Math.PI * a);
        foot.planted = false;
      } else if (t >= tLand) {
        foot.x = landing[s].x;
        foot.z = landing[s].z;
      }
    }
    frames.push(f);
  }
  track.append(frames);
}

/** Parameters of one kick. */
export interface KickParams {
  side: SideIndex;
  /** Ankle height at full extension above its planted height, metres. */
  height: number;
  /** Forward reach of the ankle at full extension, metres. */
  reach: number;
  /** Time scale (1: about 1.5 s for the whole kick). */
  tempo: number;
}

/** A front kick: chamber the knee, extend, retract, put the foot back where it was. */
export function kick(track: Track, p: KickParams): void {
  const s0 = planted(track.last);
  const k = p.tempo;
  const keys: [number, V3][] = [
    [0.3 * k, [0, 0, 0]],
    [0.55 * k, [0, 0.3, 0.18]],
    [0.72 * k, [0, p.height, p.reach]],
    [0.85 * k, [0, 0.95 * p.height, 0.95 * p.reach]],
    [1.05 * k, [0, 0.3, 0.15]],
    [1.3 * k, [0, 0, 0]],
  ];
  const total = 1.55 * k;
  const n = frameCount(total);
  const frames: Frame[] = [];
  const sg = sideSign(p.side);
  const home = s0.feet[p.side];
  for (let i = 1; i <= n; i++) {
    const t = i * DT;
    const f = cloneFrame(s0);
    f.pelvisY = STAND_Y - keyed(t, [[0, 0], [0.3 * k, 0.04], [1.3 * k, 0.04], [total, 0]]);
    f.lean = keyed(t, [[0, 0], [0.3 * k, 0.02], [0.72 * k, -0.15], [1.05 * k, 0.0], [total, 0]]);
    // Shift the pelvis a little over the support foot.
    const shift = keyed(t, [[0, 0], [0.3 * k, 0.05], [1.3 * k, 0.05], [total, 0]]);
    f.x = s0.x + headingX(s0.yaw, -sg * shift, 0);
    f.z = s0.z + headingZ(s0.yaw, -sg * shift, 0);
    const d = keyed3(t, keys);
    const foot = f.feet[p.side];
    const lifted = t > 0.3 * k && t < 1.3 * k;
    foot.x = home.x + headingX(s0.yaw, d[0], d[2]);
    foot.y = ANKLE_Y[p.side] + d[1];
    foot.z = home.z + headingZ(s0.yaw, d[0], d[2]);
    foot.pitch = -0.4 * smoothstep(d[1] / Math.max(p.height, 1e-3));
    foot.planted = !lifted;
    foot.free = lifted;
    for (const s of [0, 1] as const) {
      const out: V3 = [0.22 * sideSign(s), -0.36, s === p.side ? -0.05 : 0.12];
      f.wrist[s] = keyed3(t, [[0, hangingWrist(s)], [0.4 * k, out], [1.1 * k, out], [
        total,
        hangingWrist(s),
      ]]);
    }
    frames.push(f);
  }
  track.append(frames);
}

/** Parameters of a wave. */
export interface WaveParams {
  /** Which hands wave. */
  left: boolean;
  right: boolean;
  /** Waves per second. */
  freq: number;
  /** Number of side-to-side waves. */
  cycles: number;
  /** Hand height above the shoulder, metres. */
  height: number;
}

/** Raises one or both hands, waves side to side, lowers them. */
export function wave(track: Track, p: WaveParams): void {
  const s0 = planted(track.last);
  const raise = 0.5, lower = 0.5;
  const waving = p.cycles / p.freq;
  const total = raise + waving + lower;
  const n = frameCount(total);
  const frames: Frame[] = [];
  for (let i = 1; i <= n; i++) {
    const t = i * DT;
    const f = cloneFrame(s0);
    f.pelvisY = STAND_Y;
    f.lean = 0;
    const up = keyed(t, [[0, 0], [raise, 1], [raise + waving, 1], [total, 0]]);
    const amp = keyed(t, [[0, 0], [raise, 1], [raise + waving, 1], [total, 0]]);
    const osc = Math.sin(2 * Math.PI * p.freq * Math.max(0, t - raise * 0.6));
    for (const s of [0, 1] as const) {
      if (!(s === 0 ? p.left : p.right)) {
        f.wrist[s] = hangingWrist(s);
        continue;
      }
      const sg = sideSign(s);
      const raised: V3 = [sg * (0.22 + 0.12 * amp * osc), p.height, 0.12];
      const h = hangingWrist(s);
      f.wrist[s] = [
        lerp(h[0], raised[0], up),
        lerp(h[1], raised[1], up),
        lerp(h[2], raised[2], up),
      ];
      const pole = defaultPole(s);
      f.pole[s] = [lerp(pole[0], sg, up), lerp(pole[1], -0.6, up), lerp(pole[2], -0.2, up)];
    }
    frames.push(f);
  }
  track.append(frames);
}

/** One squat: hips back and down, arms forward for balance, back up. */
export function squat(track: Track, depth: number, seconds: number): void {
  const s0 = planted(track.last);
  const n = frameCount(seconds);
  const frames: Frame[] = [];
  const down = 0.45 * seconds, hold = 0.55 * seconds;
  for (let i = 1; i <= n; i++) {
    const t = i * DT;
    const f = cloneFrame(s0);
    const a = keyed(t, [[0, 0], [down, 1], [hold, 1], [seconds, 0]]);
    f.pelvisY = STAND_Y - depth * a;
    f.lean = 1.3 * depth * a;
    const back = -0.3 * depth * a;
    f.x = s0.x + headingX(s0.yaw, 0, back);
    f.z = s0.z + headingZ(s0.yaw, 0, back);
    for (const s of [0, 1] as const) {
      const h = hangingWrist(s);
      const fwd: V3 = [0.12 * sideSign(s), -0.08, 0.42];
      f.wrist[s] = [lerp(h[0], fwd[0], a), lerp(h[1], fwd[1], a), lerp(h[2], fwd[2], a)];
    }
    frames.push(f);
  }
  track.append(frames);
}

/** Seated pelvis height (on a chair), metres. */
const SEAT_Y = 0.5;
/** How far the pelvis moves back onto the seat, metres. */
const SEAT_BACK = 0.22;

/** Sits down onto a chair behind: hips back and down, trunk forward then upright. */
export function sitDown(track: Track, seconds: number): void {
  const s0 = planted(track.last);
  const n = frameCount(seconds);
  const frames: Frame[] = [];
  for (let i = 1; i <= n; i++) {
    const t = i * DT;
    const u = t / seconds;
    const f = cloneFrame(s0);
    const a = smoothstep(u);
    f.pelvisY = lerp(STAND_Y, SEAT_Y, a);
    f.lean = keyed(u, [[0, 0], [0.45, 0.55], [1, 0.12]]);
    const back = -SEAT_BACK * smoothstep(u * 1.1);
    f.x = s0.x + headingX(s0.yaw, 0, back);
    f.z = s0.z + headingZ(s0.yaw, 0, back);
    for (const s of [0, 1] as const) {
      const h = hangingWrist(s);
      const lap: V3 = [0.1 * sideSign(s), -0.32, 0.3];
      f.wrist[s] = [lerp(h[0], lap[0], a), lerp(h[1], lap[1], a), lerp(h[2], lap[2], a)];
    }
    frames.push(f);
  }
  track.append(frames);
}

/** Stays seated for `seconds` (after `sitDown`). */
export function staySeated(track: Track, seconds: number): void {
  const s0 = planted(track.last);
  const n = frameCount(seconds);
  const frames: Frame[] = [];
  for (let i = 1; i <= n; i++) {
    const f = cloneFrame(s0);
    f.lean = 0.12 + 0.02 * Math.sin((2 * Math.PI * i * DT) / 3);
    frames.push(f);
  }
  track.append(frames);
}

/** Stands up from a seat (after `sitDown`): trunk forward, hips up and forward, upright. */
export function standUp(track: Track, seconds: number): void {
  const s0 = planted(track.last);
  const n = frameCount(seconds);
  const frames: Frame[] = [];
  for (let i = 1; i <= n; i++) {
    const t = i * DT;
    const u = t / seconds;
    const f = cloneFrame(s0);
    const a = smoothstep((u - 0.2) / 0.8);
    f.pelvisY = lerp(SEAT_Y, STAND_Y, a);
    f.lean = keyed(u, [[0, 0.12], [0.35, 0.65], [1, 0]]);
    const fwd = SEAT_BACK * smoothstep((u - 0.1) / 0.7);
    f.x = s0.x + headingX(s0.yaw, 0, fwd);
    f.z = s0.z + headingZ(s0.yaw, 0, fwd);
    for (const s of [0, 1] as const) {
      const h = hangingWrist(s);
      const lap: V3 = [0.1 * sideSign(s), -0.32, 0.3];
      f.wrist[s] = [lerp(lap[0], h[0], a), lerp(lap[1], h[1], a), lerp(lap[2], h[2], a)];
    }
    frames.push(f);
  }
  track.append(frames);
}

// ---- crawling --------------------------------------------------------------------------------

/** Trunk pitch on all fours, radians (near horizontal). */
const CRAWL_LEAN = 1.35;
/** Pelvis height on all fours, metres. */
const CRAWL_PELVIS_Y = 0.52;
/** Height of an ankle joint on all fours (shin on the floor, toes down), metres. */
const CRAWL_ANKLE_Y = 0.1;
/** How far behind the root the ankles rest on all fours, metres. */
const CRAWL_ANKLE_BACK = 0.36;
/** Height of a wrist joint with the palm on the floor, metres. */
const WRIST_Y = 0.04;

/** Where the shoulders sit on all fours: forward distance from the root and height. */
const CRAWL_SHOULDER: { ahead: number; y: number } = (() => {
  const f = standingFrame(0, 0, 0);
  f.lean = CRAWL_LEAN;
  f.pelvisY = CRAWL_PELVIS_Y;
  f.mode = "crawl";
  const P = poseFrames([f]);
  return { ahead: P[3 * J.shoulder[0] + 2], y: P[3 * J.shoulder[0] + 1] };
})();

/** A frame on all fours at (x, z) facing `yaw`: shins on the floor, hands under the shoulders. */
export function crawlFrame(x: number, z: number, yaw: number): Frame {
  const f = standingFrame(x, z, yaw);
  f.mode = "crawl";
  f.lean = CRAWL_LEAN;
  f.pelvisY = CRAWL_PELVIS_Y;
  f.wristWorld = true;
  for (const s of [0, 1] as const) {
    const sg = sideSign(s);
    f.feet[s] = {
      x: x + headingX(yaw, 0.1 * sg, -CRAWL_ANKLE_BACK),
      y: CRAWL_ANKLE_Y,
      z: z + headingZ(yaw, 0.1 * sg, -CRAWL_ANKLE_BACK),
      yaw,
      pitch: 0,
      planted: true,
      free: false,
    };
    f.wrist[s] = [
      x + headingX(yaw, 0.17 * sg, CRAWL_SHOULDER.ahead),
      WRIST_Y,
      z + headingZ(yaw, 0.17 * sg, CRAWL_SHOULDER.ahead),
    ];
    f.pole[s] = [0.3 * sg, 0, -1];
  }
  return f;
}

/** Crawls on hands and knees (the track must end on all fours, see `crawlFrame`). */
export function crawl(
  track: Track,
  seconds: number,
  speed: number,
  turn: number,
  stepTime: number,
): void {
  const s0 = track.last;
  const n = frameCount(seconds);
  const path = new RootPath(s0.x, s0.z, s0.yaw, n, speed, 0, 1, turn, Math.min(0.6, seconds / 3));
  const ankles = planSteps(path, {
    stepTime,
    swingFrac: 0.7,
    first: 0,
    halfWidth: 0.1,
    ahead: -CRAWL_ANKLE_BACK,
    y: [CRAWL_ANKLE_Y, CRAWL_ANKLE_Y],
    lift: 0.08,
    liftFirst: 0.2,
    phase: 0,
    slide: 0,
  }, s0.feet);
  const handStart = [0, 1].map((s) => ({
    ...s0.feet[s],
    x: s0.wrist[s][0],
    z: s0.wrist[s][2],
  })) as [FootTarget, FootTarget];
  // Hands lead the opposite leg by half a step.
  const hands = planSteps(path, {
    stepTime,
    swingFrac: 0.7,
    first: 1,
    halfWidth: 0.17,
    ahead: CRAWL_SHOULDER.ahead,
    y: [WRIST_Y, WRIST_Y],
    lift: 0.06,
    liftFirst: 0.2,
    phase: 0.5,
    slide: 0,
  }, handStart);
  const frames: Frame[] = [];
  for (let i = 1; i <= n; i++) {
    const f = cloneFrame(s0);
    f.x = path.x[i];
    f.z = path.z[i];
    f.yaw = path.yaw[i];
    f.pelvisY = CRAWL_PELVIS_Y + 0.01 * Math.sin((2 * Math.PI * i * DT) / stepTime);
    f.feet = ankles[i - 1];
    for (const s of [0, 1] as const) {
      const h = hands[i - 1][s];
      f.wrist[s] = [h.x, h.y, h.z];
    }
    frames.push(f);
  }
  track.append(frames);
}
