/**
 * The public loader's crop (`Text2MotionDatasetV2.__getitem__`): the length is cut to a multiple
 * of `unitLength`, and with probability 1/3 one unit shorter (a coin from {single, single,
 * double}), then a window of that length starts at a uniform random frame.
 * @module
 */
import type { Rng } from "../../kernels/rng/philox.ts";

/** A crop window inside a clip. */
export interface Crop {
  /** First frame of the window. */
  start: number;
  /** Window length: a multiple of the unit length. */
  length: number;
}

/**
 * Draws the crop of a clip of `clipLength` frames. Draws (in this order): the coin
 * (`rng.int(3)`, 2 = double), then the start (`rng.int(clipLength - length + 1)`).
 *
 * `disableRandomCrop` (the `--disable_random_crop` flag, "no random crop and no offset
 * augmentation") keeps the whole clip cut to a multiple of the unit: always the single length,
 * start 0, and no draws, so fixed segment durations (composite data) stay aligned.
 */
export function cropWindow(
  clipLength: number,
  rng: Rng,
  unitLength = 4,
  disableRandomCrop = false,
): Crop {
  const units = Math.floor(clipLength / unitLength);
  if (units < 2) {
    throw new RangeError(
      `Cannot crop a clip of ${clipLength} frames: it needs at least 2 units of ${unitLength}`,
    );
  }
  if (disableRandomCrop) return { start: 0, length: units * unitLength };
  // The public loader uses the coin only when unit_length < 10 (always, with unit 4).
  const double = unitLength < 10 && rng.int(3) === 2;
  const length = (double ? units - 1 : units) * unitLength;
  const start = rng.int(clipLength - length + 1);
  return { start, length };
}
