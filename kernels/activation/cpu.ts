/**
 * Activations, CPU twin: exact (erf) GELU and SiLU, element-wise over `n` values.
 * Backward kernels overwrite `dinp` (activation gradients are never accumulated).
 * Host arrays may be float32 (the backend) or float64 (finite-difference checks).
 *
 * GELU has two versions: `geluForwardRef`/`geluBackwardRef` evaluate the float64 erf of
 * `_erf.ts` per element (the readable truth, ~90 ns each); `geluForward`/`geluBackward` evaluate
 * piecewise polynomials that interpolate those same reference functions (a few ns each). The
 * polynomials are built here at load time from the reference: on each interval of width 1/8 of
 * [-10, 10), the degree-7 Chebyshev interpolant of `Phi(x)` (forward) and of
 * `Phi(x) + x phi(x)` (backward). The interpolation error is below 1e-13 absolute and, because the
 * derivatives of `Phi` shrink with `Phi` itself in the left tail, about 1e-8 relative out to
 * x = -10; outside the table `Phi` is 0 or 1 (|error| < 8e-24). Rounded to float32 the two
 * versions almost always give the same bits; PyTorch's float32 GELU is far coarser (its `1 + erf`
 * cancels to an absolute error ~3e-8 |x|).
 */
import type { FloatArray } from "../gemm/cpu.ts";
import { erf, erfc } from "./_erf.ts";

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327; // 1/sqrt(2 pi)

/** Standard normal CDF `0.5 (1 + erf(x/sqrt2))`, using erfc on the far left to keep precision. */
function normalCdf(x: number): number {
  return x < -1 ? 0.5 * erfc(-x * SQRT1_2) : 0.5 * (1 + erf(x * SQRT1_2));
}

/** `d/dx (x Phi(x)) = Phi(x) + x phi(x)`, the GELU derivative, from the reference erf. */
function geluSlope(x: number): number {
  return normalCdf(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
}

// ----------------------------------------------------------------------------------------------
// Piecewise-polynomial tables of Phi and of the GELU slope

/** Table range [LO, HI) and intervals per unit. */
const LO = -10, HI = 10, PER_UNIT = 8;
const INTERVALS = (HI - LO) * PER_UNIT;
/** Coefficients per interval (degree + 1). */
const NC = 8;

/**
 * Monomial coefficients `(INTERVALS, NC)` of the degree-(NC-1) Chebyshev interpolant of `f` on
 * every interval, in the local variable `u in [-1, 1]` (`x = LO + (i + (u + 1)/2) / PER_UNIT`).
 */
function chebyshevTable(f: (x: number) => number): Float64Array {
  // cheb[k] (NC): monomial coefficients of the Chebyshev polynomial T_k (small integers, exact).
  const cheb: Float64Array[] = [];
  for (let k = 0; k < NC; k++) {
    const t = new Float64Array(NC);
    if (k === 0) t[0] = 1;
    else if (k === 1) t[1] = 1;
    else {
      // T_k = 2u T_{k-1} - T_{k-2}
      for (let m = 1; m < NC; m++) t[m] = 2 * cheb[k - 1][m - 1];
      for (let m = 0; m < NC; m++) t[m] -= cheb[k - 2][m];
    }
    cheb.push(t);
  }
  const nodes = Float64Array.from({ length: NC }, (_, j) => Math.cos((Math.PI * (j + 0.5)) / NC));
  const table = new Float64Array(INTERVALS * NC); // (INTERVALS, NC)
  const fx = new Float64Array(NC); // (NC) f at the nodes of one interval
  for (let i = 0; i < INTERVALS; i++) {
    for (let j = 0; j < NC; j++) fx[j] = f(LO + (i + (nodes[j] + 1) / 2) / PER_UNIT);
    for (let k = 0; k < NC; k++) {
      // c_k = (2/NC) sum_j f(u_j) T_k(u_j), with c_0 halved; T_k(u_j) = cos(k theta_j)
      let c = 0;
      for (let j = 0; j < NC; j++) c += fx[j] * Math.cos((Math.PI * k * (j + 0.5)) / NC);
      c *= (k === 0 ? 1 : 2) / NC;
      for (let m = 0; m < NC; m++) table[i * NC + m] += c * cheb[k][m];
    }
  }
  return table;
}

const CDF_TABLE = chebyshevTable(normalCdf); // (INTERVALS, NC)
const SLOPE_TABLE = chebyshevTable(geluSlope); // (INTERVALS, NC)

/** The GELU interpolation tables and their layout, for the WASM twin (kernels/wasm). */
export interface GeluTables {
  /** Table range [lo, hi) and intervals per unit. */
  lo: number;
  hi: number;
  perUnit: number;
  /** Coefficients per interval, lowest degree first. */
  coefficients: number;
  /** (intervals, coefficients) of Phi, of the GELU slope. */
  cdf: Float64Array;
  slope: Float64Array;
}

/** The tables `geluForward` and `geluBackward` evaluate. */
export const GELU_TABLES: GeluTables = {
  lo: LO,
  hi: HI,
  perUnit: PER_UNIT,
  coefficients: NC,
  cdf: CDF_TABLE,
  slope: SLOPE_TABLE,
};

/** The table polynomial of interval `i` at local `u` (Horner, fixed order). */
function poly(tab: Float64Array, i: number, u: number): number {
  const o = i * NC;
  let y = tab[o + 7];
  y = y * u + tab[o + 6];
  y = y * u + tab[o + 5];
  y = y * u + tab[o + 4];
  y = y * u + tab[o + 3];
  y = y * u + tab[o + 2];
  y = y * u + tab[o + 1];
  return y * u + tab[o];
}

// ----------------------------------------------------------------------------------------------
// GELU (exact): inp, out, dout, dinp all (n)

/** `out[i] = x * 0.5 * (1 + erf(x / sqrt(2)))` with `x = inp[i]` (PyTorch's default GELU). */
export function geluForwardRef(out: FloatArray, inp: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = x * normalCdf(x);
  }
}

