/**
 * One frame of the generator's control state: where the body goes (root on the floor, heading,
 * pelvis height, trunk lean), where each foot should be (ankle targets, planted or swinging), and
 * where each hand should be. `poseFrames()` turns a list of them into joint positions.
 *
 * @module
 */

/** A mutable 3-vector. */
export type V3 = [number, number, number];

/** Target of one foot: the ankle position and the foot's orientation. */
export interface FootTarget {
  /** Ankle target, metres (world). */
  x: number;
  y: number;
  z: number;
  /** Heading of the foot (yaw about +Y, 0 = facing +Z). */
  yaw: number;
  /** Toe-down pitch of the foot, radians (0 = flat). */
  pitch: number;
  /** True while the foot bears weight and must not move. */
  planted: boolean;
  /** True for a leg that may leave its target unreached (a kick): no pelvis lowering for it. */
  free: boolean;
}

/** Body control state at one frame. */
export interface Frame {
  /** Root (pelvis) position on the floor plane. */
  x: number;
  z: number;
  /** Heading: yaw about +Y; 0 faces +Z, positive turns toward the body's left (+X). */
  yaw: number;
  /** Desired pelvis height; lowered where a constrained leg could not reach its ankle target. */
  pelvisY: number;
  /** Forward pitch of the trunk, radians (the pelvis takes a third of it). */
  lean: number;
  /** `"crawl"`: knees bend down to the floor and the feet trail behind, toes down. */
  mode: "upright" | "crawl";
  /** Left, right. */
  feet: [FootTarget, FootTarget];
  /** Wrist targets relative to each shoulder in the heading frame (x left, y up, z forward). */
  wrist: [V3, V3];
  /** When set, `wrist` holds world positions instead (hands planted while crawling). */
  wristWorld: boolean;
  /** Elbow pole direction per arm, heading frame. */
  pole: [V3, V3];
}

/** A deep copy of a frame. */
export function cloneFrame(f: Frame): Frame {
  return {
    x: f.x,
    z: f.z,
    yaw: f.yaw,
    pelvisY: f.pelvisY,
    lean: f.lean,
    mode: f.mode,
    feet: [{ ...f.feet[0] }, { ...f.feet[1] }],
    wrist: [[...f.wrist[0]], [...f.wrist[1]]],
    wristWorld: f.wristWorld,
    pole: [[...f.pole[0]], [...f.pole[1]]],
  };
}
