/**
 * One thread's share of a product on the shared GEMM memory, with op(A) and op(B) already staged
 * there: either rows [m0, m1) of op(A) (`gemmRows`: B packed once by the caller) or B panels
 * [j0, j1) (`gemmCols`: each thread packs its own panels of B and all of A), op(A) packed chunk
 * by chunk into the thread's own A scratch and multiplied into the C work. The calling thread and
 * every worker thread (kernels/wasm/pool_worker.ts) run these same functions, each on its own
 * share, so every C element is the same sequence of operations whichever thread computes it.
 *
 * The job travels as int32 words (offsets in floats) in the pool's shared control block
 * (kernels/wasm/pool.ts), laid out by `GEMM_JOB`.
 */
import type { GemmExports } from "./_gemm_instance.ts";
import { MR, NR, packA, packB } from "./_gemm_pack.ts";
import { JobLayout } from "./_control_block.ts";

/** What every thread needs to know about the product (offsets in floats into the memory). */
export interface GemmJob {
  K: number;
  kpad: number;
  /** K block of the kernel. */
  kc: number;
  /** Row stride of the staged A, and whether it is stored (K, M). */
  lda: number;
  transA: boolean;
  /** B panels and the padded width of the C work rows. */
  np: number;
  npad: number;
  /** Staged A (op(A) row 0 at saOff), packed B, C work (row 0 at cOff). */
  saOff: number;
  bOff: number;
  cOff: number;
  /** 1: add to the C work (C preloaded there); 0: overwrite it; 2: add the bias row. */
  acc: number;
  /** The bias row (npad floats) when `acc` is 2. */
  biasOff: number;
  /** Rows packed per chunk: bounds a thread's A scratch to mc * kpad floats. */
  mc: number;
  /** A scratch of part 0 (the caller); part p's is `scratchFloats` further per part. */
  scratch0: number;
  scratchFloats: number;
  /** For `gemmCols`: op(B)'s columns, the staged B (stored (K, N), or (N, K) when transposed). */
  N: number;
  ldb: number;
  transB: boolean;
  sbOff: number;
  /** All rows of op(A). */
  M: number;
}

/** How a `GemmJob` travels to the workers. */
export const GEMM_JOB: JobLayout<Exclude<keyof GemmJob, "transA" | "transB">, "transA" | "transB"> =
  new JobLayout(
    [
      "K",
      "kpad",
      "kc",
      "lda",
      "np",
      "npad",
      "saOff",
      "bOff",
      "cOff",
      "acc",
      "biasOff",
      "mc",
      "scratch0",
      "scratchFloats",
      "N",
      "ldb",
      "sbOff",
      "M",
    ],
    ["transA", "transB"],
  );

/**
 * C work rows [m0, m1) = op(A) rows [m0, m1) @ packed B (or += with `acc`), packing A into the
 * A scratch of `part`. m0 is a multiple of MR.
 */
export function gemmRows(
  f: Float32Array,
  w: GemmExports,
  job: GemmJob,
  m0: number,
  m1: number,
  part: number,
): void {
  multiply(f, w, job, m0, m1, 0, job.np, part);
}

/**
 * C work columns of B panels [j0, j1) = op(A) @ those panels (or += with `acc`): the panels are
 * packed here from the staged B, op(A) chunk by chunk into the A scratch of `part`.
 */
export function gemmCols(
  f: Float32Array,
  w: GemmExports,
  job: GemmJob,
  j0: number,
  j1: number,
  part: number,
): void {
  if (j1 <= j0) return;
  const col0 = j0 * NR;
  const from = job.sbOff + (job.transB ? col0 * job.ldb : col0);
  const cols = Math.min(job.N, j1 * NR) - col0;
  packB(f, job.bOff + j0 * job.kpad * NR, f, from, job.ldb, job.transB, cols, job.K, job.kpad, w);
  multiply(f, w, job, 0, job.M, j0, j1, part);
}

/**
 * C work rows [m0, m1) x columns of B panels [j0, j1) = op(A) rows [m0, m1) @ those packed
 * panels (or += with `acc`), op(A) packed chunk by chunk into the A scratch of `part`.
 */
function multiply(
  f: Float32Array,
  w: GemmExports,
  job: GemmJob,
  m0: number,
  m1: number,
  j0: number,
  j1: number,
  part: number,
): void {
  const scratch = job.scratch0 + part * job.scratchFloats;
  const panels = job.bOff + j0 * job.kpad * NR;
  for (let i0 = m0; i0 < m1; i0 += job.mc) {
    const i1 = Math.min(m1, i0 + job.mc);
    packA(f, scratch, f, job.saOff, job.lda, job.transA, i0, i1, job.K, job.kpad, w);
    w.gemm(
      Math.ceil((i1 - i0) / MR),
      j1 - j0,
      job.kpad,
      job.kc,
      scratch * 4,
      panels * 4,
      (job.cOff + i0 * job.npad + j0 * NR) * 4,
      job.npad * 4,
      job.acc,
      (job.biasOff + j0 * NR) * 4,
    );
  }
}
