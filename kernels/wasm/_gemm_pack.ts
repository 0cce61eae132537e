/**
 * Packing of op(A) and op(B) into the panel layouts of kernels/wasm/gemm.wat, straight from the
 * caller's arrays into the kernel's memory. Transposes, leading dimensions and offsets are all
 * resolved here, so the kernel sees one layout. Everything past the real rows, columns and K is
 * written as zero (the memory is reused, so stale values must be overwritten).
 *
 * With `w` (the kernel's exports) the operand has been copied into the kernel's memory (`a` or `b`
 * is then `f` itself and the offsets point into it): whole panels are packed there by one SIMD
 * call, and only a last, partial panel by the loops here.
 */
import type { GemmExports } from "./_gemm_instance.ts";

/** Rows of A per panel (micro-tile height). */
export const MR = 4;
/** Columns of B per panel (micro-tile width). */
export const NR = 8;

/**
 * Packs rows [i0, i1) of op(A) (M, K) into ceil((i1 - i0) / 4) panels of (kpad, 4) at `dst`.
 * op(A)[i, k] = a[oa + i*lda + k], or a[oa + k*lda + i] when `trans`.
 */
export function packA(
  f: Float32Array,
  dst: number,
  a: Float32Array,
  oa: number,
  lda: number,
  trans: boolean,
  i0: number,
  i1: number,
  K: number,
  kpad: number,
  w: GemmExports | null = null,
): void {
  if (w !== null && i1 - i0 >= MR) {
    const full = Math.floor((i1 - i0) / MR);
    if (trans) w.packCols((oa + i0) * 4, lda * 4, full, K, kpad, dst * 4, 0);
    else w.packRows((oa + i0 * lda) * 4, lda * 4, full, K, kpad, dst * 4, 16, kpad * 16, 0);
    i0 += full * MR;
    dst += full * kpad * MR;
  }
  for (let i = i0; i < i1; i += MR) {
    const n = Math.min(MR, i1 - i);
    let d = dst;
    if (n === MR && !trans) {
      // four rows read side by side, written interleaved
      const s0 = oa + i * lda, s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda;
      for (let k = 0; k < K; k++, d += MR) {
        f[d] = a[s0 + k];
        f[d + 1] = a[s1 + k];
        f[d + 2] = a[s2 + k];
        f[d + 3] = a[s3 + k];
      }
    } else if (n === MR) {
      // stored (K, M): four consecutive elements per k
      for (let k = 0, s = oa + i; k < K; k++, s += lda, d += MR) {
        f[d] = a[s];
        f[d + 1] = a[s + 1];
        f[d + 2] = a[s + 2];
        f[d + 3] = a[s + 3];
      }
    } else {
      // last, partial panel: zeroed, then the n real rows written one by one
      zero(f, d, d + K * MR);
      for (let r = 0; r < n; r++) {
        if (trans) {
          for (let k = 0, s = oa + i + r, e = d + r; k < K; k++, s += lda, e += MR) f[e] = a[s];
        } else {
          for (let k = 0, s = oa + (i + r) * lda, e = d + r; k < K; k++, e += MR) f[e] = a[s + k];
        }
      }
      d += K * MR;
    }
    zero(f, d, dst + kpad * MR);
    dst += kpad * MR;
  }
}

/**
 * Packs all N columns of op(B) (K, N) into ceil(N / 8) panels of (kpad, 8) at `dst`.
 * op(B)[k, j] = b[ob + k*ldb + j], or b[ob + j*ldb + k] when `trans`.
 */
export function packB(
  f: Float32Array,
  dst: number,
  b: Float32Array,
  ob: number,
  ldb: number,
  trans: boolean,
  N: number,
  K: number,
  kpad: number,
  w: GemmExports | null = null,
): void {
  let j0 = 0;
  if (w !== null && N >= NR) {
    const full = Math.floor(N / NR);
    if (trans) w.packRows(ob * 4, ldb * 4, 2 * full, K, kpad, dst * 4, 32, kpad * 32, 1);
    else w.packCols(ob * 4, ldb * 4, full, K, kpad, dst * 4, 1);
    j0 = full * NR;
    dst += full * kpad * NR;
  }
  for (let j = j0; j < N; j += NR) {
    const n = Math.min(NR, N - j);
    let d = dst;
    if (n === NR && !trans) {
      // eight consecutive elements per k
      for (let k = 0, s = ob + j; k < K; k++, s += ldb, d += NR) {
        f[d] = b[s];
        f[d + 1] = b[s + 1];
        f[d + 2] = b[s + 2];
        f[d + 3] = b[s + 3];
        f[d + 4] = b[s + 4];
        f[d + 5] = b[s + 5];
        f[d + 6] = b[s + 6];
        f[d + 7] = b[s + 7];
      }
    } else if (n === NR) {
      // stored (N, K): eight rows read side by side, written interleaved
      const s0 = ob + j * ldb, s1 = s0 + ldb, s2 = s1 + ldb, s3 = s2 + ldb;
      const s4 = s3 + ldb, s5 = s4 + ldb, s6 = s5 + ldb, s7 = s6 + ldb;
      for (let k = 0; k < K; k++, d += NR) {
        f[d] = b[s0 + k];
        f[d + 1] = b[s1 + k];
        f[d + 2] = b[s2 + k];
        f[d + 3] = b[s3 + k];
        f[d + 4] = b[s4 + k];
        f[d + 5] = b[s5 + k];
        f[d + 6] = b[s6 + k];
        f[d + 7] = b[s7 + k];
      }
    } else {
      // last, partial panel: zeroed, then the n real columns written one by one
      zero(f, d, d + K * NR);
      for (let c = 0; c < n; c++) {
        if (trans) {
          for (let k = 0, s = ob + (j + c) * ldb, e = d + c; k < K; k++, e += NR) f[e] = b[s + k];
        } else {
          for (let k = 0, s = ob + j + c, e = d + c; k < K; k++, s += ldb, e += NR) f[e] = b[s];
        }
      }
      d += K * NR;
    }
    zero(f, d, dst + kpad * NR);
    dst += kpad * NR;
  }
}

/** `f[from .. to) = 0`; a plain loop for the short ranges of padding (`fill` costs a call). */
function zero(f: Float32Array, from: number, to: number): void {
  if (to - from > 256) f.fill(0, from, to);
  else for (let i = from; i < to; i++) f[i] = 0;
}
