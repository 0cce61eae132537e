/**
 * Z-normalisation of motion features with the dataset's `Mean.npy` / `Std.npy`:
 * `x_n = (x - Mean) / Std` per feature, and its inverse `x = x_n * Std + Mean`.
 * @module
 */

function checkSizes(what: string, motion: Float32Array, mean: Float32Array, std: Float32Array) {
  const f = mean.length;
  if (std.length !== f || motion.length % f !== 0) {
    throw new RangeError(
      `Cannot ${what} motion: ${motion.length} values with mean of ${f} and std of ${std.length}`,
    );
  }
}

/** `(x - mean) / std` for a `(T, F)` motion; returns a new array. */
export function normalise(
  motion: Float32Array, // (T, F)
  mean: Float32Array, // (F)
  std: Float32Array, // (F)
): Float32Array {
  checkSizes("normalise", motion, mean, std);
  const f = mean.length;
  const out = new Float32Array(motion.length); // (T, F)
  for (let row = 0; row < motion.length; row += f) {
    for (let c = 0; c < f; c++) out[row + c] = (motion[row + c] - mean[c]) / std[c];
  }
  return out;
}

/** `x * std + mean` for a `(T, F)` normalised motion (MDM's `inv_transform`); returns a new array. */
export function inverseNormalise(
  motion: Float32Array, // (T, F)
  mean: Float32Array, // (F)
  std: Float32Array, // (F)
): Float32Array {
  checkSizes("denormalise", motion, mean, std);
  const f = mean.length;
  const out = new Float32Array(motion.length); // (T, F)
  for (let row = 0; row < motion.length; row += f) {
    for (let c = 0; c < f; c++) out[row + c] = motion[row + c] * std[c] + mean[c];
  }
  return out;
}
