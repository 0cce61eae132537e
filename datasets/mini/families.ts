/**
 * Motion families of the mini dataset: each draws its parameters from an `Rng`, appends the
 * motion to a `Track`, and reports its segments (what each stretch of frames shows) for the
 * captioner. Combinations chain two or three single actions.
 *
 * @module
 */
import type { Rng } from "../../kernels/rng/philox.ts";
import {
  crawl,
  crawlFrame,
  idle,
  jump,
  kick,
  sitDown,
  squat,
  standUp,
  staySeated,
  wave,
} from "./_actions.ts";
import { locomote } from "./_locomotion.ts";
import { between } from "./_math.ts";
import type { SideIndex } from "./_rest_pose.ts";
import { standingFrame, Track } from "./_track.ts";
import type { Semantic, Side } from "./captions.ts";

/** A stretch of frames [f0, f1] (joint frame indices) and what it shows. */
export interface Segment {
  sem: Semantic;
  f0: number;
  f1: number;
}

/** Options shared by every family. */
export interface FamilyOptions {
  /** Fraction of the root motion that stance feet follow (0: planted; the skating variant > 0). */
  slide: number;
}

/** Names of the motion families. */
export const FAMILY_NAMES = [
  "walk",
  "walk_circle",
  "walk_backward",
  "run",
  "turn",
  "jump",
  "kick",
  "wave",
  "squat",
  "sit",
  "sidestep",
  "crawl",
  "combo",
] as const;

/** A motion family name. */
export type FamilyName = typeof FAMILY_NAMES[number];

/** Relative frequency of each family in the dataset. */
export const FAMILY_WEIGHTS: Readonly<Record<FamilyName, number>> = {
  walk: 14,
  walk_circle: 5,
  walk_backward: 4,
  run: 9,
  turn: 8,
  jump: 8,
  kick: 7,
  wave: 7,
  squat: 6,
  sit: 6,
  sidestep: 6,
  crawl: 4,
  combo: 20,
};

const sideName = (s: SideIndex): Side => (s === 0 ? "left" : "right");

function pickSide(rng: Rng): SideIndex {
  return rng.int(2) as SideIndex;
}

function pickCount(rng: Rng, weights: readonly number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng.uniform() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i + 1;
  }
  return weights.length;
}

/** Runs `act` on the track and records its frames as a segment with `sem`. */
function record(track: Track, out: Segment[], sem: Semantic, act: () => void): void {
  const f0 = track.length - 1;
  act();
  out.push({ sem, f0, f1: track.length - 1 });
}

// ---- single actions ----------------------------------------------------------------------------

type Action = (rng: Rng, track: Track, out: Segment[], o: FamilyOptions) => void;

function walkAction(path: "straight" | "circle" | "curve", shortish = false): Action {
  return (rng, track, out, o) => {
    const r = rng.uniform();
    const speed = r < 0.25 ? "slow" : r < 0.8 ? "normal" : "fast";
    const v = speed === "slow"
      ? between(rng, 0.6, 0.9)
      : speed === "normal"
      ? between(rng, 1.0, 1.35)
      : between(rng, 1.45, 1.75);
    // Step length grows with speed (about 0.55 m slow to 0.7 m fast), as in human gait.
    const stepTime = ((0.45 + 0.15 * v) / v) * between(rng, 0.95, 1.05);
    const side = pickSide(rng);
    const turnSign = side === 0 ? 1 : -1;
    const duration = path === "circle"
      ? between(rng, 5.5, 8.5)
      : path === "curve"
      ? between(rng, 3, 6)
      : shortish
      ? between(rng, 2, 4)
      : between(rng, 2.5, 7);
    const turn = path === "circle"
      ? turnSign * 2 * Math.PI
      : path === "curve"
      ? turnSign * between(rng, 0.7, 1.6)
      : between(rng, -0.15, 0.15);
    record(track, out, { kind: "walk", speed, path, turn: sideName(side) }, () =>
      locomote(track, {
        duration,
        speed: v,
        dirX: 0,
        dirZ: 1,
        turn,
        stepTime,
        swingFrac: 0.8,
        lift: between(rng, 0.08, 0.12),
        halfWidth: between(rng, 0.08, 0.11),
        lean: speed === "fast" ? between(rng, 0.06, 0.12) : between(rng, 0.02, 0.06),
        run: false,
        slide: o.slide,
        firstFoot: pickSide(rng),
        armSwing: between(rng, 0.5, 0.9),
      }));
  };
}

