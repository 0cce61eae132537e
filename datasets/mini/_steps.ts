/**
 * Root paths and footstep planning shared by walking, running, turning and crawling.
 *
 * @module
 */
import type { FootTarget } from "./_frame.ts";
import { clamp, headingX, headingZ, lerp, smoothstep } from "./_math.ts";
import { type SideIndex, sideSign } from "./_rest_pose.ts";
import { DT } from "./_track.ts";

/** A root trajectory sampled at every frame of an action: index 0 is the frame before it. */
export class RootPath {
  /** Number of new frames. */
  readonly n: number;
  readonly x: Float64Array; // (n + 1)
  readonly z: Float64Array; // (n + 1)
  readonly yaw: Float64Array; // (n + 1)

  /**
   * Integrates an eased speed and turn profile (ease-in and ease-out over `ramp` seconds) from
   * (x0, z0, yaw0) over n frames, moving along (dirX, dirZ) in the heading frame.
   */
  constructor(
    x0: number,
    z0: number,
    yaw0: number,
    n: number,
    speed: number,
    dirX: number,
    dirZ: number,
    turn: number,
    ramp: number,
  ) {
    this.n = n;
    this.x = new Float64Array(n + 1);
    this.z = new Float64Array(n + 1);
    this.yaw = new Float64Array(n + 1);
    this.x[0] = x0, this.z[0] = z0, this.yaw[0] = yaw0;
    const D = n * DT;
    const ease = new Float64Array(n + 1);
    let sumE = 0;
    for (let i = 1; i <= n; i++) {
      const t = (i - 0.5) * DT;
      ease[i] = smoothstep(t / ramp) * smoothstep((D - t) / ramp);
      sumE += ease[i];
    }
    for (let i = 1; i <= n; i++) {
      const dyaw = sumE > 0 ? (turn * ease[i]) / sumE : 0;
      const mid = this.yaw[i - 1] + dyaw / 2;
      const step = speed * ease[i] * DT;
      this.x[i] = this.x[i - 1] + step * headingX(mid, dirX, dirZ);
      this.z[i] = this.z[i - 1] + step * headingZ(mid, dirX, dirZ);
      this.yaw[i] = this.yaw[i - 1] + dyaw;
    }
  }

  /** Linear interpolation of `arr` at time t seconds (clamped to the path). */
  at(arr: Float64Array, t: number): number {
    const f = clamp(t / DT, 0, this.n);
    const i = Math.min(Math.floor(f), this.n - 1);
    return lerp(arr[i], arr[i + 1], f - i);
  }
}

/** How a pair of limbs steps along a root path. */
export interface StepPlan {
  /** Seconds per step (half a gait cycle); rounded so that whole steps fill the path. */
  stepTime: number;
  /** Swing duration over step time. */
  swingFrac: number;
  /** Limb that swings first. */
  first: SideIndex;
  /** Lateral distance of each plant from the path (left positive), metres. */
  halfWidth: number;
  /** Forward offset of the plants from the root, metres. */
  ahead: number;
  /** Height of a planted target, per side. */
  y: readonly [number, number];
  /** Lift at mid-swing, metres. */
  lift: number;
  /**
   * Fraction of a swing spent lifting (and again setting down) the limb; its horizontal travel
   * starts after 60% of that, so it never moves far while still low.
   */
  liftFirst: number;
  /** Delay of the whole pattern in steps (0.5: halfway out of phase with another pair). */
  phase: number;
  /** Fraction of the root's motion a stance target follows (0: planted). */
  slide: number;
}

interface Swing {
  t0: number;
  t1: number;
  x: number;
  z: number;
  yaw: number;
}

/**
 * Targets of two limbs for frames 1..n of `path`: alternating steps, each plant placed beside
 * the root's position at its mid-stance. `start` are the plants before the path begins.
 *
 * @returns per frame, [left, right] (n)
 */
export function planSteps(
  path: RootPath,
  plan: StepPlan,
  start: readonly [FootTarget, FootTarget],
): [FootTarget, FootTarget][] {
  const n = path.n;
  const D = n * DT;
  const m = Math.max(2, Math.round(D / plan.stepTime - plan.phase));
  const ts = D / (m + plan.phase);
  const sw = plan.swingFrac * ts;
  const stance = Math.max(2 * ts - sw, 0.1);
  const swings: [Swing[], Swing[]] = [[], []];
  for (let k = 0; k < m; k++) {
    const s = ((plan.first + k) % 2) as SideIndex;
    const t1 = (k + 1 + plan.phase) * ts;
    const prevLand = k >= 2 ? (k - 1 + plan.phase) * ts : 0;
    const t0 = Math.max(t1 - sw, prevLand + DT, 0);
    const tm = Math.min(t1 + stance / 2, D);
    const yaw = path.at(path.yaw, tm);
    const lat = sideSign(s) * plan.halfWidth;
    swings[s].push({
      t0,
      t1,
      x: path.at(path.x, tm) + headingX(yaw, lat, plan.ahead),
      z: path.at(path.z, tm) + headingZ(yaw, lat, plan.ahead),
      yaw,
    });
  }
  const out: [FootTarget, FootTarget][] = [];
  const cur = [0, 1].map((s) => ({ x: start[s].x, z: start[s].z, yaw: start[s].yaw, td: 0 }));
  const next = [0, 0];
  for (let i = 1; i <= n; i++) {
    const t = i * DT;
    const pair: FootTarget[] = [];
    for (const s of [0, 1] as const) {
      const list = swings[s];
      while (next[s] < list.length && t >= list[next[s]].t1 - 1e-9) {
        const w = list[next[s]++];
        cur[s] = { x: w.x, z: w.z, yaw: w.yaw, td: w.t1 };
      }
      const c = cur[s];
      const sx = (tt: number) => plan.slide * (path.at(path.x, tt) - path.at(path.x, c.td));
      const sz = (tt: number) => plan.slide * (path.at(path.z, tt) - path.at(path.z, c.td));
      const w = next[s] < list.length ? list[next[s]] : null;
      if (w && t > w.t0) {
        const u = (t - w.t0) / (w.t1 - w.t0);
        // Lift first, travel while up, set down last: the foot leaves and meets the floor
        // vertically, so it never moves horizontally while low (what a contact test would see).
        const f = plan.liftFirst;
        const e = smoothstep((u - 0.6 * f) / (1 - 1.2 * f));
        const up = smoothstep(u / f) * smoothstep((1 - u) / f);
        pair.push({
          x: lerp(c.x + sx(w.t0), w.x, e),
          y: plan.y[s] + plan.lift * up,
          z: lerp(c.z + sz(w.t0), w.z, e),
          yaw: lerp(c.yaw, w.yaw, e),
          pitch: -0.15 * up,
          planted: false,
          free: false,
        });
      } else {
        pair.push({
          x: c.x + sx(t),
          y: plan.y[s],
          z: c.z + sz(t),
          yaw: c.yaw,
          pitch: 0,
          planted: true,
          free: false,
        });
      }
    }
    out.push([pair[0], pair[1]]);
  }
  return out;
}
