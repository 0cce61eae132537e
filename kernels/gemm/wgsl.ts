/**
 * GEMM, WGSL: `C[b] = alpha op(A[b]) op(B[b]) + beta C[b]` with the semantics of `GemmOptions`
 * (kernels/backend.ts; CPU twin `gemmRef` in kernels/gemm/cpu.ts). Tiled: each workgroup of 16x16
 * threads computes a 64x64 to 128x128 tile of C (`GemmTile`, chosen from the shape by
 * `chooseTile`), each thread a 4x4 to 8x8 sub-block held in vec4 registers, staging panels of A
 * and B as vec4 in padded workgroup memory. One shader text per transposition pair and tile.
 * The k sum runs in order 0..K-1 for every element, whatever the tile; a product split along k
 * (`chooseSplit`, small C with a long k range) sums each slice in order, then the slices in
 * order (`splitReduceKernel`). Tile and split depend on the shape only: deterministic.
 *
 * The batch index is split in two levels, `b = outer * inner + i`, each with its own strides, so
 * attention's per-(batch, head) products inside qkv (B, T, 3C) are one dispatch.
 *
 * The single write of C can carry a linear layer's neighbours (`GemmKernelOptions`): a bias, a
 * residual, a GELU applied to C into a second output (a feed-forward's first layer), or C times
 * GELU's derivative (the gradient through that GELU): one pass over C instead of two or three.
 */
import { WGSL_GELU } from "../activation/wgsl.ts";
import { f32, gridStride, type Kernel, u32 } from "../webgpu/kernel.ts";

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
  bk: 8 | 16 | 32;
  /** vec4 global loads where the operands are aligned (`widePanel`). */
  wide?: boolean;
  /** The panel's k loop written out in the text (constant workgroup-memory offsets). */
  unroll?: boolean;
  /**
   * The next panel's global loads issued into registers before the current panel's arithmetic
   * (their latency hidden behind it), stored to workgroup memory after it.
   */
  prefetch?: boolean;
  /** Threads per workgroup: 16x16 (default) or 16x8 (twice the rows per thread). */
  threads?: 128 | 256;
  /**
   * Two stages of workgroup memory: the next panel is loaded into registers during the current
   * panel's arithmetic and stored to the other stage after it, with one barrier per panel
   * instead of two. Twice the workgroup memory.
   */
  stages?: 1 | 2;
}

/** A short name: "128x64", "64x64x32w" (32-deep panels, vec4 loads). */
export function tileName(t: GemmTile): string {
  return `${t.tm}x${t.tn}` + (t.bk === 16 ? "" : `x${t.bk}`) + (t.wide ? "w" : "") +
    (t.unroll ? "u" : "") + (t.prefetch ? "p" : "") + (t.stages === 2 ? "d" : "") +
    (t.threads === 128 ? "t128" : "");
}

/** The tiles `chooseTile` picks (`u`: k loop written out, `w`: vec4 loads, `p`: prefetch). */
const TILE_64X128_WU: GemmTile = { tm: 64, tn: 128, bk: 16, wide: true, unroll: true };
const TILE_64X64_WU: GemmTile = { tm: 64, tn: 64, bk: 16, wide: true, unroll: true };
const TILE_128X64_WU: GemmTile = { tm: 128, tn: 64, bk: 16, wide: true, unroll: true };
const TILE_128X64_WUP: GemmTile = { ...TILE_128X64_WU, prefetch: true };
const TILE_64X64_U: GemmTile = { tm: 64, tn: 64, bk: 16, unroll: true };

/** The tiles `gemmKernel` can run (`chooseTile` picks one; the benchmark times them all). */
export const GEMM_TILES: readonly GemmTile[] = [
  // the tiles before the written-out k loop, for comparison
  { tm: 128, tn: 64, bk: 16 },
  { tm: 64, tn: 128, bk: 16 },
  { tm: 64, tn: 128, bk: 16, wide: true },
  TILE_64X64_U,
  TILE_64X128_WU,
  TILE_64X64_WU,
  TILE_128X64_WU,
  { tm: 128, tn: 128, bk: 16, wide: true, unroll: true },
  { ...TILE_64X128_WU, prefetch: true },
  { ...TILE_64X64_WU, prefetch: true },
  TILE_128X64_WUP,
  { ...TILE_64X128_WU, threads: 128 },
  { ...TILE_64X128_WU, threads: 128, prefetch: true },
  // double-buffered workgroup memory, one barrier per panel (not yet timed on a GPU)
  { ...TILE_64X128_WU, stages: 2 },
  { ...TILE_128X64_WU, stages: 2 },
  { ...TILE_64X64_WU, stages: 2 },
];

