/**
 * GEMM, WGSL: `C[b] = alpha op(A[b]) op(B[b]) + beta C[b]` with the semantics of `GemmOptions`
 * (kernels/backend.ts; CPU twin `gemmRef` in kernels/gemm/cpu.ts). Tiled: each workgroup of 16x16
 * threads computes a 64x64 to 128x128 tile of C (`GemmTile`, chosen from the shape by
 * `chooseTile`), each thread a 4x4 to 8x8 sub-block held in vec4 registers, staging panels of A
 * and B as vec4 in padded workgroup memory. One shader text per transposition pair and tile.
 * The k sum runs in order 0..K-1 for every element, whatever the tile: deterministic.
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

/**
 * A workgroup tile: 16x16 threads compute a `tm` x `tn` block of C, each thread a
 * (tm/16) x (tn/16) sub-block in vec4 registers, staging `bk`-deep panels of op(A) and op(B) in
 * workgroup memory. Bigger tiles do more arithmetic per workgroup-memory read; smaller ones give
 * more workgroups to spread over the GPU when C is small.
 */
export interface GemmTile {
  tm: 64 | 128;
  tn: 64 | 128;
  bk: 8 | 16;
}

/** The tiles `gemmKernel` chooses from, largest first. */
export const GEMM_TILES: readonly GemmTile[] = [
  { tm: 128, tn: 128, bk: 8 },
  { tm: 128, tn: 64, bk: 16 },
  { tm: 64, tn: 128, bk: 16 },
  { tm: 64, tn: 64, bk: 16 },
];

/**
 * Workgroups a dispatch should have before a larger tile is worth it: below this, the GPU would
 * sit partly idle and the smaller tile's extra parallelism wins.
 */
const MIN_WORKGROUPS = 264;

/** Workgroups of a product with `tile`. */
function workgroups(g: GemmArgs, tile: GemmTile): number {
  return Math.ceil(g.M / tile.tm) * Math.ceil(g.N / tile.tn) * g.batch;
}

/**
 * The tile of a product: the largest one that still gives `MIN_WORKGROUPS` workgroups, else the
 * smallest. A function of the shape only, so a given product always runs the same code.
 */
export function chooseTile(g: GemmArgs): GemmTile {
  for (const tile of GEMM_TILES) if (workgroups(g, tile) >= MIN_WORKGROUPS) return tile;
  return GEMM_TILES[GEMM_TILES.length - 1];
}

/** "x", "y", "z", "w": the components of a vec4. */
const LANE = ["x", "y", "z", "w"];

/**
 * Staging of one (tm, bk) panel of op(A) into `As` (bk rows of tm/4 + 1 vec4: As[k * SA + g]
 * holds rows 4g..4g+3 of column k; the extra vec4 per row keeps the transposing stores free of
 * bank conflicts). Consecutive threads walk the contiguous axis of the stored matrix, so global
 * loads coalesce; elements outside the matrix are staged as 0.
 */
function stageA(transA: boolean, t: GemmTile): string {
  const units = (t.tm / 4) * t.bk;
  const at = (r: number) =>
    transA ? `baseA + kk * p.lda + i + ${r}u` : `baseA + (i + ${r}u) * p.lda + kk`;
  const unit = transA
    ? `let g = u % ${t.tm / 4}u; let k = u / ${t.tm / 4}u; // A stored (K, M): along rows`
    : `let k = u % ${t.bk}u; let g = u / ${t.bk}u; // A stored (M, K): along k`;
  return `
    for (var u = li; u < ${units}u; u += 256u) {
      ${unit}
      let i = row0 + 4u * g; let kk = k0 + k;
      var v = vec4<f32>(0.0);
      if (kk < p.K) {
${LANE.map((c, r) => `        if (i + ${r}u < p.M) { v.${c} = a[${at(r)}]; }`).join("\n")}
      }
      As[k * SA + g] = v;
    }`;
}

/** Staging of one (bk, tn) panel of op(B) into `Bs` (bk rows of tn/4 + 1 vec4), like `stageA`. */
function stageB(transB: boolean, t: GemmTile): string {
  const units = (t.tn / 4) * t.bk;
  const at = (r: number) =>
    transB ? `baseB + (j + ${r}u) * p.ldb + kk` : `baseB + kk * p.ldb + j + ${r}u`;
  const unit = transB
    ? `let k = u % ${t.bk}u; let g = u / ${t.bk}u; // B stored (N, K): along k`
    : `let g = u % ${t.tn / 4}u; let k = u / ${t.tn / 4}u; // B stored (K, N): along columns`;
  return `
    for (var u = li; u < ${units}u; u += 256u) {
      ${unit}
      let j = col0 + 4u * g; let kk = k0 + k;
      var v = vec4<f32>(0.0);
      if (kk < p.K) {
${LANE.map((c, r) => `        if (j + ${r}u < p.N) { v.${c} = b[${at(r)}]; }`).join("\n")}
      }
      Bs[k * SB + g] = v;
    }`;
}

