/**
 * Multi-head self-attention, CPU twin. B batch, T frames, C channels, NH heads of size
 * HS = C/NH. `qkv (B, T, 3C)` holds `[Q | K | V]` per frame (PyTorch `in_proj` row order), each
 * head's HS channels contiguous. `att (B, NH, T, T)` receives the softmax probabilities (kept
 * for backward); `out (B, T, C)` the heads concatenated. Scale `1/sqrt(HS)`.
 *
 * `keyMask (B, T)` masks KEYS, as PyTorch's `src_key_padding_mask`: 0 = padded, anything else
 * valid. A padded key gets probability exactly 0; a query row whose keys are all padded gets all
 * zeros (PyTorch would give NaN). Backward needs no mask: padded keys have `att = 0`, which zeroes
 * their gradient. Backward overwrites `dqkv`; `datt (B, NH, T, T)` is scratch.
 *
 * `attentionForward`/`attentionBackward` route the four products (QK^T, att V and their
 * backward products) through a `GemmFn` on strided views inside `qkv`, with the softmax in
 * place on `att`: on float32 arrays in float32 arithmetic (`softmaxRowF32` of _softmax_f32.ts,
 * whose steps run in WASM SIMD, kernels/wasm/attention_f32.ts), on float64 arrays (finite-difference
 * checks) with `Math.exp` in float64. With `gemmF32` on float32 arrays
 * the whole call runs instead as one WASM kernel with the same bits (`attentionForwardF32`/
 * `attentionBackwardF32`, which leave the scratch `datt` untouched); `attentionForwardRef`/
 * `attentionBackwardRef` are plain loops, the readable truth. Host arrays may be float32 or
 * float64 (finite-difference checks).
 */
import { type FloatArray, type GemmFn, gemmRef } from "../gemm/cpu.ts";
import {
  attentionBackwardF32,
  attentionForwardF32,
  fusedAttentionFits,
  softmaxRowsF32,
} from "../wasm/attention_f32.ts";
import { softmaxRowF32 } from "./_softmax_f32.ts";
import { gemmF32 } from "../wasm/gemm_f32.ts";

// ----------------------------------------------------------------------------------------------
// Attention, plain loops: qkv (B, T, 3C), keyMask (B, T), att/datt (B, NH, T, T), out (B, T, C)

/** Plain-loop forward: scores, masked softmax (float64) and the weighted sum of values. */
export function attentionForwardRef(
  out: FloatArray, // (B, T, C)
  att: FloatArray, // (B, NH, T, T)
  qkv: FloatArray, // (B, T, 3C)
  keyMask: FloatArray | null, // (B, T)
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const HS = C / NH, C3 = 3 * C, scale = 1 / Math.sqrt(HS);
  const p = new Float64Array(T); // (T) one row of probabilities
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * C3 + h * HS;
        let max = -Infinity;
        for (let s = 0; s < T; s++) {
          if (keyMask !== null && keyMask[b * T + s] === 0) {
            p[s] = -Infinity;
            continue;
          }
          const k = (b * T + s) * C3 + C + h * HS;
          let dot = 0;
          for (let i = 0; i < HS; i++) dot += qkv[q + i] * qkv[k + i];
          p[s] = dot * scale;
          if (p[s] > max) max = p[s];
        }
        normalizeRow(p, max, T);
        const a = ((b * NH + h) * T + t) * T;
        for (let s = 0; s < T; s++) att[a + s] = p[s];
        const o = (b * T + t) * C + h * HS;
        for (let i = 0; i < HS; i++) {
          let sum = 0;
          for (let s = 0; s < T; s++) sum += p[s] * qkv[(b * T + s) * C3 + 2 * C + h * HS + i];
          out[o + i] = sum;
        }
      }
    }
  }
}

/**
 * Plain-loop backward. With `P = att` and `dP = dout V^T`: `dV = P^T dout`,
 * `dS = P * (dP - rowsum(P * dP))` (softmax backward), `dQ = scale dS K`, `dK = scale dS^T Q`.
 */