/**
 * Workgroups of a 128x64 tile that run at once: about two per streaming multiprocessor of a
 * large GPU (132 on an H100). A product just above it runs a second, nearly empty wave; below it,
 * part of the GPU sits idle (`chooseSplit`).
 */
const ONE_WAVE = 264;

/** Workgroups of a product with `tile`. */
function workgroups(g: GemmArgs, tile: GemmTile): number {
  return Math.ceil(g.M / tile.tm) * Math.ceil(g.N / tile.tn) * g.batch;
}

/**
 * The tile of a product, a function of its shape only (so a product always runs the same code).
 * From bench/webgpu_kernels.ts on an H100 at the MDM products (C 512, FF 1024, 197 tokens per
 * sample; TFLOP/s, two to five runs each; runs differ by 5-15%), at 8 samples (R = 1576 rows: a
 * rollout step, one transition) and at 32 (R = 6304: four transitions per call). Writing the
 * panel's k loop out (`u`) won everywhere, by 15-30% on the large products:
 * - forward (NT) and input gradients (NN) at R = 6304: 64x128wu (in_proj 27.7-29.5, linear1
 *   26.6-27.0, linear2 27.4-28.1, dX 28.4-28.8, against 23.1-25.7 for 64x128w, the tile before);
 * - at R = 1576 with at most ONE_WAVE workgroups of 128x64: 128x64wup (linear1 17.2-19.7,
 *   linear2 15.4-16.1, dX 18.2-20.0, against 12.4-15.0 for the tiles before: 128x64, 64x64 split
 *   four ways, 64x128w); in_proj (312 such workgroups, a second wave) keeps 64x128wu (18.2-19.5
 *   against 14.7-15.8 for 128x64; 128x64wup 14.2-14.5);
 * - weight gradients (TN, K = R tokens): 64x64wu, split along k from K = 4096 (`chooseSplit`):
 *   23.0-24.1 split 8 ways at R = 6304 (20.3 before); whole at R = 1576 (13.8-13.9, split
 *   9.8-10.7);
 * - batched attention products, 32 and 128 heads x samples: 128x64wu for the scores (NT; 5.4 and
 *   11.7-13.1 against 3.9 and 10.4-10.7 before), 64x64u for the rest (attention times V: 4.3 and
 *   12.4-13.2 against 3.7 and 10.9-11.7);
 * - 128x128 tiles and 32-deep panels lost everywhere (a second wave; more workgroup memory);
 *   16x8-thread tiles (`threads` 128: 8x8 per thread at 64x128) and the prefetch at R = 6304
 *   were within the 5-15% between runs of 64x128wu, neither ahead in every run.
 * (On an H200 before the written-out loop: 15-17 at R = 1576, 22-25 at R = 6304.)
 */
export function chooseTile(g: GemmArgs): GemmTile {
  if (g.batch !== 1) return g.transB && !g.transA ? TILE_128X64_WU : TILE_64X64_U;
  if (g.transA) return TILE_64X64_WU;
  if (workgroups(g, TILE_64X128_WU) >= 384) return TILE_64X128_WU;
  return workgroups(g, TILE_128X64_WUP) <= ONE_WAVE ? TILE_128X64_WUP : TILE_64X128_WU;
}

/** Threads per workgroup of a tile. */
function threadsOf(t: GemmTile): number {
  return t.threads ?? 256;
}

/** "x", "y", "z", "w": the components of a vec4. */
const LANE = ["x", "y", "z", "w"];

/**
 * A staged panel's vec4 groups per k (`groups`: rows of A or columns of B, by 4) and the vec4
 * units each thread moves per panel.
 */
function panelShape(side: "A" | "B", t: GemmTile): { groups: number; units: number } {
  const groups = (side === "A" ? t.tm : t.tn) / 4, units = (groups * t.bk) / threadsOf(t);
  if (!Number.isInteger(units) || units < 1) {
    throw new RangeError(`GEMM tile ${t.tm}x${t.tn}x${t.bk}: panel ${side} does not split evenly`);
  }
  return { groups, units };
}

