/**
 * The attention's softmax in float32 arithmetic, as the WASM kernel (kernels/wasm/attention.wat)
 * computes it: this file is its host twin, every float32 operation written as `Math.fround` of the
 * float64 one (exact for a product of two float32 values; for a sum or a quotient the double
 * rounding gives the correctly rounded float32 result, float64 having more than 2 * 24 + 2 bits).
 *
 * `expF32(d)` for `d <= 0` (d = score - row max), the only exponentials the softmax needs:
 * - `k = floor(d log2e + 1/2)`, `r = (d - k LN2_HI) - k LN2_LO` with `LN2_HI` holding 9 bits of
 *   ln2 (so `k LN2_HI` is exact for |k| < 2^15) and `LN2_LO` the next 24; `|r| <= ln2/2` up to
 *   roundings;
 * - `exp(r) = 1 + (r + r^2 g(r))`, `g(r) = (exp(r) - 1 - r) / r^2`, by `G`: the degree-4
 *   Chebyshev interpolant of g on [-ln2/2, ln2/2] (computed below at load time from g's series,
 *   then rounded to float32), in Horner form. Interpolation error below 1e-8 relative to exp(r);
 * - `e = q 2^k`. Below `d = -87.5` (exp under float32's smallest normal, 1.2e-38) the result is 0.
 *
 * Checked against `Math.exp` over every float32 d in [-87.5, 0] on a stride (tests): within 1.5
 * ulp, about 99% of the results correctly rounded. The row sum runs in four float32 lanes (key s
 * in lane s mod 4, as the kernel's four-wide blocks), combined as (0 + 1) + (2 + 3); every
 * probability is `e * f32(1 / sum)`. PyTorch's CPU softmax also works in float32 lanes.
 */

const f32 = Math.fround;

/** Below this `d = score - max` the exponential is taken as 0. */
export const EXP_F32_MIN_D = -87.5;
/** float32 log2(e). */
const LOG2E = f32(Math.LOG2E);
/** ln2 = LN2_HI + LN2_LO + 1.6e-12: 9 significant bits, then the next 24. */
const LN2_HI = 0.693359375;
const LN2_LO = f32(Math.LN2 - LN2_HI);
/** Coefficients of g, lowest degree first. */
const G_DEGREE = 4;

/** g(r) = (e^r - 1 - r)/r^2 = sum_n r^n / (n + 2)!, float64 (|r| < 1). */
function gSeries(r: number): number {
  let term = 0.5, sum = 0.5;
  for (let n = 1; n < 30; n++) {
    term *= r / (n + 2);
    sum += term;
  }
  return sum;
}

/**
 * Monomial coefficients of the degree-`G_DEGREE` Chebyshev interpolant of g on [-ln2/2, ln2/2],
 * rounded to float32.
 */
function fitG(): number[] {
  const n = G_DEGREE + 1, half = Math.LN2 / 2;
  // cheb[k] (n): monomial coefficients of the Chebyshev polynomial T_k in u = r / half
  const cheb: number[][] = [];
  for (let k = 0; k < n; k++) {
    const t = new Array<number>(n).fill(0);
    if (k <= 1) t[k] = 1;
    else {
      for (let m = 1; m < n; m++) t[m] = 2 * cheb[k - 1][m - 1];
      for (let m = 0; m < n; m++) t[m] -= cheb[k - 2][m];
    }
    cheb.push(t);
  }
  const mono = new Array<number>(n).fill(0);
  for (let k = 0; k < n; k++) {
    let c = 0;
    for (let j = 0; j < n; j++) {
      const theta = (Math.PI * (j + 0.5)) / n;
      c += gSeries(half * Math.cos(theta)) * Math.cos(k * theta);
    }
    c *= (k === 0 ? 1 : 2) / n;
    for (let m = 0; m < n; m++) mono[m] += (c * cheb[k][m]) / half ** m;
  }
  return mono.map(f32);
}

/** g's float32 coefficients, lowest degree first (the kernel's literals). */
export const EXP_F32_G: readonly number[] = fitG();
const [G0, G1, G2, G3, G4] = EXP_F32_G;

/** exp(d) for a float32 `d <= 0` in the kernel's float32 steps; NaN stays NaN. */
export function expF32(d: number): number {
  if (d < EXP_F32_MIN_D) return 0;
  const k = Math.floor(f32(f32(d * LOG2E) + 0.5));
  const r = f32(f32(d - k * LN2_HI) - f32(k * LN2_LO));
  let g = f32(f32(G4 * r) + G3);
  g = f32(f32(g * r) + G2);
  g = f32(f32(g * r) + G1);
  g = f32(f32(g * r) + G0);
  return f32(f32(1 + f32(r + f32(f32(r * r) * g))) * 2 ** k);
}

/** Reused (T) float32 scratch of the row's exponentials. */
let rowE = new Float32Array(256);

/**
 * Softmax of the float32 scores `x[o .. o+T)` in place, keys with `mask[m + s] === 0` getting
 * exactly 0 and a row with every key masked becoming zeros: the kernel's float32 steps (see the
 * module doc). `max` is the row's largest unmasked score (-Infinity when every key is masked).
 */
export function softmaxRowF32(
  x: Float32Array,
  o: number,
  max: number,
  mask: ArrayLike<number> | null,
  m: number,
  T: number,
): void {
  if (max === -Infinity) {
    x.fill(0, o, o + T);
    return;
  }
  if (rowE.length < T) rowE = new Float32Array(T);
  const lanes = [0, 0, 0, 0];
  for (let s = 0; s < T; s++) {
    const e = mask !== null && mask[m + s] === 0 ? 0 : expF32(f32(x[o + s] - max));
    rowE[s] = e;
    lanes[s & 3] = f32(lanes[s & 3] + e);
  }
  const inv = f32(1 / f32(f32(lanes[0] + lanes[1]) + f32(lanes[2] + lanes[3])));
  for (let s = 0; s < T; s++) x[o + s] = rowE[s] * inv;
}