export function attentionBackwardRef(
  dqkv: FloatArray, // (B, T, 3C)
  datt: FloatArray, // (B, NH, T, T) scratch
  dout: FloatArray, // (B, T, C)
  qkv: FloatArray, // (B, T, 3C)
  att: FloatArray, // (B, NH, T, T)
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const HS = C / NH, C3 = 3 * C, scale = 1 / Math.sqrt(HS);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const a0 = (b * NH + h) * T * T;
      // dP[t, s] = sum_i dout[t, i] V[s, i]
      for (let t = 0; t < T; t++) {
        for (let s = 0; s < T; s++) {
          let sum = 0;
          for (let i = 0; i < HS; i++) {
            sum += dout[(b * T + t) * C + h * HS + i] * qkv[(b * T + s) * C3 + 2 * C + h * HS + i];
          }
          datt[a0 + t * T + s] = sum;
        }
      }
      // dV[s, i] = sum_t P[t, s] dout[t, i]
      for (let s = 0; s < T; s++) {
        for (let i = 0; i < HS; i++) {
          let sum = 0;
          for (let t = 0; t < T; t++) {
            sum += att[a0 + t * T + s] * dout[(b * T + t) * C + h * HS + i];
          }
          dqkv[(b * T + s) * C3 + 2 * C + h * HS + i] = sum;
        }
      }
      // dS = P * (dP - sum_s P dP), in place in datt
      for (let t = 0; t < T; t++) {
        const r = a0 + t * T;
        let dot = 0;
        for (let s = 0; s < T; s++) dot += att[r + s] * datt[r + s];
        for (let s = 0; s < T; s++) datt[r + s] = att[r + s] * (datt[r + s] - dot);
      }
      // dQ[t, i] = scale sum_s dS[t, s] K[s, i];  dK[s, i] = scale sum_t dS[t, s] Q[t, i]
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < HS; i++) {
          let dq = 0, dk = 0;
          for (let s = 0; s < T; s++) {
            dq += datt[a0 + t * T + s] * qkv[(b * T + s) * C3 + C + h * HS + i];
            dk += datt[a0 + s * T + t] * qkv[(b * T + s) * C3 + h * HS + i];
          }
          dqkv[(b * T + t) * C3 + h * HS + i] = scale * dq;
          dqkv[(b * T + t) * C3 + C + h * HS + i] = scale * dk;
        }
      }
    }
  }
}

// ----------------------------------------------------------------------------------------------
// Attention through a GEMM: per batch b, one batched product over the NH heads.

/** Forward: `att = softmax(scale Q K^T)` per head (masked keys -> 0), `out = att V`. */
export function attentionForward(
  out: FloatArray, // (B, T, C)
  att: FloatArray, // (B, NH, T, T)
  qkv: FloatArray, // (B, T, 3C)
  keyMask: FloatArray | null, // (B, T)
  B: number,
  T: number,
  C: number,
  NH: number,
  gemm: GemmFn = gemmRef,
): void {
  if (
    gemm === gemmF32 && out instanceof Float32Array && att instanceof Float32Array &&
    qkv instanceof Float32Array && (keyMask === null || keyMask instanceof Float32Array) &&
    fusedAttentionFits(T, C, NH)
  ) {
    // the same bits in one kernel call: no packing of the many small per-head products
    attentionForwardF32(out, att, qkv, keyMask, B, T, C, NH);
    return;
  }
  const HS = C / NH, C3 = 3 * C, scale = 1 / Math.sqrt(HS);
  const p = rowScratch(T); // (T) one row of exponentials
  for (let b = 0; b < B; b++) {
    const q0 = b * T * C3, a0 = b * NH * T * T;
    // att[b, h] (T, T) = scale * Q_h (T, HS) @ K_h^T; Q_h, K_h are HS-wide column blocks of qkv.
    gemm(att, qkv, qkv, T, T, HS, {
      transB: true,
      alpha: scale,
      batch: NH,
      lda: C3,
      ldb: C3,
      ldc: T,
      offsetA: q0,
      offsetB: q0 + C,
      offsetC: a0,
      strideA: HS,
      strideB: HS,
      strideC: T * T,
    });
    if (att instanceof Float32Array && (keyMask === null || keyMask instanceof Float32Array)) {
      // the same steps in WASM SIMD, four keys at a time
      softmaxRowsF32(att, a0, NH * T, keyMask, b * T, T);
    } else {
      for (let r = 0; r < NH * T; r++) softmaxRow(att, a0 + r * T, p, keyMask, b * T, T);
    }
    // out[b, :, h] (T, HS) = att[b, h] (T, T) @ V_h (T, HS), written into the (T, C) rows of out.
    gemm(out, att, qkv, T, HS, T, {
      batch: NH,
      lda: T,
      ldb: C3,
      ldc: C,
      offsetA: a0,
      offsetB: q0 + 2 * C,
      offsetC: b * T * C,
      strideA: T * T,
      strideB: HS,
      strideC: HS,
    });
  }
}