/**
 * Staging of one panel of op(A) (tm x bk) or op(B) (bk x tn) into workgroup memory, in vec4
 * units of 4 rows of A (As[k * SA + g] holds rows 4g..4g+3 of column k) or 4 columns of B
 * (Bs[k * SB + g]); the extra vec4 per staged row keeps the transposing stores free of bank
 * conflicts. Consecutive threads walk the contiguous axis of the stored matrix, so global loads
 * coalesce; elements outside the matrix are staged as 0. Each thread moves `units` vec4 through
 * registers `ra0..`/`rb0..`: `load` fills them from the panel at k0 = `k0`, `store` writes them
 * to workgroup memory: back to back, or with `prefetch` the next panel's loads before the
 * current panel's arithmetic (`gemmSource`).
 */
function panel(side: "A" | "B", trans: boolean, t: GemmTile) {
  const { groups, units } = panelShape(side, t), n = threadsOf(t);
  // Along the stored matrix's contiguous axis: k for A (M, K) and B^T (N, K), else rows/columns.
  const alongK = side === "A" ? !trans : trans;
  const unit = alongK
    ? `let k = u % ${t.bk}u; let g = u / ${t.bk}u;`
    : `let g = u % ${groups}u; let k = u / ${groups}u;`;
  const [reg, mat, base, ld, lim, first, staged, stride] = side === "A"
    ? ["ra", "a", "baseA", "p.lda", "p.M", "row0", "As", "SA"]
    : ["rb", "b", "baseB", "p.ldb", "p.N", "col0", "Bs", "SB"];
  // element r of the unit: row/column x + r at depth kk of the stored matrix
  const stored = side === "A" ? trans : !trans; // stored (K, width): contiguous along width
  const at = (r: number) =>
    stored ? `${base} + kk * ${ld} + x + ${r}u` : `${base} + (x + ${r}u) * ${ld} + kk`;
  const qs = [...Array(units).keys()];
  return {
    decl: qs.map((q) => `  var ${reg}${q} = vec4<f32>(0.0);`).join("\n"),
    load: (k0: string) =>
      qs.map((q) => `
    { // ${side} panel at k0 = ${k0}, unit ${q} of this thread
      let u = li + ${n * q}u; ${unit}
      let x = ${first} + 4u * g; let kk = ${k0} + k;
      var v = vec4<f32>(0.0);
      if (kk < kEnd) {
${LANE.map((c, r) => `        if (x + ${r}u < ${lim}) { v.${c} = ${mat}[${at(r)}]; }`).join("\n")}
      }
      ${reg}${q} = v;
    }`).join(""),
    store: (stage: string) =>
      qs.map((q) => `
    { let u = li + ${n * q}u; ${unit} ${staged}[${stage}k * ${stride} + g] = ${reg}${q}; }`)
        .join(""),
  };
}

/**
 * `panel` with vec4 global loads: every unit reads 4 consecutive elements of the stored matrix
 * (4 rows or columns at one k where the matrix is stored (K, width), else 4 consecutive k of one
 * row or column) as one vec4 when the operand is 16-byte aligned (uniform `alignedA`/`alignedB`:
 * offset, leading dimension and batch strides multiples of 4) and the 4 lie inside the matrix,
 * else element by element. Along k, the unit's 4 values go to 4 staged rows, one component each.
 */
