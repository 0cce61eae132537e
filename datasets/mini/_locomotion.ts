/**
 * Stepping locomotion: walking, running, walking backward, side-stepping, curves and circles,
 * and turning in place (speed 0 with a heading change). The root follows an eased velocity
 * profile; footsteps alternate, each foot landing where the pelvis passes over it at
 * mid-stance. A stance foot keeps its plant exactly (or slides with the root by the `slide`
 * fraction, the deliberately skating variant); a swing foot moves between plants on an arc.
 *
 * @module
 */
import type { Frame, V3 } from "./_frame.ts";
import { clamp } from "./_math.ts";
import { ANKLE_Y, type SideIndex, sideSign, STAND_Y } from "./_rest_pose.ts";
import { planSteps, RootPath } from "./_steps.ts";
import { defaultPole, FPS, type Track } from "./_track.ts";

/** Parameters of one stretch of stepping locomotion. */
export interface LocomotionParams {
  /** Seconds. */
  duration: number;
  /** Peak root speed, m/s (0 for turning in place). */
  speed: number;
  /** Unit direction of travel in the heading frame: (0, 1) forward, (1, 0) to the left. */
  dirX: number;
  dirZ: number;
  /** Total heading change over the stretch, radians (positive: to the left). */
  turn: number;
  /** Seconds per step (half a gait cycle). */
  stepTime: number;
  /** Swing duration over step time: < 1 gives double support (walk), > 1 flight (run). */
  swingFrac: number;
  /** Ankle lift at mid-swing, metres. */
  lift: number;
  /** Lateral distance of each foot from the path, metres. */
  halfWidth: number;
  /** Trunk lean, radians. */
  lean: number;
  /** Running arms (elbows bent) and a lower pelvis. */
  run: boolean;
  /** 0: stance feet planted. > 0: a stance foot slides along with the root by this fraction. */
  slide: number;
  /** Which foot swings first. */
  firstFoot: SideIndex;
  /** Arm swing per metre of same-side foot offset along the heading. */
  armSwing: number;
}

/** Appends one stretch of locomotion to `track`. */
export function locomote(track: Track, p: LocomotionParams): void {
  const s0 = track.last;
  const n = Math.max(2, Math.round(p.duration * FPS));
  const path = new RootPath(
    s0.x,
    s0.z,
    s0.yaw,
    n,
    p.speed,
    p.dirX,
    p.dirZ,
    p.turn,
    Math.min(0.6, n / FPS / 3),
  );
  const feet = planSteps(path, {
    stepTime: p.stepTime,
    swingFrac: p.swingFrac,
    first: p.firstFoot,
    halfWidth: p.halfWidth,
    ahead: 0,
    y: ANKLE_Y,
    lift: p.lift,
    liftFirst: p.run ? 0.1 : 0.2,
    phase: 0,
    slide: p.slide,
  }, s0.feet);
  const frames: Frame[] = [];
  for (let i = 1; i <= n; i++) {
    const yaw = path.yaw[i];
    const fwdX = Math.sin(yaw), fwdZ = Math.cos(yaw);
    const pair = feet[i - 1];
    const arm = (s: SideIndex): V3 => {
      const ahead = (pair[s].x - path.x[i]) * fwdX + (pair[s].z - path.z[i]) * fwdZ;
      const swing = clamp(-p.armSwing * ahead, -0.3, 0.3);
      return p.run
        ? [0.06 * sideSign(s), -0.26, 0.16 + swing]
        : [0.04 * sideSign(s), -0.48, 0.04 + swing];
    };
    frames.push({
      x: path.x[i],
      z: path.z[i],
      yaw,
      pelvisY: STAND_Y - (p.run ? 0.04 : 0.03),
      lean: p.lean,
      mode: "upright",
      feet: pair,
      wrist: [arm(0), arm(1)],
      wristWorld: false,
      pole: p.run ? [[0.3, -0.3, -1], [-0.3, -0.3, -1]] : [defaultPole(0), defaultPole(1)],
    });
  }
  track.append(frames);
}
