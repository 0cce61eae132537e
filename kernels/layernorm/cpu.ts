/**
 * LayerNorm over the last axis, CPU twin (PyTorch `nn.LayerNorm`: biased variance, eps inside
 * the square root). N rows, C channels. Forward saves `mean` and `rstd = 1/sqrt(var + eps)` per
 * row for backward. Backward overwrites `dinp` and accumulates (`+=`) into `dweight`, `dbias`
 * (a `null` one is skipped). Sums run in float64 in a fixed order; host arrays may be float32 or
 * float64 (finite-difference checks).
 */
import type { FloatArray } from "../gemm/cpu.ts";

// ----------------------------------------------------------------------------------------------
// LayerNorm: inp, out (N, C); weight, bias (C); mean, rstd (N)

/**
 * `out = (inp - mean) * rstd * weight + bias` per row; writes `mean` and `rstd`. Rows go in pairs
 * through `normalizeRowPair`: each row's float64 sums are one long chain of dependent adds, and two
 * independent chains side by side run in about the time of one. Every row gets the same operations
 * in the same order as alone.
 */
export function layernormForward(
  out: FloatArray, // (N, C)
  mean: FloatArray, // (N)
  rstd: FloatArray, // (N)
  inp: FloatArray, // (N, C)
  weight: FloatArray, // (C)
  bias: FloatArray, // (C)
  N: number,
  C: number,
  eps: number,
): void {
  let n = 0;
  for (; n + 1 < N; n += 2) normalizeRowPair(out, mean, rstd, inp, weight, bias, n, C, eps);
  if (n < N) normalizeRow(out, mean, rstd, inp, weight, bias, n, C, eps);
}

/** Layer norm of row `n` (see `layernormForward`). */
function normalizeRow(
  out: FloatArray, // (N, C)
  mean: FloatArray, // (N)
  rstd: FloatArray, // (N)
  inp: FloatArray, // (N, C)
  weight: FloatArray, // (C)
  bias: FloatArray, // (C)
  n: number,
  C: number,
  eps: number,
): void {
  const row = n * C;
  let sum = 0;
  for (let c = 0; c < C; c++) sum += inp[row + c];
  const m = sum / C;
  let sq = 0;
  for (let c = 0; c < C; c++) {
    const d = inp[row + c] - m;
    sq += d * d;
  }
  const s = 1 / Math.sqrt(sq / C + eps);
  for (let c = 0; c < C; c++) {
    out[row + c] = (inp[row + c] - m) * s * weight[c] + bias[c];
  }
  mean[n] = m;
  rstd[n] = s;
}

/** Rows `n` and `n + 1` together, each exactly as `normalizeRow` does it. */
function normalizeRowPair(
  out: FloatArray, // (N, C)
  mean: FloatArray, // (N)
  rstd: FloatArray, // (N)
  inp: FloatArray, // (N, C)
  weight: FloatArray, // (C)
  bias: FloatArray, // (C)
  n: number,
  C: number,
  eps: number,
): void {
  const r0 = n * C, r1 = r0 + C;
  let sum0 = 0, sum1 = 0;
  for (let c = 0; c < C; c++) {
    sum0 += inp[r0 + c];
    sum1 += inp[r1 + c];
  }
  const m0 = sum0 / C, m1 = sum1 / C;
  let sq0 = 0, sq1 = 0;
  for (let c = 0; c < C; c++) {
    const d0 = inp[r0 + c] - m0, d1 = inp[r1 + c] - m1;
    sq0 += d0 * d0;
    sq1 += d1 * d1;
  }
  const s0 = 1 / Math.sqrt(sq0 / C + eps), s1 = 1 / Math.sqrt(sq1 / C + eps);
  for (let c = 0; c < C; c++) {
    out[r0 + c] = (inp[r0 + c] - m0) * s0 * weight[c] + bias[c];
    out[r1 + c] = (inp[r1 + c] - m1) * s1 * weight[c] + bias[c];
  }
  mean[n] = m0;
  rstd[n] = s0;
  mean[n + 1] = m1;
  rstd[n + 1] = s1;
}

/** Parameter-gradient scratch of `layernormBackward`: (2, C) float64, grown as needed. */
let gradBuf = new Float64Array(2048);

/**
 * With `xhat = (inp - mean) * rstd` and `g = dout * weight`:
 * `dinp = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat))`, `dweight += sum_n dout * xhat`,
 * `dbias += sum_n dout`.
 */
export function layernormBackward(
  dinp: FloatArray, // (N, C)
  dweight: FloatArray | null, // (C)
  dbias: FloatArray | null, // (C)
  dout: FloatArray, // (N, C)
  inp: FloatArray, // (N, C)
  weight: FloatArray, // (C)
  mean: FloatArray, // (N)
  rstd: FloatArray, // (N)
  N: number,
  C: number,
): void {
  // Parameter gradients are summed over rows in float64 and added once, so the result does not
  // depend on N through repeated float32 rounding.
  if (gradBuf.length < 2 * C) gradBuf = new Float64Array(2 * C);
  // (C) each, reused across calls (every kernel call runs to completion before the next)
  const dw = dweight === null ? null : gradBuf.subarray(0, C).fill(0);
  const db = dbias === null ? null : gradBuf.subarray(C, 2 * C).fill(0);
  for (let n = 0; n < N; n++) {
    const row = n * C;
    const m = mean[n], s = rstd[n];
    let gMean = 0, gxMean = 0;
    for (let c = 0; c < C; c++) {
      const xhat = (inp[row + c] - m) * s;
      const g = dout[row + c] * weight[c];
      gMean += g;
      gxMean += g * xhat;
    }
    gMean /= C;
    gxMean /= C;
    for (let c = 0; c < C; c++) {
      const xhat = (inp[row + c] - m) * s;
      const d = dout[row + c];
      if (dw !== null) dw[c] += d * xhat;
      if (db !== null) db[c] += d;
      dinp[row + c] = s * (d * weight[c] - gMean - xhat * gxMean);
    }
  }
  if (dweight !== null && dw !== null) { for (let c = 0; c < C; c++) dweight[c] += dw[c]; }
  if (dbias !== null && db !== null) { for (let c = 0; c < C; c++) dbias[c] += db[c]; }
}