function widePanel(side: "A" | "B", trans: boolean, t: GemmTile) {
  const { groups, units } = panelShape(side, t), n = threadsOf(t);
  const [reg, mat, base, ld, lim, first, staged, stride, aligned] = side === "A"
    ? ["ra", "a", "baseA", "p.lda", "p.M", "row0", "As", "SA", "p.alignedA"]
    : ["rb", "b", "baseB", "p.ldb", "p.N", "col0", "Bs", "SB", "p.alignedB"];
  const stored = side === "A" ? trans : !trans; // stored (K, width): contiguous along width
  const qs = [...Array(units).keys()];
  // stored (K, width): unit = 4 of the width at one k, as in `panel`
  const acrossLoad = (k0: string, q: number) => `
    { // ${side} panel at k0 = ${k0}, unit ${q} of this thread
      let u = li + ${n * q}u; let g = u % ${groups}u; let k = u / ${groups}u;
      let x = ${first} + 4u * g; let kk = ${k0} + k;
      let at = ${base} + kk * ${ld} + x;
      var v = vec4<f32>(0.0);
      if (kk < kEnd) {
        if (${aligned} != 0u && x + 3u < ${lim}) {
          v = ${mat}4[at / 4u];
        } else {
${
    LANE.map((c, r) => `          if (x + ${r}u < ${lim}) { v.${c} = ${mat}[at + ${r}u]; }`).join(
      "\n",
    )
  }
        }
      }
      ${reg}${q} = v;
    }`;
  const acrossStore = (q: number, stage: string) => `
    { let u = li + ${n * q}u; let g = u % ${groups}u; let k = u / ${groups}u;
      ${staged}[${stage}k * ${stride} + g] = ${reg}${q}; }`;
  // stored (width, K): unit = 4 consecutive k of one row/column x
  const kq = t.bk / 4;
  const alongLoad = (k0: string, q: number) => `
    { // ${side} panel at k0 = ${k0}, unit ${q} of this thread
      let u = li + ${n * q}u; let kq = u % ${kq}u; let x = ${first} + u / ${kq}u;
      let kk = ${k0} + 4u * kq;
      let at = ${base} + x * ${ld} + kk;
      var v = vec4<f32>(0.0);
      if (x < ${lim}) {
        if (${aligned} != 0u && kk + 3u < kEnd) {
          v = ${mat}4[at / 4u];
        } else {
${
    LANE.map((c, r) => `          if (kk + ${r}u < kEnd) { v.${c} = ${mat}[at + ${r}u]; }`).join(
      "\n",
    )
  }
        }
      }
      ${reg}${q} = v;
    }`;
  const alongStore = (q: number, stage: string) => `
    { let u = li + ${n * q}u; let kq = u % ${kq}u; let w = u / ${kq}u;
${
    LANE.map((c, r) =>
      `      ${staged}[${stage}(4u * kq + ${r}u) * ${stride} + w / 4u][w % 4u] = ${reg}${q}.${c};`
    ).join("\n")
  }
    }`;
  return {
    decl: qs.map((q) => `  var ${reg}${q} = vec4<f32>(0.0);`).join("\n"),
    load: (k0: string) => qs.map((q) => stored ? acrossLoad(k0, q) : alongLoad(k0, q)).join(""),
    store: (stage: string) =>
      qs.map((q) => stored ? acrossStore(q, stage) : alongStore(q, stage)).join(""),
  };
}

/**
 * The kernel source of one variant (transposition pair, tile, epilogue, row sums; baked into the
 * text: a pipeline per variant, no per-element branches). Thread (tx, ty) of the 16 x TY threads (TY = 16, or 8 with
 * `threads` 128) owns the row groups ty + TY i (4 rows each) and the column groups tx + 16j
 * (4 columns each) of the tile, one vec4 accumulator per row and column group: registers only,
 * every loop over them unrolled in the text (drivers may put dynamically indexed arrays in slow
 * local memory).
 */
