/**
 * A growing list of control frames at 20 fps. Actions append frames that start from the current
 * last frame; `append()` cross-fades the upper-body channels (lean, pelvis height, hands) from
 * the previous action over the first few frames so that actions join without jumps.
 *
 * @module
 */
import type { Frame, V3 } from "./_frame.ts";
import { headingX, headingZ, lerp, smoothstep } from "./_math.ts";
import { ANKLE_Y, type SideIndex, sideSign, STANCE_HALF_WIDTH, STAND_Y } from "./_rest_pose.ts";

/** Frames per second of HumanML3D. */
export const FPS = 20;
/** Seconds per frame. */
export const DT = 1 / FPS;

/** Wrist of a hanging arm, relative to the shoulder (heading frame). */
export function hangingWrist(s: SideIndex): V3 {
  return [0.04 * sideSign(s), -0.49, 0.04];
}

/** Default elbow pole: backward and a little outward. */
export function defaultPole(s: SideIndex): V3 {
  return [0.4 * sideSign(s), 0, -1];
}

/** A relaxed standing frame at (x, z) facing `yaw`, feet flat under the hips. */
export function standingFrame(x: number, z: number, yaw: number): Frame {
  const foot = (s: SideIndex) => ({
    x: x + headingX(yaw, sideSign(s) * STANCE_HALF_WIDTH, 0),
    y: ANKLE_Y[s],
    z: z + headingZ(yaw, sideSign(s) * STANCE_HALF_WIDTH, 0),
    yaw,
    pitch: 0,
    planted: true,
    free: false,
  });
  return {
    x,
    z,
    yaw,
    pelvisY: STAND_Y,
    lean: 0,
    mode: "upright",
    feet: [foot(0), foot(1)],
    wrist: [hangingWrist(0), hangingWrist(1)],
    wristWorld: false,
    pole: [defaultPole(0), defaultPole(1)],
  };
}

/** Frames of one clip under construction. */
export class Track {
  readonly frames: Frame[];

  constructor(first: Frame) {
    this.frames = [first];
  }

  /** The current (last) frame. */
  get last(): Frame {
    return this.frames[this.frames.length - 1];
  }

  /** Number of frames so far (the first, initial frame included). */
  get length(): number {
    return this.frames.length;
  }

  /**
   * Appends `frames`, cross-fading lean, pelvis height, wrists and poles from the current last
   * frame over the first `blend` of them (only between frames of the same hand mode).
   */
  append(frames: Frame[], blend = 6): void {
    const prev = this.last;
    const n = Math.min(blend, frames.length);
    for (let i = 0; i < n; i++) {
      const f = frames[i];
      const u = smoothstep((i + 1) / (n + 1));
      f.lean = lerp(prev.lean, f.lean, u);
      f.pelvisY = lerp(prev.pelvisY, f.pelvisY, u);
      if (f.wristWorld !== prev.wristWorld) continue;
      for (const s of [0, 1] as const) {
        for (let c = 0; c < 3; c++) {
          f.wrist[s][c] = lerp(prev.wrist[s][c], f.wrist[s][c], u);
          f.pole[s][c] = lerp(prev.pole[s][c], f.pole[s][c], u);
        }
      }
    }
    for (const f of frames) this.frames.push(f);
  }
}
