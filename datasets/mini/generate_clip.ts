/**
 * One clip of the mini dataset: joint positions (T, 22, 3) at 20 fps and its HumanML3D text
 * lines. Every random draw of clip `index` comes from its own Philox stream
 * (`Rng(seed, index + 1)`), so a clip does not depend on which other clips are generated.
 *
 * @module
 */
import { Rng } from "../../kernels/rng/philox.ts";
import { idle } from "./_actions.ts";
import { staySeated } from "./_actions.ts";
import { poseFrames } from "./_pose.ts";
import { FPS } from "./_track.ts";
import { captionFor, type TextLine } from "./captions.ts";
import { buildFamily, type FamilyName, pickFamily, type Segment } from "./families.ts";

/** Fewest joint frames of a clip: 41, so that its features (T - 1 frames) number at least 40. */
export const MIN_FRAMES = 41;
/** Most joint frames of a clip: 200 (features < 200 frames, the HumanML3D loader's bound). */
export const MAX_FRAMES = 200;

/** A generated clip. */
export interface MiniClip {
  /** Six-digit id, like HumanML3D (`000042`). */
  id: string;
  family: FamilyName;
  /** Number of frames T. */
  frames: number;
  /** Joint positions in metres, y up. (T, 22, 3) */
  joints: Float32Array;
  /** Caption lines (3 whole-clip captions, sometimes one more for a segment). */
  texts: TextLine[];
  /** What each stretch of frames shows. */
  segments: Segment[];
}

/** Options of `generateClip()`. */
export interface GenerateClipOptions {
  /** Force this family instead of drawing one. */
  family?: FamilyName;
  /** Stance feet follow this fraction of the root motion (0: planted; the skating variant). */
  slide?: number;
}

/** The id of clip `index`: six digits, zero-padded. */
export function clipId(index: number): string {
  return String(index).padStart(6, "0");
}

/**
 * Generates clip `index` of the dataset drawn with `seed`.
 *
 * @example
 * ```ts
 * import { generateClip } from "./generate_clip.ts";
 * const clip = generateClip(1, 0);
 * console.log(clip.frames >= 41 && clip.frames <= 200); // true
 * ```
 */
export function generateClip(
  seed: number,
  index: number,
  opts: GenerateClipOptions = {},
): MiniClip {
  const rng = new Rng(seed, index + 1);
  const family = opts.family ?? pickFamily(rng);
  const slide = opts.slide ?? 0;
  // Redraw clips that come out too long; pad short ones with standing still.
  for (let attempt = 0;; attempt++) {
    const { track, segments } = buildFamily(family, rng, { slide });
    if (track.length > MAX_FRAMES && attempt < 30) continue;
    if (track.length > MAX_FRAMES) {
      throw new RangeError(`Cannot generate clip ${index}: family ${family} keeps exceeding 10 s`);
    }
    const last = segments[segments.length - 1].sem;
    while (track.length < MIN_FRAMES) {
      const seconds = (MIN_FRAMES - track.length) / FPS;
      if (last.kind === "sit" && !last.standUp) staySeated(track, seconds);
      else if (last.kind === "crawl") break;
      else idle(track, seconds);
    }
    if (track.length < MIN_FRAMES) continue;
    const joints = poseFrames(track.frames);
    return {
      id: clipId(index),
      family,
      frames: track.length,
      joints,
      texts: captionsFor(rng, segments, track.length),
      segments,
    };
  }
}

/** Three distinct whole-clip captions, plus a segment caption where a segment lasts ≥ 2 s. */
function captionsFor(rng: Rng, segments: readonly Segment[], frames: number): TextLine[] {
  const sems = segments.map((s) => s.sem);
  const lines: TextLine[] = [];
  for (let tries = 0; lines.length < 3 && tries < 20; tries++) {
    const line = captionFor(rng, sems);
    if (!lines.some((l) => l.caption === line.caption)) lines.push(line);
  }
  while (lines.length < 3) lines.push(captionFor(rng, sems));
  // The public loader keeps a segment caption only if its span has 40 to 199 feature frames.
  const long = segments.filter((s) => s.f1 - s.f0 >= 40 && s.f1 - s.f0 < 200 && s.f1 < frames);
  const chance = segments.length > 1 ? 0.6 : 0.15;
  if (long.length > 0 && rng.uniform() < chance) {
    const s = rng.pick(long);
    lines.push(captionFor(rng, [s.sem], s.f0 / FPS, s.f1 / FPS));
  }
  return lines;
}