function gemmSource({ transA, transB, tile: t, epilogue, rowSums }: GemmVariant): string {
  const TY = threadsOf(t) / 16;
  const ra = t.tm / (4 * TY), rb = t.tn / 64; // vec4 row groups, column groups per thread
  const staging = t.wide ? widePanel : panel;
  const pa = staging("A", transA, t), pb = staging("B", transB, t);
  const rows = [...Array(4 * ra).keys()], cols = [...Array(rb).keys()];
  const acc = (r: number, j: number) => `acc${r}_${j}`;
  const decl = rows.flatMap((r) => cols.map((j) => `  var ${acc(r, j)} = vec4<f32>(0.0);`));
  // the stage of workgroup memory the arithmetic reads (two stages: `srA`/`srB`, per panel)
  const [readA, readB] = t.stages === 2 ? ["srA + ", "srB + "] : ["", ""];
  // one k of the panel: k a loop variable, or a number where the loop is written out
  const step = (k: number | null, pad: string) => {
    const at = (stride: string, offset: number) =>
      k === null ? `k * ${stride} + ${offset}u` : `${k}u * ${stride} + ${offset}u`;
    return [
      ...[...Array(ra).keys()].map((i) =>
        `${pad}let a${i} = As[${readA}${at("SA", TY * i)} + ty];`
      ),
      ...cols.map((j) => `${pad}let b${j} = Bs[${readB}${at("SB", 16 * j)} + tx];`),
      ...rows.flatMap((r) =>
        cols.map((j) => `${pad}${acc(r, j)} += a${r >> 2}.${LANE[r & 3]} * b${j};`)
      ),
    ].join("\n");
  };
  // k runs in order through the slice for every element: deterministic.
  const arithmetic = t.unroll
    ? [...Array(t.bk).keys()].map((k) => `    {\n${step(k, "      ")}\n    }`).join("\n")
    : `    for (var k = 0u; k < ${t.bk}u; k++) {\n${step(null, "      ")}\n    }`;
  // Row sums of op(A) (transA: A's units are 4 rows of op(A) at one k, `panel`), in the first
  // column of workgroups only (a uniform branch): each thread adds up the units it stages, one
  // accumulator per unit, every panel once (where it is stored).
  const { units, groups } = panelShape("A", t), nThreads = threadsOf(t);
  const qs = [...Array(units).keys()];
  const sumDecl = rowSums ? qs.map((q) => `  var bs${q} = vec4<f32>(0.0);`).join("\n") : "";
  const sumAdd = rowSums
    ? `\n    if (wg.x == 0u) { ${qs.map((q) => `bs${q} += ra${q};`).join(" ")} }`
    : "";
  // then the units' sums meet in workgroup memory (unit u at As[u]: k * groups + g), and each
  // row group's are added over k in order
  const sumWrite = !rowSums ? "" : `
  if (wg.x == 0u) {
    workgroupBarrier();
${qs.map((q) => `    As[li + ${nThreads * q}u] = bs${q};`).join("\n")}
    workgroupBarrier();
    if (li < ${groups}u) {
      var s = vec4<f32>(0.0);
      for (var k = 0u; k < ${t.bk}u; k++) { s += As[k * ${groups}u + li]; }
      for (var c = 0u; c < 4u; c++) {
        let i = row0 + 4u * li + c;
        if (i < p.M) {
          if (p.splits > 1u) {
            row_sums[slice * p.M + i] = s[c]; // this slice's, summed by the split reduction
          } else {
            row_sums[i] = row_sums[i] + s[c]; // a bias gradient accumulates
          }
        }
      }
    }
  }`;
  // Without prefetch: load, store, barrier, arithmetic, barrier per panel. With it, the loads of
  // panel k0 + bk are in flight during panel k0's arithmetic (elements past kEnd load as 0).
  // With two stages, the next panel is loaded before the arithmetic and stored to the other
  // stage after it: the stage being written was last read before the previous barrier.
  const mainLoop = t.stages === 2
    ? `${pa.load("kBegin")}${pb.load("kBegin")}${pa.store("")}${pb.store("")}${sumAdd}
  workgroupBarrier();
  var stage = 0u;
  for (var k0 = kBegin; k0 < kEnd; k0 += ${t.bk}u) {
    let k1 = k0 + ${t.bk}u;
    let more = k1 < kEnd; // uniform
    if (more) {${pa.load("k1")}${pb.load("k1")}
    }
    let srA = stage * STAGE_A;
    let srB = stage * STAGE_B;
${arithmetic}
    if (more) {
      let swA = STAGE_A - srA;
      let swB = STAGE_B - srB;${pa.store("swA + ")}${pb.store("swB + ")}${sumAdd}
    }
    workgroupBarrier();
    stage = 1u - stage;
  }`
    : t.prefetch
    ? `${pa.load("kBegin")}${pb.load("kBegin")}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${t.bk}u) {${pa.store("")}${pb.store("")}${sumAdd}
    workgroupBarrier();
    let k1 = k0 + ${t.bk}u;${pa.load("k1")}${pb.load("k1")}
${arithmetic}
    workgroupBarrier();
  }`
    : `  for (var k0 = kBegin; k0 < kEnd; k0 += ${t.bk}u) {${pa.load("k0")}${pb.load("k0")}${
      pa.store("")
    }${pb.store("")}${sumAdd}
    workgroupBarrier();
${arithmetic}
    workgroupBarrier();
  }`;
  const stores = rows.flatMap((r) =>
    cols.map((j) =>
      `  store4(baseC, row0 + 4u * (ty + ${TY * (r >> 2)}u) + ${r & 3}u, ` +
      `col0 + 4u * (tx + ${16 * j}u), ${acc(r, j)});`
    )
  );
  return `
const SA = ${t.tm / 4 + 1}u; // vec4 per staged row of A (tm/4 + 1 padding)
const SB = ${t.tn / 4 + 1}u;
const STAGE_A = ${(t.tm / 4 + 1) * t.bk}u; // vec4 of one stage of A: (bk, SA)
const STAGE_B = ${(t.tn / 4 + 1) * t.bk}u;
var<workgroup> As: array<vec4<f32>, ${(t.stages ?? 1) * (t.tm / 4 + 1) * t.bk}>; // (stages, bk, SA)
var<workgroup> Bs: array<vec4<f32>, ${(t.stages ?? 1) * (t.tn / 4 + 1) * t.bk}>; // (stages, bk, SB)

@compute @workgroup_size(16, ${TY})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let entry = wg.z / p.splits; // batch entry
  let slice = wg.z % p.splits; // k slice (split-K: its partial sums go to their own block of C)
  let outer = entry / p.inner;
  let inner = entry % p.inner;
  let baseA = p.offsetA + outer * p.outerStrideA + inner * p.strideA;
  let baseB = p.offsetB + outer * p.outerStrideB + inner * p.strideB;
  let baseC = p.offsetC + outer * p.outerStrideC + inner * p.strideC + slice * p.splitStride;
  let kBegin = slice * p.kChunk;
  let kEnd = min(p.K, kBegin + p.kChunk);
  let row0 = wg.y * ${t.tm}u;
  let col0 = wg.x * ${t.tn}u;
  let tx = lid.x;
  let ty = lid.y;
${decl.join("\n")}
${pa.decl}
${pb.decl}
${sumDecl}
${mainLoop}${sumWrite}
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
      var r = p.alpha * v[c];
      if (p.beta != 0.0) { r += p.beta * c_out[ci]; }
      if (p.hasBias != 0u) { r += bias[jj]; } // linear layers: out = inp W^T + bias${
    epilogue === "geluGrad"
      ? "\n      r *= gelu_grad_f32(gelu_in[ci]); // the gradient through GELU(gelu_in)"
      : ""
  }
      if (p.hasResidual != 0u) { r += residual[ci]; } // and + a residual stream
      c_out[ci] = r;${
    epilogue === "gelu" ? "\n      gelu_out[ci] = gelu_f32(r); // a feed-forward's activation" : ""
  }
    }
  }
}
${epilogue === "none" ? "" : WGSL_GELU}`;
}

