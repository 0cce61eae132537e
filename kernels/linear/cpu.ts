/**
 * Linear layer, CPU twin: `out (N, OC) = inp (N, C) @ weight (OC, C)^T + bias (OC)`, PyTorch
 * `nn.Linear` layout. Backward overwrites `dinp` and accumulates (`+=`) into `dweight`, `dbias`;
 * a `null` gradient is skipped.
 *
 * Two versions of each pass: `linearForward`/`linearBackward` route the products through a
 * `GemmFn` (the backend's path, fast when a fast GEMM is plugged in); `linearForwardRef`/
 * `linearBackwardRef` are plain loops, the readable truth they are checked against. Host arrays
 * may be float32 or float64 (finite-difference checks).
 */
import { type FloatArray, type GemmFn, gemmRef } from "../gemm/cpu.ts";

// ----------------------------------------------------------------------------------------------
// Linear, plain loops. N rows, C input channels, OC output channels.

/** Plain-loop forward, accumulating each output in float64. */
export function linearForwardRef(
  out: FloatArray, // (N, OC)
  inp: FloatArray, // (N, C)
  weight: FloatArray, // (OC, C)
  bias: FloatArray | null, // (OC)
  N: number,
  C: number,
  OC: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      let sum = bias === null ? 0 : bias[o];
      for (let c = 0; c < C; c++) sum += inp[n * C + c] * weight[o * C + c];
      out[n * OC + o] = sum;
    }
  }
}

/** Plain-loop backward: `dinp = dout @ weight`, `dweight += dout^T @ inp`, `dbias += sum_n dout`. */
export function linearBackwardRef(
  dinp: FloatArray | null, // (N, C)
  dweight: FloatArray | null, // (OC, C)
  dbias: FloatArray | null, // (OC)
  dout: FloatArray, // (N, OC)
  inp: FloatArray, // (N, C)
  weight: FloatArray, // (OC, C)
  N: number,
  C: number,
  OC: number,
): void {
  if (dinp !== null) {
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let o = 0; o < OC; o++) sum += dout[n * OC + o] * weight[o * C + c];
        dinp[n * C + c] = sum;
      }
    }
  }
  if (dweight !== null) {
    for (let o = 0; o < OC; o++) {
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let n = 0; n < N; n++) sum += dout[n * OC + o] * inp[n * C + c];
        dweight[o * C + c] += sum;
      }
    }
  }
  if (dbias !== null) addColumnSums(dbias, dout, N, OC);
}

// ----------------------------------------------------------------------------------------------
// Linear through a GEMM (same semantics as the plain loops above).

/**
 * Forward through `gemm`: `out = bias` broadcast, then `out = inp @ weight^T + 1 * out` (in one
 * call when `gemm` offers `rowBias`).
 */
export function linearForward(
  out: FloatArray, // (N, OC)
  inp: FloatArray, // (N, C)
  weight: FloatArray, // (OC, C)
  bias: FloatArray | null, // (OC)
  N: number,
  C: number,
  OC: number,
  gemm: GemmFn = gemmRef,
): void {
  // weight is stored (OC, C) = op(B)^T, hence transB.
  if (bias !== null && gemm.rowBias?.(out, inp, weight, bias, N, OC, C, { transB: true })) return;
  if (bias !== null) broadcastRow(out, bias, N, OC);
  gemm(out, inp, weight, N, OC, C, { transB: true, beta: bias === null ? 0 : 1 });
}

/** Backward through `gemm`; the bias gradient is a float64 column sum. */
export function linearBackward(
  dinp: FloatArray | null, // (N, C)
  dweight: FloatArray | null, // (OC, C)
  dbias: FloatArray | null, // (OC)
  dout: FloatArray, // (N, OC)
  inp: FloatArray, // (N, C)
  weight: FloatArray, // (OC, C)
  N: number,
  C: number,
  OC: number,
  gemm: GemmFn = gemmRef,
): void {
  // dinp (N, C) = dout (N, OC) @ weight (OC, C)
  if (dinp !== null) gemm(dinp, dout, weight, N, C, OC);
  // dweight (OC, C) += dout^T (OC, N) @ inp (N, C); dout is stored (N, OC), hence transA.
  if (dweight !== null) gemm(dweight, dout, inp, OC, C, N, { transA: true, beta: 1 });
  if (dbias !== null) addColumnSums(dbias, dout, N, OC);
}

/**
 * `out[n, :] = row` for n < N: the first row, then the filled rows copied after themselves,
 * doubling (log2 N copies instead of N).
 */
function broadcastRow(out: FloatArray, row: FloatArray, N: number, OC: number): void {
  if (N === 0 || OC === 0) return;
  out.set(row.length === OC ? row : row.subarray(0, OC), 0);
  for (let filled = 1; filled < N;) {
    const k = Math.min(filled, N - filled);
    out.copyWithin(filled * OC, 0, k * OC);
    filled += k;
  }
}

/**
 * `acc[o] += sum_n x[n, o]` for x (N, OC), summed in float64 in row order, added once. Four
 * columns at a time with their sums in locals: four independent chains, no scratch array.
 */
function addColumnSums(acc: FloatArray, x: FloatArray, N: number, OC: number): void {
  const end = N * OC;
  let o = 0;
  for (; o + 4 <= OC; o += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = o; i < end; i += OC) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
    }
    acc[o] += s0;
    acc[o + 1] += s1;
    acc[o + 2] += s2;
    acc[o + 3] += s3;
  }
  for (; o < OC; o++) {
    let sum = 0;
    for (let i = o; i < end; i += OC) sum += x[i];
    acc[o] += sum;
  }
}
