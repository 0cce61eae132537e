/**
 * GEMM, WGSL: `C[b] = alpha op(A[b]) op(B[b]) + beta C[b]` with the semantics of `GemmOptions`
 * (kernels/backend.ts; CPU twin `gemmRef` in kernels/gemm/cpu.ts). Tiled: each workgroup of 16x16
 * threads computes a 64x64 tile of C, each thread a 4x4 sub-block held in vec4 registers (rows
 * 4ty..4ty+3, columns tx + 16c, so that stores are coalesced), staging 64x16 panels of A and B in
 * padded workgroup memory. One shader text per transposition pair. The k sum runs in order
 * 0..K-1 for every element: deterministic.
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

/**
 * Staging of one 64x16 panel of op(A) into `As` (BK rows of 16 vec4: As[k * 17 + g] holds rows
 * 4g..4g+3 of column k; the stride 17 keeps the transposing stores free of bank conflicts) and
 * one 16x64 panel of op(B) into `Bs` (BK rows of 65 floats, padded likewise). Each variant walks
 * the contiguous axis of the stored matrix with consecutive threads, so global loads coalesce.
 */
function stageA(transA: boolean): string {
  return transA
    ? String.raw`
    { // A stored (K, M): consecutive threads take consecutive groups of 4 rows.
      let g = li % 16u; let k = li / 16u;
      let i = row0 + 4u * g; let kk = k0 + k;
      var v = vec4<f32>(0.0);
      if (kk < p.K) {
        let at = baseA + kk * p.lda + i;
        if (i < p.M) { v.x = a[at]; }
        if (i + 1u < p.M) { v.y = a[at + 1u]; }
        if (i + 2u < p.M) { v.z = a[at + 2u]; }
        if (i + 3u < p.M) { v.w = a[at + 3u]; }
      }
      As[k * 17u + g] = v;
    }`
    : String.raw`
    { // A stored (M, K): consecutive threads take consecutive k of 4 rows.
      let k = li % 16u; let g = li / 16u;
      let i = row0 + 4u * g; let kk = k0 + k;
      var v = vec4<f32>(0.0);
      if (kk < p.K) {
        let at = baseA + i * p.lda + kk;
        if (i < p.M) { v.x = a[at]; }
        if (i + 1u < p.M) { v.y = a[at + p.lda]; }
        if (i + 2u < p.M) { v.z = a[at + 2u * p.lda]; }
        if (i + 3u < p.M) { v.w = a[at + 3u * p.lda]; }
      }
      As[k * 17u + g] = v;
    }`;
}

function stageB(transB: boolean): string {
  return transB
    ? String.raw`
    for (var r = 0u; r < 4u; r++) { // B stored (N, K): consecutive threads take consecutive k.
      let k = li % 16u; let j = li / 16u + 16u * r;
      let kk = k0 + k; let jj = col0 + j;
      var v = 0.0;
      if (kk < p.K && jj < p.N) { v = b[baseB + jj * p.ldb + kk]; }
      Bs[k * 65u + j] = v;
    }`
    : String.raw`
    for (var r = 0u; r < 4u; r++) { // B stored (K, N): consecutive threads take consecutive j.
      let j = li % 64u; let k = li / 64u + 4u * r;
      let kk = k0 + k; let jj = col0 + j;
      var v = 0.0;
      if (kk < p.K && jj < p.N) { v = b[baseB + kk * p.ldb + jj]; }
      Bs[k * 65u + j] = v;
    }`;
}

/**
 * The kernel source of one transposition variant (the transpositions are baked into the text:
 * four cached pipelines, no per-element branches). Thread (tx, ty) of the 16x16 workgroup owns
 * rows 4ty..4ty+3 and columns tx + 16c of the 64x64 tile, in four vec4 accumulators (registers:
 * no dynamically indexed arrays, which drivers may place in slow local memory).
 */
function gemmSource(transA: boolean, transB: boolean): string {
  return String.raw`
const BK = 16u;
var<workgroup> As: array<vec4<f32>, 272>; // (BK, 17) groups of 4 rows
var<workgroup> Bs: array<f32, 1040>;      // (BK, 65) columns

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let outer = wg.z / p.inner;
  let inner = wg.z % p.inner;
  let baseA = p.offsetA + outer * p.outerStrideA + inner * p.strideA;
  let baseB = p.offsetB + outer * p.outerStrideB + inner * p.strideB;
  let baseC = p.offsetC + outer * p.outerStrideC + inner * p.strideC;
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  let tx = lid.x;
  let ty = lid.y;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    ${stageA(transA)}
    ${stageB(transB)}
    workgroupBarrier();
    // k runs in order 0..K-1 for every element: deterministic.
    for (var k = 0u; k < BK; k++) {
      let av = As[k * 17u + ty];
      let bo = k * 65u + tx;
      let bv = vec4<f32>(Bs[bo], Bs[bo + 16u], Bs[bo + 32u], Bs[bo + 48u]);
      acc0 += av.x * bv;
      acc1 += av.y * bv;
      acc2 += av.z * bv;
      acc3 += av.w * bv;
    }
    workgroupBarrier();
  }
  let i0 = row0 + 4u * ty;
  store(baseC, i0, col0 + tx, acc0);
  store(baseC, i0 + 1u, col0 + tx, acc1);
  store(baseC, i0 + 2u, col0 + tx, acc2);
  store(baseC, i0 + 3u, col0 + tx, acc3);
}

// Row i, columns j + 16c of C.
fn store(baseC: u32, i: u32, j: u32, v: vec4<f32>) {
  if (i >= p.M) { return; }
  for (var c = 0u; c < 4u; c++) {
    let jj = j + 16u * c;
    if (jj < p.N) {
      let ci = baseC + i * p.ldc + jj;
      // beta = 0 must not read C: stale NaNs would survive 0 * NaN.
      if (p.beta == 0.0) {
        c_out[ci] = p.alpha * v[c];
      } else {
        c_out[ci] = p.alpha * v[c] + p.beta * c_out[ci];
      }
    }
  }
}
`;
}

const SOURCES = new Map<string, string>();

/** The cached source of a transposition variant. */
function gemmCode(transA: boolean, transB: boolean): string {
  const key = `${transA ? "T" : "N"}${transB ? "T" : "N"}`;
  let code = SOURCES.get(key);
  if (code === undefined) {
    code = gemmSource(transA, transB);
    SOURCES.set(key, code);
  }
  return code;
}

/** The GEMM kernel writing `c` from `a` and `b`. */
export function gemmKernel(c: GPUBuffer, a: GPUBuffer, b: GPUBuffer, g: GemmArgs): Kernel {
  const inner = g.inner ?? g.batch;
  return {
    name: `gemm_${g.transA ? "t" : "n"}${g.transB ? "t" : "n"}`,
    code: gemmCode(g.transA, g.transB),
    inputs: [{ name: "a", buffer: a }, { name: "b", buffer: b }],
    outputs: [{ name: "c_out", buffer: c }],
    uniforms: [
      u32("M", g.M),
      u32("N", g.N),
      u32("K", g.K),
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