const SOURCES = new Map<string, string>();

/** What one GEMM shader text is baked for. */
interface GemmVariant {
  transA: boolean;
  transB: boolean;
  tile: GemmTile;
  epilogue: GemmEpilogue;
  /** Also the row sums of op(A) (`GemmKernelOptions.rowSums`). */
  rowSums: boolean;
}

/** The cached source of a variant. */
function gemmCode(v: GemmVariant): string {
  const key = `${v.transA ? "T" : "N"}${v.transB ? "T" : "N"}${tileName(v.tile)}:${v.epilogue}` +
    (v.rowSums ? ":rowsums" : "");
  let code = SOURCES.get(key);
  if (code === undefined) {
    code = gemmSource(v);
    SOURCES.set(key, code);
  }
  return code;
}

/**
 * How a product splits its k range: `splits` slices of `kChunk` (a multiple of 16) each, whose
 * partial products are summed by `splitReduceKernel`. 1 slice unless the product is unbatched,
 * has a long k range and too few workgroups to fill the GPU (weight gradients: C is a weight
 * matrix, k runs over every token of the batch).
 */
export interface SplitK {
  splits: number;
  kChunk: number;
}

/** The split of `g` with `tile` (a function of the shape only: deterministic). */
export function chooseSplit(g: GemmArgs, tile: GemmTile): SplitK {
  const groups = workgroups(g, tile);
  // input gradients (NN) measured faster whole (see `chooseTile`)
  const nn = !g.transA && !g.transB;
  if (nn || g.batch !== 1 || g.K < SPLIT_K_FROM || groups >= ONE_WAVE) {
    return { splits: 1, kChunk: Math.max(g.K, 1) };
  }
  const want = Math.min(
    MAX_SPLITS,
    Math.floor(g.K / SPLIT_MIN_K),
    Math.ceil(SPLIT_TARGET_WORKGROUPS / groups),
  );
  return splitOf(g.K, want);
}

/** `want` slices of K, rounded to whole 16-deep panels. */
export function splitOf(K: number, want: number): SplitK {
  const kChunk = Math.ceil(K / want / 16) * 16;
  return { splits: Math.ceil(K / kChunk), kChunk };
}

