/**
 * Element-wise kernels and copies, CPU twin. R rows, C columns, n elements. Each loop reads an
 * element before writing the same index, so `out` may alias an input where the backend allows it.
 * Host arrays may be float32 or float64.
 */
import type { FloatArray } from "../gemm/cpu.ts";

// ----------------------------------------------------------------------------------------------
// axpby, addPeriodic, scaleRows: element-wise over (n) or (R, C)

/** `out[i] = alpha * a[i] + beta * b[i]` for `i < n`. */
export function axpby(
  out: FloatArray, // (n)
  a: FloatArray, // (n)
  alpha: number,
  b: FloatArray, // (n)
  beta: number,
  n: number,
): void {
  if (alpha === 1 && beta === 1) {
    // the residual adds; 1 * v is exact, so this rounds exactly as the general loop
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  } else {
    for (let i = 0; i < n; i++) out[i] = alpha * a[i] + beta * b[i];
  }
}

/** `out[i] = inp[i] + row[i % period]` for `i < n` (broadcast add over leading axes). */
export function addPeriodic(
  out: FloatArray, // (n)
  inp: FloatArray, // (n)
  row: FloatArray, // (period)
  n: number,
  period: number,
): void {
  for (let i = 0; i < n; i++) out[i] = inp[i] + row[i % period];
}

/** `out[r, c] = inp[r, c] * s[r]`. */
export function scaleRows(
  out: FloatArray, // (R, C)
  inp: FloatArray, // (R, C)
  s: FloatArray, // (R)
  R: number,
  C: number,
): void {
  for (let r = 0; r < R; r++) {
    const k = s[r];
    for (let c = 0; c < C; c++) out[r * C + c] = inp[r * C + c] * k;
  }
}

// ----------------------------------------------------------------------------------------------
// rowSumSqDiff: (R, C) -> (R)

/**
 * `out[r] = sum_c w[r, c] (a[r, c] - b[r, c])^2`, `w` = 1 when null; float64 sums. Rows go in
 * pairs: each sum is a chain of dependent adds, and two chains side by side overlap; every row
 * still adds its terms alone and in column order.
 */
export function rowSumSqDiff(
  out: FloatArray, // (R)
  a: FloatArray, // (R, C)
  b: FloatArray, // (R, C)
  w: FloatArray | null, // (R, C)
  R: number,
  C: number,
): void {
  let r = 0;
  for (; r + 1 < R; r += 2) {
    const o0 = r * C, o1 = o0 + C;
    let sum0 = 0, sum1 = 0;
    if (w === null) {
      for (let c = 0; c < C; c++) {
        const d0 = a[o0 + c] - b[o0 + c], d1 = a[o1 + c] - b[o1 + c];
        sum0 += d0 * d0;
        sum1 += d1 * d1;
      }
    } else {
      for (let c = 0; c < C; c++) {
        const d0 = a[o0 + c] - b[o0 + c], d1 = a[o1 + c] - b[o1 + c];
        sum0 += w[o0 + c] * d0 * d0;
        sum1 += w[o1 + c] * d1 * d1;
      }
    }
    out[r] = sum0;
    out[r + 1] = sum1;
  }
  if (r < R) {
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const d = a[r * C + c] - b[r * C + c];
      sum += w === null ? d * d : w[r * C + c] * d * d;
    }
    out[r] = sum;
  }
}

// ----------------------------------------------------------------------------------------------
// gatherRows: table (rows, C), index (R) -> out (R, C); copy2d: strided (rows, cols) blocks

/** `out[r, c] = table[index[r], c]`; indices must be checked by the caller. */
export function gatherRows(
  out: FloatArray, // (R, C), R = index.length
  table: FloatArray, // (rows, C)
  index: Int32Array, // (R)
  C: number,
): void {
  for (let r = 0; r < index.length; r++) {
    const src = index[r] * C;
    for (let c = 0; c < C; c++) out[r * C + c] = table[src + c];
  }
}

/** `dst[dstOffset + r*dstStride + c] = src[srcOffset + r*srcStride + c]` for r < rows, c < cols. */
export function copy2d(
  dst: FloatArray,
  src: FloatArray,
  rows: number,
  cols: number,
  dstStride: number,
  dstOffset: number,
  srcStride: number,
  srcOffset: number,
): void {
  // Long rows between distinct buffers go by memcpy (a view per row costs more below 64);
  // within one buffer the element loop keeps its front-to-back order for overlapping blocks.
  const rowCopy = cols >= 64 && dst.buffer !== src.buffer;
  for (let r = 0; r < rows; r++) {
    const d = dstOffset + r * dstStride, s = srcOffset + r * srcStride;
    if (rowCopy) dst.set(src.subarray(s, s + cols), d);
    else for (let c = 0; c < cols; c++) dst[d + c] = src[s + c];
  }
}