/**
 * The kernel source of one transposition pair and tile (baked into the text: a pipeline per
 * variant, no per-element branches). Thread (tx, ty) owns the row groups ty + 16i (4 rows each)
 * and the column groups tx + 16j (4 columns each) of the tile, one vec4 accumulator per row and
 * column group: registers only, every loop over them unrolled in the text (drivers may put
 * dynamically indexed arrays in slow local memory).
 */
function gemmSource(transA: boolean, transB: boolean, t: GemmTile): string {
  const ra = t.tm / 64, rb = t.tn / 64; // vec4 row groups, column groups per thread
  const rows = [...Array(4 * ra).keys()], cols = [...Array(rb).keys()];
  const acc = (r: number, j: number) => `acc${r}_${j}`;
  const decl = rows.flatMap((r) => cols.map((j) => `  var ${acc(r, j)} = vec4<f32>(0.0);`));
  const loadA = [...Array(ra).keys()].map((i) => `      let a${i} = As[k * SA + ty + ${16 * i}u];`);
  const loadB = cols.map((j) => `      let b${j} = Bs[k * SB + tx + ${16 * j}u];`);
  const fma = rows.flatMap((r) =>
    cols.map((j) => `      ${acc(r, j)} += a${r >> 2}.${LANE[r & 3]} * b${j};`)
  );
  const stores = rows.flatMap((r) =>
    cols.map((j) =>
      `  store4(baseC, row0 + 4u * (ty + ${16 * (r >> 2)}u) + ${r & 3}u, ` +
      `col0 + 4u * (tx + ${16 * j}u), ${acc(r, j)});`
    )
  );
  return `
const SA = ${t.tm / 4 + 1}u; // vec4 per staged row of A (tm/4 + 1 padding)
const SB = ${t.tn / 4 + 1}u;
var<workgroup> As: array<vec4<f32>, ${(t.tm / 4 + 1) * t.bk}>; // (bk, SA)
var<workgroup> Bs: array<vec4<f32>, ${(t.tn / 4 + 1) * t.bk}>; // (bk, SB)

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let outer = wg.z / p.inner;
  let inner = wg.z % p.inner;
  let baseA = p.offsetA + outer * p.outerStrideA + inner * p.strideA;
  let baseB = p.offsetB + outer * p.outerStrideB + inner * p.strideB;
  let baseC = p.offsetC + outer * p.outerStrideC + inner * p.strideC;
  let row0 = wg.y * ${t.tm}u;
  let col0 = wg.x * ${t.tn}u;
  let tx = lid.x;
  let ty = lid.y;
${decl.join("\n")}
  for (var k0 = 0u; k0 < p.K; k0 += ${t.bk}u) {${stageA(transA, t)}${stageB(transB, t)}
    workgroupBarrier();
    // k runs in order 0..K-1 for every element: deterministic.
    for (var k = 0u; k < ${t.bk}u; k++) {
${loadA.join("\n")}
${loadB.join("\n")}
${fma.join("\n")}
    }
    workgroupBarrier();
  }
${stores.join("\n")}
}

// Row i, columns j..j+3 of C.
fn store4(baseC: u32, i: u32, j: u32, v: vec4<f32>) {
  if (i >= p.M) { return; }
  for (var c = 0u; c < 4u; c++) {
    let jj = j + c;
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

/** The cached source of a transposition pair and tile. */
function gemmCode(transA: boolean, transB: boolean, t: GemmTile): string {
  const key = `${transA ? "T" : "N"}${transB ? "T" : "N"}${t.tm}x${t.tn}x${t.bk}`;
  let code = SOURCES.get(key);
  if (code === undefined) {
    code = gemmSource(transA, transB, t);
    SOURCES.set(key, code);
  }
  return code;
}

/** The GEMM kernel writing `c` from `a` and `b`; `tile` defaults to `chooseTile(g)`. */
export function gemmKernel(
  c: GPUBuffer,
  a: GPUBuffer,
  b: GPUBuffer,
  g: GemmArgs,
  tile: GemmTile = chooseTile(g),
): Kernel {
  const inner = g.inner ?? g.batch;
  return {
    name: `gemm_${g.transA ? "t" : "n"}${g.transB ? "t" : "n"}_${tile.tm}x${tile.tn}`,
    code: gemmCode(g.transA, g.transB, tile),
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
    grid: [Math.ceil(g.N / tile.tn), Math.ceil(g.M / tile.tm), g.batch],
  };
}