/** Shortest k slice worth a workgroup of its own. */
const SPLIT_MIN_K = 256;
/**
 * Shortest k range that is split. With the written-out k loop, whole products won up to
 * K = 1576 on an H100 (the weight gradients over 1576 tokens: 13.8-13.9 TFLOP/s whole against
 * 9.8-10.7 in 2 to 6 slices; linear2's forward, K = 1024: 15.4-16.1 whole against 12.4-12.7 in
 * 4 slices); at K = 6304, 8 slices won (23.0-24.1 against 13.8-14.1 whole).
 */
const SPLIT_K_FROM = 4096;
/** Most slices of one product (each one adds M*N floats of scratch). */
const MAX_SPLITS = 8;
/** Workgroups a split product aims at. */
const SPLIT_TARGET_WORKGROUPS = 4 * ONE_WAVE;

/** Choices of `gemmKernel` beyond the product itself. */
export interface GemmKernelOptions {
  /** Default `chooseTile(g)`. */
  tile?: GemmTile;
  /**
   * Default one slice. With `splits > 1` (unbatched products only) `c` is the (splits, M, N)
   * scratch of the partial products, each slice's sum unscaled: `splitReduceKernel` forms C.
   */
  split?: SplitK;
  /** (N) added to every row of C after alpha and beta (not with a split). */
  bias?: GPUBuffer | null;
  /**
   * Added to C after the bias (and the GELU derivative), element by element at C's own indices
   * (the same layout as C; not with a split): a residual connection in the product's single write.
   */
  residual?: GPUBuffer | null;
  /** Also `gelu[i] = GELU(C[i])` at C's indices, after everything else (not with a split). */
  gelu?: GPUBuffer | null;
  /**
   * C times `GELU'(geluInput[i])` at C's indices, before the residual (not with a split): the
   * gradient of GELU's input when the product is the gradient of its output.
   */
  geluInput?: GPUBuffer | null;
  /**
   * (M) += the sums over k of op(A)'s rows, unscaled, from the panels the product stages anyway:
   * with transA (A (K, M): a weight gradient `dout^T inp`), A's column sums, the bias gradient.
   * Unbatched transA products only. With a split, (splits, M): each slice's sums, written, for
   * `splitReduceKernel` to add in order.
   */
  rowSums?: GPUBuffer | null;
}

/** What the product's write adds beyond alpha, beta, bias and residual. */
export type GemmEpilogue = "none" | "gelu" | "geluGrad";

/** The GEMM kernel writing `c` from `a` and `b`. */
export function gemmKernel(
  c: GPUBuffer,
  a: GPUBuffer,
  b: GPUBuffer,
  g: GemmArgs,
  o: GemmKernelOptions = {},
): Kernel {
  const tile = o.tile ?? chooseTile(g);
  const split = o.split ?? { splits: 1, kChunk: Math.max(g.K, 1) };
  const bias = o.bias ?? null, residual = o.residual ?? null;
  const gelu = o.gelu ?? null, geluInput = o.geluInput ?? null, rowSums = o.rowSums ?? null;
  if (rowSums !== null && (!g.transA || g.batch !== 1)) {
    throw new RangeError(
      `Cannot gemm with row sums of op(A) unless A is transposed and unbatched ` +
        `(transA ${g.transA}, batch ${g.batch})`,
    );
  }
  if (gelu !== null && geluInput !== null) {
    throw new RangeError("Cannot gemm with both a GELU output and a GELU derivative");
  }
  const epilogue: GemmEpilogue = gelu !== null ? "gelu" : geluInput !== null ? "geluGrad" : "none";
  const inner = g.inner ?? g.batch;
  const partial = split.splits > 1;
  if (partial && (g.batch !== 1 || bias !== null || residual !== null || epilogue !== "none")) {
    throw new RangeError(
      `Cannot split the k range of a batched product or one with a bias, residual or GELU ` +
        `(batch ${g.batch})`,
    );
  }
  const suffix = { none: "", gelu: "_gelu", geluGrad: "_gelugrad" }[epilogue];
  return {
    name: `gemm_${g.transA ? "t" : "n"}${g.transB ? "t" : "n"}_${tileName(tile)}` +
      (partial ? "_splitk" : "") + suffix + (rowSums === null ? "" : "_rowsums"),
    code: gemmCode({
      transA: g.transA,
      transB: g.transB,
      tile,
      epilogue,
      rowSums: rowSums !== null,
    }),
    // without a bias or residual, `a` is bound in its place (never read)
    inputs: [
      { name: "a", buffer: a },
      { name: "b", buffer: b },
      { name: "bias", buffer: bias ?? a },
      { name: "residual", buffer: residual ?? a },
      // the same buffers read as vec4 by the wide tiles
      { name: "a4", buffer: a, type: "vec4<f32>" },
      { name: "b4", buffer: b, type: "vec4<f32>" },
      ...(geluInput === null ? [] : [{ name: "gelu_in", buffer: geluInput }]),
    ],
    outputs: [
      { name: "c_out", buffer: c },
      ...(gelu === null ? [] : [{ name: "gelu_out", buffer: gelu }]),
      ...(rowSums === null ? [] : [{ name: "row_sums", buffer: rowSums }]),
    ],
    uniforms: [
      u32("M", g.M),
      u32("N", g.N),
      u32("K", g.K),
      u32("hasBias", bias === null ? 0 : 1),
      u32("hasResidual", residual === null ? 0 : 1),
      f32("alpha", partial ? 1 : g.alpha),
      f32("beta", partial ? 0 : g.beta),
      u32("lda", g.lda),
      u32("ldb", g.ldb),
      u32("ldc", partial ? g.N : g.ldc),
      u32("offsetA", g.offsetA),
      u32("offsetB", g.offsetB),
      u32("offsetC", partial ? 0 : g.offsetC),
      u32("strideA", g.strideA),
      u32("strideB", g.strideB),
      u32("strideC", g.strideC),
      u32("inner", inner),
      u32("outerStrideA", g.outerStrideA ?? 0),
      u32("outerStrideB", g.outerStrideB ?? 0),
      u32("outerStrideC", g.outerStrideC ?? 0),
      u32("splits", split.splits),
      u32("kChunk", split.kChunk),
      u32("splitStride", g.M * g.N),
      u32("alignedA", aligned(g.offsetA, g.lda, g.strideA, g.outerStrideA ?? 0) ? 1 : 0),
      u32("alignedB", aligned(g.offsetB, g.ldb, g.strideB, g.outerStrideB ?? 0) ? 1 : 0),
    ],
    grid: [Math.ceil(g.N / tile.tn), Math.ceil(g.M / tile.tm), g.batch * split.splits],
  };
}

