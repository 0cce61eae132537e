/**
 * GEMM, WGSL: `C[b] = alpha op(A[b]) op(B[b]) + beta C[b]` with the semantics of `GemmOptions`
 * (kernels/backend.ts; CPU twin `gemmRef` in kernels/gemm/cpu.ts). Tiled: each workgroup of 16x16
 * threads computes a 64x64 tile of C, each thread a 4x4 sub-block (rows lid.y + 16r, columns
 * lid.x + 16c, so that stores are coalesced), staging 64x16 panels of A and B in workgroup memory.
 * The k sum runs in order 0..K-1 for every element: deterministic.
 *
 * The batch index is split in two levels, `b = outer * inner + i`, each with its own strides, so
 * attention's per-(batch, head) products inside qkv (B, T, 3C) are one dispatch.
 */
import { f32, type Kernel, u32 } from "../webgpu/kernel.ts";

/** Fully resolved GEMM arguments (see `resolveGemm` in kernels/gemm/cpu.ts) plus the 2-level batch. */
export interface GemmArgs {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  lda: number;
  ldb: number;
  ldc: number;
  offsetA: number;
  offsetB: number;
  offsetC: number;
  /** Total batch count (inner * outer). */
  batch: number;
  /** Strides between consecutive inner batch entries. */
  strideA: number;
  strideB: number;
  strideC: number;
  /** Inner batch size; default `batch` (one level). */
  inner?: number;
  /** Strides between outer batch entries (default 0). */
  outerStrideA?: number;
  outerStrideB?: number;
  outerStrideC?: number;
}

const TILE = 64;

const GEMM = String.raw`
const BM = 64u;
const BN = 64u;
const BK = 16u;
var<workgroup> As: array<f32, 1024>; // (BK, BM)
var<workgroup> Bs: array<f32, 1024>; // (BK, BN)

// op(A)[i, k] of the current batch entry, 0 outside (M, K).
fn loadA(base: u32, i: u32, k: u32) -> f32 {
  if (i >= p.M || k >= p.K) { return 0.0; }
  if (p.transA != 0u) { return a[base + k * p.lda + i]; }
  return a[base + i * p.lda + k];
}

// op(B)[k, j] of the current batch entry, 0 outside (K, N).
fn loadB(base: u32, k: u32, j: u32) -> f32 {
  if (k >= p.K || j >= p.N) { return 0.0; }
  if (p.transB != 0u) { return b[base + j * p.ldb + k]; }
  return b[base + k * p.ldb + j];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let outer = wg.z / p.inner;
  let inner = wg.z % p.inner;
  let baseA = p.offsetA + outer * p.outerStrideA + inner * p.strideA;
  let baseB = p.offsetB + outer * p.outerStrideB + inner * p.strideB;
  let baseC = p.offsetC + outer * p.outerStrideC + inner * p.strideC;
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // Each of the 256 threads stages 4 elements of each panel; consecutive threads walk the
    // contiguous axis of the stored matrix.
    for (var r = 0u; r < 4u; r++) {
      let idx = li + r * 256u;
      if (p.transA != 0u) {
        let k = idx / BM; let i = idx % BM;
        As[k * BM + i] = loadA(baseA, row0 + i, k0 + k);
      } else {
        let i = idx / BK; let k = idx % BK;
        As[k * BM + i] = loadA(baseA, row0 + i, k0 + k);
      }
      if (p.transB != 0u) {
        let j = idx / BK; let k = idx % BK;
        Bs[k * BN + j] = loadB(baseB, k0 + k, col0 + j);
      } else {
        let k = idx / BN; let j = idx % BN;
        Bs[k * BN + j] = loadB(baseB, k0 + k, col0 + j);
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var r = 0u; r < 4u; r++) { av[r] = As[kk * BM + lid.y + 16u * r]; }
      for (var c = 0u; c < 4u; c++) { bv[c] = Bs[kk * BN + lid.x + 16u * c]; }
      for (var r = 0u; r < 4u; r++) {
        for (var c = 0u; c < 4u; c++) { acc[r * 4u + c] += av[r] * bv[c]; }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let i = row0 + lid.y + 16u * r;
    for (var c = 0u; c < 4u; c++) {
      let j = col0 + lid.x + 16u * c;
      if (i < p.M && j < p.N) {
        let ci = baseC + i * p.ldc + j;
        // beta = 0 must not read C: stale NaNs would survive 0 * NaN.
        if (p.beta == 0.0) {
          c_out[ci] = p.alpha * acc[r * 4u + c];
        } else {
          c_out[ci] = p.alpha * acc[r * 4u + c] + p.beta * c_out[ci];
        }
      }
    }
  }
}
`;

/** The GEMM kernel writing `c` from `a` and `b`. */
export function gemmKernel(c: GPUBuffer, a: GPUBuffer, b: GPUBuffer, g: GemmArgs): Kernel {
  const inner = g.inner ?? g.batch;
  return {
    name: "gemm",
    code: GEMM,
    inputs: [{ name: "a", buffer: a }, { name: "b", buffer: b }],
    outputs: [{ name: "c_out", buffer: c }],
    uniforms: [
      u32("M", g.M),
      u32("N", g.N),
      u32("K", g.K),
      u32("transA", g.transA ? 1 : 0),
      u32("transB", g.transB ? 1 : 0),
      f32("alpha", g.alpha),
      f32("beta", g.beta),
      u32("lda", g.lda),
      u32("ldb", g.ldb),
      u32("ldc", g.ldc),
      u32("offsetA", g.offsetA),
      u32("offsetB", g.offsetB),
      u32("offsetC", g.offsetC),
      u32("strideA", g.strideA),
      u32("strideB", g.strideB),
      u32("strideC", g.strideC),
      u32("inner", inner),
      u32("outerStrideA", g.outerStrideA ?? 0),
      u32("outerStrideB", g.outerStrideB ?? 0),
      u32("outerStrideC", g.outerStrideC ?? 0),
    ],
    grid: [Math.ceil(g.N / TILE), Math.ceil(g.M / TILE), g.batch],
  };
}
