/** Test support for the motion representation: a synthetic walk and the golden fixture reader. */
import type { SkeletonSpec } from "../../datasets/motion/skeleton.ts";

/** Options of `syntheticWalk`. */
export interface WalkOptions {
  /** Frames. */
  T: number;
  /** Bone length by end joint (root 0), in the skeleton's unit. (J) */
  lengths: readonly number[];
  /** Gait cycle in frames (one left and one right step). */
  period?: number;
  /** Speed at which a foot slides forward during stance (units per frame): 0 = planted. */
  slide?: number;
  /** Yaw (radians) applied to the whole clip, so processing has to undo it. */
  heading?: number;
  /** Toe-down pitch of the feet, radians (default 0.15). */
  footPitch?: number;
  /** Translation applied to the whole clip. */
  offset?: readonly [number, number, number];
}

/** Gait timing, in fractions of a cycle: stance first, then swing. */
export const STANCE = 0.6;

/**
 * Phase of a leg at frame t: `{ stance, s }` with s in [0, 1) the progress inside the phase.
 * The second leg (legIndex 1) is half a cycle behind.
 */
export function legPhase(t: number, period: number, legIndex: number) {
  const x = t / period + 0.5 * legIndex;
  const k = Math.floor(x), u = x - k;
  return u < STANCE
    ? { stance: true, s: u / STANCE, cycle: k }
    : { stance: false, s: (u - STANCE) / (1 - STANCE), cycle: k };
}

/**
 * A straight walk built on the rest pose of `spec` (bones along `rawOffsets`): the root moves
 * towards the toes at a constant speed, each ankle is planted for 60% of the cycle and swings in a
 * lifted arc for 40%, knees come from exact two-bone IK, feet stay horizontal, arms swing about
 * the shoulders, and the rest of the body is carried rigidly. Every bone keeps its length.
 *
 * The legs are the first two chains of `spec.chain` (`[0, hip, knee, ankle, foot...]`).
 *
 * @returns joints, (T, J, 3)
 */