/** Whether every vec4 a wide tile reads from an operand starts at a multiple of 4 elements. */
function aligned(...offsets: number[]): boolean {
  return offsets.every((o) => o % 4 === 0);
}

const SPLIT_REDUCE = String.raw`
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = p.M * p.N;
  // the row sums of op(A), slices in order, added to their target (a bias gradient)
  for (var e = gid.x; e < p.M && p.hasRows != 0u; e += nwg.x * 256u) {
    var s = 0.0;
    for (var k = 0u; k < p.splits; k++) { s += row_part[k * p.M + e]; }
    row_out[e] = row_out[e] + s;
  }
  for (var e = gid.x; e < n; e += nwg.x * 256u) {
    var s = 0.0;
    for (var k = 0u; k < p.splits; k++) { s += part[k * n + e]; } // slices in k order
    let ci = p.offsetC + (e / p.N) * p.ldc + e % p.N;
    if (p.beta == 0.0) {
      c_out[ci] = p.alpha * s;
    } else {
      c_out[ci] = p.alpha * s + p.beta * c_out[ci];
    }
  }
}
`;

/**
 * `C = alpha * sum_s part[s] + beta * C` (slices in order) from the (splits, M, N) scratch; with
 * `rows`, also `rows.out (M) += sum_s rows.part[s]` from the (splits, M) row sums of op(A).
 */
export function splitReduceKernel(
  c: GPUBuffer,
  part: GPUBuffer,
  g: GemmArgs,
  splits: number,
  rows: { part: GPUBuffer; out: GPUBuffer } | null = null,
): Kernel {
  return {
    name: "gemm_splitk_reduce" + (rows === null ? "" : "_rowsums"),
    code: SPLIT_REDUCE,
    // without row sums, C is bound in their place too (never written through it)
    inputs: [{ name: "part", buffer: part }, { name: "row_part", buffer: rows?.part ?? part }],
    outputs: [{ name: "c_out", buffer: c }, { name: "row_out", buffer: rows?.out ?? c }],
    uniforms: [
      u32("hasRows", rows === null ? 0 : 1),
      u32("M", g.M),
      u32("N", g.N),
      u32("splits", splits),
      f32("alpha", g.alpha),
      f32("beta", g.beta),
      u32("ldc", g.ldc),
      u32("offsetC", g.offsetC),
    ],
    grid: gridStride(g.M * g.N),
  };
}