/** `dinp[i] = dout[i] * (Phi(x) + x * phi(x))`, the exact derivative of `x * Phi(x)`. */
export function geluBackwardRef(
  dinp: FloatArray,
  inp: FloatArray,
  dout: FloatArray,
  n: number,
): void {
  for (let i = 0; i < n; i++) dinp[i] = dout[i] * geluSlope(inp[i]);
}

/** As `geluForwardRef`, with `Phi` from the interpolation table (see the module doc). */
export function geluForward(out: FloatArray, inp: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    if (x >= LO && x < HI) {
      const t = (x - LO) * PER_UNIT, k = t | 0;
      out[i] = x * poly(CDF_TABLE, k, 2 * (t - k) - 1);
    } else {
      // Phi = 0 on the left, 1 on the right; NaN falls through to the right (x * 1 = NaN).
      out[i] = x < LO ? x * 0 : x;
    }
  }
}

/** As `geluBackwardRef`, with the slope from the interpolation table (see the module doc). */
export function geluBackward(dinp: FloatArray, inp: FloatArray, dout: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    let s: number;
    if (x >= LO && x < HI) {
      const t = (x - LO) * PER_UNIT, k = t | 0;
      s = poly(SLOPE_TABLE, k, 2 * (t - k) - 1);
    } else {
      // The slope is 0 on the left, 1 on the right; NaN stays NaN.
      s = x < LO ? 0 : x >= HI ? 1 : NaN;
    }
    dinp[i] = dout[i] * s;
  }
}

// ----------------------------------------------------------------------------------------------
// SiLU: inp, out, dout, dinp all (n)

/** Logistic sigmoid without overflow for large |x|. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** `out[i] = x * sigmoid(x)` with `x = inp[i]`. */
export function siluForward(out: FloatArray, inp: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = x * sigmoid(x);
  }
}

/** `dinp[i] = dout[i] * s (1 + x (1 - s))`, `s = sigmoid(x)`. */
export function siluBackward(dinp: FloatArray, inp: FloatArray, dout: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const s = sigmoid(x);
    dinp[i] = dout[i] * s * (1 + x * (1 - s));
  }
}
