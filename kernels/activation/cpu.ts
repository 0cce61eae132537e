/**
 * Activations, CPU twin: exact (erf) GELU and SiLU, element-wise over `n` values.
 * Backward kernels overwrite `dinp` (activation gradients are never accumulated).
 * Host arrays may be float32 (the backend) or float64 (finite-difference checks).
 */
import type { FloatArray } from "../gemm/cpu.ts";
import { erf, erfc } from "./_erf.ts";

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327; // 1/sqrt(2 pi)

/** Standard normal CDF `0.5 (1 + erf(x/sqrt2))`, using erfc on the far left to keep precision. */
function normalCdf(x: number): number {
  return x < -1 ? 0.5 * erfc(-x * SQRT1_2) : 0.5 * (1 + erf(x * SQRT1_2));
}

// ----------------------------------------------------------------------------------------------
// GELU (exact): inp, out, dout, dinp all (n)

/** `out[i] = x * 0.5 * (1 + erf(x / sqrt(2)))` with `x = inp[i]` (PyTorch's default GELU). */
export function geluForward(out: FloatArray, inp: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = x * normalCdf(x);
  }
}

/** `dinp[i] = dout[i] * (Phi(x) + x * phi(x))`, the exact derivative of `x * Phi(x)`. */
export function geluBackward(dinp: FloatArray, inp: FloatArray, dout: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const local = normalCdf(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
    dinp[i] = dout[i] * local;
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
