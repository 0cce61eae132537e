/** Helpers for the cpu kernel tests: seeded random arrays and central finite differences. */
import { Rng } from "../../kernels/rng/philox.ts";

/** `n` standard normals times `scale`, float64, from `rng`. */
export function randomArray(rng: Rng, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * rng.normal();
  return out;
}

/** The same values as float32. */
export function f32(x: ArrayLike<number>): Float32Array {
  return Float32Array.from(x);
}

/** `sum_i a[i] b[i]` in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Central finite differences of `loss()` with respect to every element of `x` (perturbed in
 * place and restored): `(L(x + eps) - L(x - eps)) / (2 eps)`.
 */
export function numericalGrad(loss: () => number, x: Float64Array, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    x[i] = x0 + eps;
    const lp = loss();
    x[i] = x0 - eps;
    const lm = loss();
    x[i] = x0;
    g[i] = (lp - lm) / (2 * eps);
  }
  return g;
}
