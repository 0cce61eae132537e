/**
 * Retargeting a generated t2m clip (metres, 20 fps) onto the KIT-ML skeleton (21 joints,
 * millimetres, 12.5 fps) for the KIT-style variant of the mini dataset. Each KIT bone takes the
 * direction of the matching t2m segment and a fixed length (`KIT_BONE_LENGTHS`, a stand-in adult,
 * not the KIT target skeleton), so bone lengths stay exact; frames are resampled linearly in time.
 *
 * KIT joints: 0 root, 1-4 torso, neck, upper neck, head; 5-7 right shoulder, elbow, wrist;
 * 8-10 left arm; 11-15 right hip, knee, ankle, metatarsal, toe; 16-20 left leg.
 *
 * @module
 */
import { KIT, KIT_BONE_LENGTHS } from "../motion/skeleton.ts";

/** For each KIT joint j ≥ 1: the t2m segment [from, to] whose direction its bone takes. (21) */
const SEGMENT: readonly (readonly [number, number])[] = [
  [0, 0],
  [0, 3], // torso: pelvis → spine1
  [3, 9], // lower neck: spine1 → spine3
  [9, 12], // upper neck: spine3 → neck
  [12, 15], // head
  [12, 17], // right shoulder (from the upper neck)
  [17, 19],
  [19, 21],
  [12, 16], // left shoulder
  [16, 18],
  [18, 20],
  [0, 2], // right hip
  [2, 5],
  [5, 8],
  [8, 11], // right metatarsal and toe: along the foot
  [8, 11],
  [0, 1], // left hip
  [1, 4],
  [4, 7],
  [7, 10],
  [7, 10],
];

/** Metres → KIT units (millimetres), scaled so that the leg lengths agree. */
function rootScale(t2mLeg: number): number {
  return (KIT_BONE_LENGTHS[12] + KIT_BONE_LENGTHS[13]) / t2mLeg;
}

/**
 * A t2m clip on the KIT skeleton at 12.5 fps.
 *
 * @param joints t2m joints, metres (T, 22, 3)
 * @returns KIT joints in millimetres (Tk, 21, 3) and Tk = floor((T - 1) · 12.5 / 20) + 1
 */
export function t2mToKit(
  joints: Float32Array,
  T: number,
): { joints: Float32Array; frames: number } {
  const step = 20 / KIT.fps; // t2m frames per KIT frame (1.6)
  const Tk = Math.floor((T - 1) / step) + 1;
  const out = new Float32Array(Tk * 21 * 3); // (Tk, 21, 3)
  const src = new Float64Array(22 * 3); // (22, 3) one interpolated t2m frame
  // Leg length of the t2m clip (frame 0, hip → knee → ankle), for the root scale.
  const dist = (a: number, b: number) =>
    Math.hypot(
      joints[3 * a] - joints[3 * b],
      joints[3 * a + 1] - joints[3 * b + 1],
      joints[3 * a + 2] - joints[3 * b + 2],
    );
  const scale = rootScale(dist(2, 5) + dist(5, 8));
  for (let k = 0; k < Tk; k++) {
    const f = k * step;
    const i = Math.min(Math.floor(f), T - 2);
    const u = f - i;
    for (let c = 0; c < 66; c++) {
      src[c] = joints[i * 66 + c] * (1 - u) + joints[(i + 1) * 66 + c] * u;
    }
    const o = k * 63;
    for (let c = 0; c < 3; c++) out[o + c] = src[c] * scale;
    for (let j = 1; j < 21; j++) {
      const p = KIT.parents[j];
      const [a, b] = SEGMENT[j];
      const dx = src[3 * b] - src[3 * a], dy = src[3 * b + 1] - src[3 * a + 1];
      const dz = src[3 * b + 2] - src[3 * a + 2];
      const n = Math.hypot(dx, dy, dz) || 1;
      const L = KIT_BONE_LENGTHS[j];
      out[o + 3 * j] = out[o + 3 * p] + (L * dx) / n;
      out[o + 3 * j + 1] = out[o + 3 * p + 1] + (L * dy) / n;
      out[o + 3 * j + 2] = out[o + 3 * p + 2] + (L * dz) / n;
    }
  }
  return { joints: out, frames: Tk };
}