const walkBackward: Action = (rng, track, out, o) => {
  record(track, out, { kind: "walk_backward" }, () =>
    locomote(track, {
      duration: between(rng, 2.5, 5),
      speed: between(rng, 0.45, 0.75),
      dirX: 0,
      dirZ: -1,
      turn: between(rng, -0.1, 0.1),
      stepTime: between(rng, 0.55, 0.65),
      swingFrac: 0.8,
      lift: between(rng, 0.07, 0.1),
      halfWidth: between(rng, 0.08, 0.11),
      lean: between(rng, -0.06, 0),
      run: false,
      slide: o.slide,
      firstFoot: pickSide(rng),
      armSwing: between(rng, 0.2, 0.4),
    }));
};

function runAction(path: "straight" | "circle" | "curve"): Action {
  return (rng, track, out, o) => {
    const fast = rng.uniform() < 0.3;
    const side = pickSide(rng);
    const turnSign = side === 0 ? 1 : -1;
    const duration = path === "circle" ? between(rng, 4.5, 6.5) : between(rng, 2, 4.5);
    const turn = path === "circle"
      ? turnSign * 2 * Math.PI
      : path === "curve"
      ? turnSign * between(rng, 0.8, 1.8)
      : between(rng, -0.15, 0.15);
    record(
      track,
      out,
      { kind: "run", speed: fast ? "fast" : "normal", path, turn: sideName(side) },
      () =>
        locomote(track, {
          duration,
          speed: path === "circle"
            ? between(rng, 1.8, 2.4)
            : fast
            ? between(rng, 3.2, 3.8)
            : between(rng, 2.2, 3.0),
          dirX: 0,
          dirZ: 1,
          turn,
          stepTime: fast ? between(rng, 0.3, 0.33) : between(rng, 0.33, 0.38),
          swingFrac: 1.3,
          lift: between(rng, 0.18, 0.25),
          halfWidth: between(rng, 0.05, 0.07),
          lean: between(rng, 0.15, 0.25),
          run: true,
          slide: o.slide,
          firstFoot: pickSide(rng),
          armSwing: between(rng, 0.5, 0.8),
        }),
    );
  };
}

const turnAction: Action = (rng, track, out, o) => {
  const side = pickSide(rng);
  const angle = rng.pick([90, 90, 180, 180, 360] as const);
  const duration = angle === 90
    ? between(rng, 1.2, 1.8)
    : angle === 180
    ? between(rng, 1.8, 2.6)
    : between(rng, 3, 4.2);
  record(track, out, { kind: "turn", side: sideName(side), angle }, () =>
    locomote(track, {
      duration,
      speed: 0,
      dirX: 0,
      dirZ: 1,
      turn: (side === 0 ? 1 : -1) * (angle * Math.PI) / 180,
      stepTime: between(rng, 0.45, 0.6),
      swingFrac: 0.7,
      lift: between(rng, 0.07, 0.09),
      halfWidth: 0.1,
      lean: 0.02,
      run: false,
      slide: o.slide,
      firstFoot: side,
      armSwing: 0.2,
    }));
};

const sidestepAction: Action = (rng, track, out, o) => {
  const side = pickSide(rng);
  record(track, out, { kind: "sidestep", side: sideName(side) }, () =>
    locomote(track, {
      duration: between(rng, 2, 4.5),
      speed: between(rng, 0.35, 0.6),
      dirX: side === 0 ? 1 : -1,
      dirZ: 0,
      turn: 0,
      stepTime: between(rng, 0.5, 0.65),
      swingFrac: 0.75,
      lift: between(rng, 0.07, 0.1),
      halfWidth: between(rng, 0.1, 0.13),
      lean: 0.02,
      run: false,
      slide: o.slide,
      firstFoot: side,
      armSwing: 0.1,
    }));
};

const jumpAction: Action = (rng, track, out) => {
  const forward = rng.uniform() < 0.45;
  const count = pickCount(rng, [6, 3, 1]);
  record(track, out, { kind: "jump", forward, count }, () => {
    for (let k = 0; k < count; k++) {
      if (k > 0) idle(track, between(rng, 0.05, 0.3));
      jump(track, {
        forward: forward ? between(rng, 0.4, 0.9) : between(rng, -0.03, 0.05),
        crouch: between(rng, 0.12, 0.22),
        flight: between(rng, 0.3, 0.45),
        prepare: between(rng, 0.35, 0.5),
      });
    }
  });
};

const kickAction: Action = (rng, track, out) => {
  const side = pickSide(rng);
  const count = pickCount(rng, [7, 3]);
  record(track, out, { kind: "kick", side: sideName(side), count }, () => {
    for (let k = 0; k < count; k++) {
      kick(track, {
        side,
        height: between(rng, 0.3, 0.6),
        reach: between(rng, 0.35, 0.55),
        tempo: between(rng, 0.85, 1.2),
      });
    }
  });
};