/** Backward through `gemm`, same formulas as `attentionBackwardRef`. */
export function attentionBackward(
  dqkv: FloatArray, // (B, T, 3C)
  datt: FloatArray, // (B, NH, T, T) scratch
  dout: FloatArray, // (B, T, C)
  qkv: FloatArray, // (B, T, 3C)
  att: FloatArray, // (B, NH, T, T)
  B: number,
  T: number,
  C: number,
  NH: number,
  gemm: GemmFn = gemmRef,
): void {
  if (
    gemm === gemmF32 && dqkv instanceof Float32Array && dout instanceof Float32Array &&
    qkv instanceof Float32Array && att instanceof Float32Array && fusedAttentionFits(T, C, NH)
  ) {
    // the same bits in one kernel call (datt, scratch, unused)
    attentionBackwardF32(dqkv, dout, qkv, att, B, T, C, NH);
    return;
  }
  const HS = C / NH, C3 = 3 * C, scale = 1 / Math.sqrt(HS);
  for (let b = 0; b < B; b++) {
    const q0 = b * T * C3, a0 = b * NH * T * T, o0 = b * T * C;
    // dP (T, T) = dout_h (T, HS) @ V_h^T
    gemm(datt, dout, qkv, T, T, HS, {
      batch: NH,
      transB: true,
      lda: C,
      ldb: C3,
      ldc: T,
      offsetA: o0,
      offsetB: q0 + 2 * C,
      offsetC: a0,
      strideA: HS,
      strideB: HS,
      strideC: T * T,
    });
    // dV_h (T, HS) = P^T (T, T) @ dout_h (T, HS)
    gemm(dqkv, att, dout, T, HS, T, {
      batch: NH,
      transA: true,
      lda: T,
      ldb: C,
      ldc: C3,
      offsetA: a0,
      offsetB: o0,
      offsetC: q0 + 2 * C,
      strideA: T * T,
      strideB: HS,
      strideC: HS,
    });
    // dS = P * (dP - rowsum(P * dP)), in place
    for (let r = 0; r < NH * T; r++) {
      const row = a0 + r * T;
      let dot = 0;
      for (let s = 0; s < T; s++) dot += att[row + s] * datt[row + s];
      for (let s = 0; s < T; s++) datt[row + s] = att[row + s] * (datt[row + s] - dot);
    }
    // dQ_h (T, HS) = scale dS (T, T) @ K_h (T, HS)
    gemm(dqkv, datt, qkv, T, HS, T, {
      batch: NH,
      alpha: scale,
      lda: T,
      ldb: C3,
      ldc: C3,
      offsetA: a0,
      offsetB: q0 + C,
      offsetC: q0,
      strideA: T * T,
      strideB: HS,
      strideC: HS,
    });
    // dK_h (T, HS) = scale dS^T (T, T) @ Q_h (T, HS)
    gemm(dqkv, datt, qkv, T, HS, T, {
      batch: NH,
      transA: true,
      alpha: scale,
      lda: T,
      ldb: C3,
      ldc: C3,
      offsetA: a0,
      offsetB: q0,
      offsetC: q0 + C,
      strideA: T * T,
      strideB: HS,
      strideC: HS,
    });
  }
}

/**
 * Turns scores `p (T)` (masked entries -Infinity, `max` the largest unmasked score) into
 * probabilities in place: `exp(p - max) / sum`. A row with every key masked becomes all zeros.
 */
function normalizeRow(p: Float64Array, max: number, T: number): void {
  if (max === -Infinity) {
    p.fill(0, 0, T);
    return;
  }
  let sum = 0;
  for (let s = 0; s < T; s++) {
    const e = p[s] === -Infinity ? 0 : Math.exp(p[s] - max);
    p[s] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let s = 0; s < T; s++) p[s] *= inv;
}

/** Reused row scratch of `softmaxRow` (grows to the longest row seen). */
let rowBuf = new Float64Array(256);

/** A float64 scratch of at least `T` elements, shared by every call (synchronous use only). */
function rowScratch(T: number): Float64Array {
  if (rowBuf.length < T) rowBuf = new Float64Array(T);
  return rowBuf;
}

/**
 * Softmax of the scores `x[o .. o+T)` in place, keys with `mask[m + s] === 0` getting exactly 0
 * (a row with every key masked becomes all zeros); `p (T)` is scratch. Float32 arrays take the
 * float32 steps of the WASM kernel (`softmaxRowF32`), float64 ones those of `normalizeRow`.
 */
function softmaxRow(
  x: FloatArray,
  o: number,
  p: Float64Array,
  mask: FloatArray | null,
  m: number,
  T: number,
): void {
  const max = rowMax(x, o, mask, m, T);
  if (x instanceof Float32Array) {
    softmaxRowF32(x, o, max, mask, m, T);
    return;
  }
  for (let s = 0; s < T; s++) p[s] = mask === null || mask[m + s] !== 0 ? x[o + s] : -Infinity;
  normalizeRow(p, max, T);
  for (let s = 0; s < T; s++) x[o + s] = p[s];
}

/**
 * The largest of `x[o .. o+T)` over keys with `mask[m + s] !== 0` (NaN scores never win, as with
 * `>`); -Infinity when every key is masked. Two running maxima (even and odd keys) halve the chain
 * of dependent compares; the maximum of a set does not depend on the order it is taken in.
 */
function rowMax(x: FloatArray, o: number, mask: FloatArray | null, m: number, T: number): number {
  let even = -Infinity, odd = -Infinity, s = 0;
  if (mask === null) {
    for (; s + 1 < T; s += 2) {
      const a = x[o + s], b = x[o + s + 1];
      if (a > even) even = a;
      if (b > odd) odd = b;
    }
    if (s < T && x[o + s] > even) even = x[o + s];
  } else {
    for (; s + 1 < T; s += 2) {
      const a = x[o + s], b = x[o + s + 1];
      if (mask[m + s] !== 0 && a > even) even = a;
      if (mask[m + s + 1] !== 0 && b > odd) odd = b;
    }
    if (s < T && mask[m + s] !== 0 && x[o + s] > even) even = x[o + s];
  }
  return odd > even ? odd : even;
}