export function syntheticWalk(spec: SkeletonSpec, opts: WalkOptions): Float32Array {
  const J = spec.joints, T = opts.T, L = opts.lengths;
  const period = opts.period ?? spec.fps;
  const slide = opts.slide ?? 0;
  const pitch = opts.footPitch ?? 0.15;
  const rest = new Float64Array(J * 3); // (J, 3)
  for (const chain of spec.chain) {
    for (let k = 1; k < chain.length; k++) {
      for (let c = 0; c < 3; c++) {
        rest[3 * chain[k] + c] = rest[3 * chain[k - 1] + c] + spec.rawOffsets[chain[k]][c] *
            L[chain[k]];
      }
    }
  }
  const legs = [spec.chain[0], spec.chain[1]];
  const toeDir = spec.rawOffsets[legs[0][4]]; // forward: where the feet point in the rest pose
  const legLen = L[legs[0][2]] + L[legs[0][3]];
  const unit = legLen / 0.82; // 1 for metres on the t2m skeleton
  const stride = 1.0 * unit, v = stride / period;
  const lift = 0.15 * unit;
  const rootH = 0.88 * legLen;
  const out = new Float64Array(T * J * 3); // (T, J, 3)
  // Horizontal frame of the walk: forward f = toeDir (x, z), lateral axis a = Y × f.
  const fx = toeDir[0], fz = toeDir[2];
  for (let t = 0; t < T; t++) {
    const o = t * J * 3;
    const along = v * t;
    const root = [fx * along, rootH, fz * along];
    // Upper body and hips: carried rigidly with the root.
    for (let j = 0; j < J; j++) {
      for (let c = 0; c < 3; c++) out[o + 3 * j + c] = root[c] + rest[3 * j + c];
    }
    // Arms: chains that start above the root, from their third joint on (collar → shoulder →
    // elbow → wrist), swing about the lateral axis through the shoulder.
    for (const chain of spec.chain.slice(2)) {
      if (chain[0] === 0 || chain.length < 4) continue;
      const pivot = chain.length === 5 ? chain[2] : chain[1];
      const swing = 0.35 * Math.sin(2 * Math.PI * t / period + (rest[3 * pivot] > 0 ? 0 : Math.PI));
      const cs = Math.cos(swing), sn = Math.sin(swing);
      for (const j of chain.slice(chain.indexOf(pivot) + 1)) {
        // Rotate (p - pivot) about the lateral axis (Y × f): the forward/up components mix.
        const dx = rest[3 * j] - rest[3 * pivot], dy = rest[3 * j + 1] - rest[3 * pivot + 1];
        const dz = rest[3 * j + 2] - rest[3 * pivot + 2];
        const df = dx * fx + dz * fz, dl = dx * fz - dz * fx;
        const nf = cs * df - sn * dy, ny = sn * df + cs * dy;
        out[o + 3 * j] = root[0] + rest[3 * pivot] + nf * fx + dl * fz;
        out[o + 3 * j + 1] = root[1] + rest[3 * pivot + 1] + ny;
        out[o + 3 * j + 2] = root[2] + rest[3 * pivot + 2] + nf * fz - dl * fx;
      }
    }
    for (let leg = 0; leg < 2; leg++) {
      const [, hip, knee, ankle, ...foot] = legs[leg];
      const ph = legPhase(t, period, leg);
      // Plant k sits where the root is halfway through stance k.
      const plant = (k: number) => stride * (k - 0.5 * leg + STANCE / 2);
      let a: number, ay = 0;
      if (ph.stance) a = plant(ph.cycle) + slide * ph.s * STANCE * period;
      else {
        const from = plant(ph.cycle) + slide * STANCE * period, to = plant(ph.cycle + 1);
        a = from + (to - from) * (1 - Math.cos(Math.PI * ph.s)) / 2;
        ay = lift * Math.sin(Math.PI * ph.s);
      }
      const hx = out[o + 3 * hip], hy = out[o + 3 * hip + 1], hz = out[o + 3 * hip + 2];
      // Ankle: at the hip's lateral coordinate (along Y × f = (fz, 0, -fx)), `a` along the walk.
      const lat = hx * fz - hz * fx;
      const A = [fx * a + fz * lat, ay, fz * a - fx * lat];
      // Two-bone IK: the knee bends towards the walking direction.
      const ex = A[0] - hx, ey = A[1] - hy, ez = A[2] - hz;
      const d = Math.hypot(ex, ey, ez);
      const th = L[knee], sh = L[ankle];
      const cosA = (th * th + d * d - sh * sh) / (2 * th * d);
      const sinA = Math.sqrt(Math.max(0, 1 - cosA * cosA));
      const ux = ex / d, uy = ey / d, uz = ez / d;
      const fd = fx * ux + fz * uz;
      let nx = fx - fd * ux, ny = -fd * uy, nz = fz - fd * uz;
      const nn = Math.hypot(nx, ny, nz);
      nx /= nn;
      ny /= nn;
      nz /= nn;
      const K = [
        hx + th * (cosA * ux + sinA * nx),
        hy + th * (cosA * uy + sinA * ny),
        hz + th *
          (cosA * uz + sinA * nz),
      ];
      for (let c = 0; c < 3; c++) {
        out[o + 3 * knee + c] = K[c];
        out[o + 3 * ankle + c] = A[c];
      }
      // Feet: pointing forward, pitched toe-down.
      const cp = Math.cos(pitch), sp = Math.sin(pitch);
      let reach = 0;
      for (const j of foot) {
        reach += L[j];
        out[o + 3 * j] = A[0] + fx * reach * cp;
        out[o + 3 * j + 1] = A[1] - reach * sp;
        out[o + 3 * j + 2] = A[2] + fz * reach * cp;
      }
    }
  }
  // Global heading and offset.
  const th = opts.heading ?? 0, [dx, dy, dz] = opts.offset ?? [0, 0, 0];
  const c = Math.cos(th), s = Math.sin(th);
  const res = new Float32Array(T * J * 3); // (T, J, 3)
  for (let i = 0; i < T * J; i++) {
    const x = out[3 * i], y = out[3 * i + 1], z = out[3 * i + 2];
    res[3 * i] = c * x + s * z + dx;
    res[3 * i + 1] = y + dy;
    res[3 * i + 2] = -s * x + c * z + dz;
  }
  return res;
}

/** Bone lengths of every frame. joints (T, J, 3) → (T, J) (root 0). */
export function boneLengths(
  joints: ArrayLike<number>,
  T: number,
  spec: SkeletonSpec,
): Float64Array {
  const J = spec.joints;
  const out = new Float64Array(T * J); // (T, J)
  for (let t = 0; t < T; t++) {
    for (let j = 1; j < J; j++) {
      const a = (t * J + j) * 3, b = (t * J + spec.parents[j]) * 3;
      out[t * J + j] = Math.hypot(
        joints[a] - joints[b],
        joints[a + 1] - joints[b + 1],
        joints[a + 2] - joints[b + 2],
      );
    }
  }
  return out;
}

/** A golden fixture: its JSON header and arrays (raw little-endian float32 files). */
export interface MotionFixture {
  meta: Record<string, unknown>;
  arrays: Record<string, { data: Float32Array; shape: number[] }>;
}

/** The directory of the motion fixtures. */
export const GOLDEN_DIR = new URL("../golden/motion/", import.meta.url);

/** Reads fixture `name` (`NAME.json` plus its `.f32` files) from tests/golden/motion. */
export function readFixture(name: string): MotionFixture {
  const meta = JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, GOLDEN_DIR)));
  const arrays: MotionFixture["arrays"] = {};
  for (
    const [key, spec] of Object.entries(
      meta.arrays as Record<string, { file: string; shape: number[] }>,
    )
  ) {
    arrays[key] = { data: readF32(new URL(spec.file, GOLDEN_DIR)), shape: spec.shape };
  }
  return { meta, arrays };
}

/** Reads a raw little-endian float32 file. */
export function readF32(path: string | URL): Float32Array {
  const bytes = Deno.readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Writes a raw little-endian float32 file. */
export function writeF32(path: string, data: ArrayLike<number>): void {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  Deno.writeFileSync(path, bytes);
}