const waveAction: Action = (rng, track, out) => {
  const r = rng.uniform();
  const side = r < 0.4 ? "left" : r < 0.8 ? "right" : "both";
  record(track, out, { kind: "wave", side }, () =>
    wave(track, {
      left: side !== "right",
      right: side !== "left",
      freq: between(rng, 1.5, 2.5),
      cycles: 3 + rng.int(4),
      height: between(rng, 0.35, 0.5),
    }));
};

const squatAction: Action = (rng, track, out) => {
  const count = pickCount(rng, [5, 3, 2]);
  record(track, out, { kind: "squat", count }, () => {
    for (let k = 0; k < count; k++) {
      squat(track, between(rng, 0.28, 0.42), between(rng, 1.6, 2.4));
    }
  });
};

const sitAction: Action = (rng, track, out) => {
  const up = rng.uniform() < 0.5;
  record(track, out, { kind: "sit", standUp: up }, () => {
    sitDown(track, between(rng, 1.3, 1.8));
    staySeated(track, between(rng, 0.6, 1.8));
    if (up) standUp(track, between(rng, 1.3, 1.8));
  });
};

// ---- families ----------------------------------------------------------------------------------

/** Builds one clip of `family`: the frames (in `track`) and their segments. */
export function buildFamily(
  family: FamilyName,
  rng: Rng,
  o: FamilyOptions,
): { track: Track; segments: Segment[] } {
  const yaw0 = between(rng, -Math.PI, Math.PI);
  const out: Segment[] = [];
  if (family === "crawl") {
    const track = new Track(crawlFrame(0, 0, yaw0));
    const turn = rng.uniform() < 0.7 ? 0 : between(rng, -0.8, 0.8);
    record(
      track,
      out,
      { kind: "crawl" },
      () =>
        crawl(track, between(rng, 3, 7), between(rng, 0.25, 0.45), turn, between(rng, 0.55, 0.75)),
    );
    return { track, segments: out };
  }
  const track = new Track(standingFrame(0, 0, yaw0));
  idle(track, between(rng, 0.1, 0.7));
  const single: Record<Exclude<FamilyName, "crawl" | "combo">, Action> = {
    walk: rng.uniform() < 0.75 ? walkAction("straight") : walkAction("curve"),
    walk_circle: walkAction("circle"),
    walk_backward: walkBackward,
    run: rng.uniform() < 0.8
      ? runAction("straight")
      : runAction(rng.uniform() < 0.5 ? "curve" : "circle"),
    turn: turnAction,
    jump: jumpAction,
    kick: kickAction,
    wave: waveAction,
    squat: squatAction,
    sit: sitAction,
    sidestep: sidestepAction,
  };
  if (family === "combo") {
    const r = rng.uniform();
    if (r < 0.2) {
      // Walk, turn around, walk back.
      walkAction("straight", true)(rng, track, out, o);
      const side = pickSide(rng);
      record(track, out, { kind: "turn", side: sideName(side), angle: 180 }, () =>
        locomote(track, {
          duration: between(rng, 1.6, 2.2),
          speed: 0,
          dirX: 0,
          dirZ: 1,
          turn: (side === 0 ? 1 : -1) * Math.PI,
          stepTime: between(rng, 0.45, 0.55),
          swingFrac: 0.7,
          lift: 0.07,
          halfWidth: 0.1,
          lean: 0.02,
          run: false,
          slide: o.slide,
          firstFoot: side,
          armSwing: 0.2,
        }));
      walkAction("straight", true)(rng, track, out, o);
    } else {
      const first: Action[] = [
        walkAction("straight", true),
        walkAction("straight", true),
        runAction("straight"),
        sidestepAction,
        turnAction,
        jumpAction,
        squatAction,
        kickAction,
        waveAction,
      ];
      const second: Action[] = [
        waveAction,
        turnAction,
        jumpAction,
        kickAction,
        squatAction,
        sitAction,
        walkAction("straight", true),
      ];
      const a = rng.pick(first);
      let b = rng.pick(second);
      while (b === a) b = rng.pick(second);
      a(rng, track, out, o);
      if (rng.uniform() < 0.5) idle(track, between(rng, 0.1, 0.5));
      b(rng, track, out, o);
    }
  } else {
    single[family](rng, track, out, o);
  }
  const lastSem = out[out.length - 1].sem;
  if (lastSem.kind === "sit" && !lastSem.standUp) staySeated(track, between(rng, 0.1, 0.8));
  else idle(track, between(rng, 0.1, 0.8));
  return { track, segments: out };
}

/** Draws a family name by `FAMILY_WEIGHTS`. */
export function pickFamily(rng: Rng): FamilyName {
  const total = FAMILY_NAMES.reduce((a, f) => a + FAMILY_WEIGHTS[f], 0);
  let u = rng.uniform() * total;
  for (const f of FAMILY_NAMES) {
    u -= FAMILY_WEIGHTS[f];
    if (u < 0) return f;
  }
  return "walk";
}
