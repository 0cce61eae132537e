/** WGSL GEMM against the reference loops `gemmRef` (float64 accumulation). */
import assert from "node:assert/strict";
import type { GemmOptions } from "../../kernels/backend.ts";
import { gemmRef, resolveGemm } from "../../kernels/gemm/cpu.ts";
import {
  chooseSplit,
  chooseTile,
  GEMM_TILES,
  gemmKernel,
  splitOf,
  splitReduceKernel,
  tileName,
} from "../../kernels/gemm/wgsl.ts";
import { assertClose } from "../_util.ts";
import { gpu, GPU_TEST, gpuIgnore, uniform } from "./_webgpu.ts";

// float32 products of K <= 64 terms in [-1, 1): accumulation error well below 1e-5.
const ATOL = 1e-5, RTOL = 1e-4;

/** Runs one GEMM on the GPU and on `gemmRef` from the same random operands; compares C. */
async function check(
  M: number,
  N: number,
  K: number,
  sizes: { a: number; b: number; c: number },
  opts: GemmOptions,
  seed: number,
  cInit?: Float32Array,
): Promise<void> {
  const be = await gpu();
  const a = uniform(sizes.a, seed), b = uniform(sizes.b, seed + 1);
  const c0 = cInit ?? uniform(sizes.c, seed + 2);
  const ga = be.tensor([sizes.a], a), gb = be.tensor([sizes.b], b), gc = be.tensor([sizes.c], c0);
  be.gemm(gc, ga, gb, M, N, K, opts);
  const want = Float32Array.from(c0);
  gemmRef(want, a, b, M, N, K, opts);
  assertClose(await be.read(gc), want, ATOL, RTOL, `gemm ${M}x${N}x${K} ${JSON.stringify(opts)}`);
  for (const t of [ga, gb, gc]) be.free(t);
}

Deno.test({
  ...GPU_TEST,
  name: "gemm() matches gemmRef for every transpose at M=37, N=19, K=23",
  ignore: gpuIgnore,
  async fn() {
    const M = 37, N = 19, K = 23;
    let seed = 1;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await check(M, N, K, { a: M * K, b: K * N, c: M * N }, { transA, transB }, seed++);
      }
    }
  },
});

Deno.test({
  ...GPU_TEST,
  name: "gemm() matches gemmRef across several tiles and k panels (M=131, N=77, K=45)",
  ignore: gpuIgnore,
  async fn() {
    // Partial tiles on both axes (64x64 tiles) and a partial last k panel (16 per panel).
    const M = 131, N = 77, K = 45;
    let seed = 11;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        await check(M, N, K, { a: M * K, b: K * N, c: M * N }, { transA, transB }, seed++);
      }
    }
  },
});

Deno.test({
  ...GPU_TEST,
  name: "gemm() applies alpha and beta, and beta = 0 ignores NaN in C",
  ignore: gpuIgnore,
  async fn() {
    const M = 70, N = 66, K = 17; // two tiles in each direction, ragged edges
    await check(M, N, K, { a: M * K, b: K * N, c: M * N }, { alpha: -0.5, beta: 0.75 }, 11);
    await check(
      M,
      N,
      K,
      { a: M * K, b: K * N, c: M * N },
      { alpha: 2 },
      12,
      new Float32Array(M * N).fill(NaN),
    );
  },
});

Deno.test({
  ...GPU_TEST,
  name: "gemm() handles batch strides, leading dimensions and offsets",
  ignore: gpuIgnore,
  async fn() {
    // Three (M, K) blocks inside rows of width lda, starting at offsetA, strideA apart; C is
    // written into a wider matrix (ldc > N), beta = 1 keeps the untouched cells.
    const M = 9, N = 13, K = 21, batch = 3;
    const opts: GemmOptions = {
      batch,
      lda: 30,
      ldb: 15,
      ldc: 16,
      offsetA: 5,
      offsetB: 3,
      offsetC: 7,
      strideA: 9 * 30 + 4,
      strideB: 21 * 15 + 2,
      strideC: 9 * 16 + 1,
      beta: 1,
    };
    const sizes = { a: 5 + 2 * (9 * 30 + 4) + 9 * 30, b: 3 + 2 * (21 * 15 + 2) + 21 * 15, c: 500 };
    await check(M, N, K, sizes, opts, 21);
    await check(M, N, K, sizes, { ...opts, transA: true, lda: 12, transB: true, ldb: 22 }, 22);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "gemm() with K = 0 gives beta * C and rejects a too small operand",
  ignore: gpuIgnore,
  async fn() {
    await check(5, 4, 0, { a: 1, b: 1, c: 20 }, { beta: 0.5 }, 31);
    const be = await gpu();
    const a = be.tensor([10]), b = be.tensor([10]), c = be.tensor([4]);
    assert.throws(() => be.gemm(c, a, b, 2, 2, 6), RangeError);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "gemm() is bit-identical across runs",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const M = 33, N = 40, K = 50;
    const a = be.tensor([M, K], uniform(M * K, 41)), b = be.tensor([K, N], uniform(K * N, 42));
    const c1 = be.tensor([M, N]), c2 = be.tensor([M, N]);
    be.gemm(c1, a, b, M, N, K);
    be.gemm(c2, a, b, M, N, K);
    assert.deepEqual(await be.read(c1), await be.read(c2));
  },
});

Deno.test({
  ...GPU_TEST,
  name: "every GEMM tile matches gemmRef for every transpose, batched, with ragged edges",
  ignore: gpuIgnore,
  async fn() {
    // Partial tiles of 128 and 64 on both axes, a partial last k panel (8, 16 and 32 per
    // panel), two batch entries at offsets that misalign the operands (element loads).
    for (const tile of GEMM_TILES) await checkTile(tile, 141, 133, 45, [3, 5, 7], 31);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "the wide GEMM tiles match gemmRef on aligned operands (vec4 loads, ragged vec4 edges)",
  ignore: gpuIgnore,
  async fn() {
    for (const tile of GEMM_TILES.filter((t) => t.wide)) {
      // every leading dimension, offset and stride a multiple of 4: whole vec4 loads
      await checkTile(tile, 132, 136, 52, [0, 4, 8], 71);
      // aligned along k but not along M and N, and a partial last vec4 of k (K = 50)
      await checkTile(tile, 130, 134, 50, [0, 0, 0], 91);
    }
  },
});

/** All four transpositions of one tile, batch 2, offsets [A, B, C], against gemmRef. */
async function checkTile(
  tile: (typeof GEMM_TILES)[number],
  M: number,
  N: number,
  K: number,
  [offsetA, offsetB, offsetC]: number[],
  seed: number,
): Promise<void> {
  const be = await gpu(), batch = 2;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const opts: GemmOptions = {
        transA,
        transB,
        alpha: 0.5,
        beta: 0.25,
        batch,
        offsetA,
        offsetB,
        offsetC,
      };
      const g = resolveGemm(M, N, K, opts);
      const a = uniform(offsetA + batch * M * K, seed++);
      const b = uniform(offsetB + batch * K * N, seed++);
      const c0 = uniform(offsetC + batch * M * N, seed++);
      const [ga, gb, gc] = [a, b, c0].map((x) => be.tensor([x.length], x));
      be.dispatch(
        gemmKernel(be.bufferOf(gc), be.bufferOf(ga), be.bufferOf(gb), { M, N, K, ...g }, { tile }),
      );
      const want = Float32Array.from(c0);
      gemmRef(want, a, b, M, N, K, opts);
      const label = `tile ${tileName(tile)} ` +
        `${M}x${N}x${K} transA ${transA} transB ${transB}`;
      assertClose(await be.read(gc), want, ATOL, RTOL, label);
      for (const t of [ga, gb, gc]) be.free(t);
    }
  }
}

Deno.test("chooseTile() and chooseSplit() pick the measured tiles of the MDM products", () => {
  const R = 1576, C = 512, FF = 1024; // CFG batch 8 of 197 tokens
  const pick = (M: number, N: number, K: number, o: GemmOptions = {}) => {
    const g = { M, N, K, ...resolveGemm(M, N, K, o) };
    const t = chooseTile(g);
    return `${tileName(t)}/${chooseSplit(g, t).splits}`;
  };
  assert.equal(pick(100, 100, 64, { transB: true }), "128x64wup/1"); // small: one wave
  // in_proj forward: 312 workgroups of 128x64 would run in two waves
  assert.equal(pick(R, 3 * C, C, { transB: true }), "64x128wu/1");
  assert.equal(pick(R, FF, C, { transB: true }), "128x64wup/1"); // linear1 forward
  assert.equal(pick(R, C, FF, { transB: true }), "128x64wup/1"); // linear2 forward: whole
  assert.equal(pick(R, C, FF), "128x64wup/1"); // input gradient of linear1
  assert.equal(pick(FF, C, R, { transA: true }), "64x64wu/1"); // weight gradient of linear1: whole
  // four transitions per call (R = 6304): 64x128wu, weight gradients split 8 ways
  assert.equal(pick(4 * R, 3 * C, C, { transB: true }), "64x128wu/1");
  assert.equal(pick(4 * R, C, FF, { transB: true }), "64x128wu/1");
  assert.equal(pick(4 * R, C, FF), "64x128wu/1");
  assert.equal(pick(FF, C, 4 * R, { transA: true }), "64x64wu/8");
  // attention's per-head products: 128x64wu for the scores, 64x64u for the others
  assert.equal(pick(197, 197, 128, { transB: true, batch: 32 }), "128x64wu/1");
  assert.equal(pick(197, 128, 197, { batch: 128 }), "64x64u/1");
  assert.equal(pick(197, 128, 197, { transA: true, batch: 128 }), "64x64u/1");
});

Deno.test({
  ...GPU_TEST,
  name: "split-K products match gemmRef (partial slices, reduce with alpha, beta, ldc, offset)",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    // A weight-gradient-like product: small C, long k range, ragged last slice.
    const M = 70, N = 45, K = 1000;
    let seed = 51;
    for (const [transA, transB] of [[true, false], [false, true]]) {
      for (const splits of [2, 3, 7]) {
        const opts: GemmOptions = { transA, transB, alpha: 0.5, beta: 1, ldc: 50, offsetC: 3 };
        const g = { M, N, K, ...resolveGemm(M, N, K, opts) };
        const split = splitOf(K, splits);
        assert.equal(split.splits, splits);
        const a = uniform(M * K, seed++), b = uniform(K * N, seed++);
        const c0 = uniform(3 + 50 * M, seed++);
        const [ga, gb, gc] = [a, b, c0].map((x) => be.tensor([x.length], x));
        const part = be.tensor([splits * M * N]);
        const tile = chooseTile(g);
        be.dispatch(
          gemmKernel(be.bufferOf(part), be.bufferOf(ga), be.bufferOf(gb), g, { tile, split }),
        );
        be.dispatch(splitReduceKernel(be.bufferOf(gc), be.bufferOf(part), g, splits));
        const want = Float32Array.from(c0);
        gemmRef(want, a, b, M, N, K, opts);
        // sums of 1000 products of numbers in [-1, 1): atol 1e-4, rtol 1e-4
        const got = await be.read(gc);
        assertClose(got, want, 1e-4, 1e-4, `split ${splits} transA ${transA}`);
        assert.equal(got[0], c0[0]); // outside C (before offsetC) untouched
        for (const t of [ga, gb, gc, part]) be.free(t);
      }
    }
  },
});

Deno.test({
  ...GPU_TEST,
  name: "gemm() splits the k range of a small unbatched product and matches gemmRef",
  ignore: gpuIgnore,
  async fn() {
    const M = 64, N = 64, K = 4096;
    const g = { M, N, K, ...resolveGemm(M, N, K, { transA: true }) };
    assert.ok(chooseSplit(g, chooseTile(g)).splits > 1, "this shape is split");
    // beta 1 accumulates (a weight gradient); sums of 4096 terms: atol 2e-4, rtol 1e-4
    const be = await gpu();
    const a = uniform(M * K, 61), b = uniform(K * N, 62), c0 = uniform(M * N, 63);
    const [ga, gb, gc] = [a, b, c0].map((x) => be.tensor([x.length], x));
    be.gemm(gc, ga, gb, M, N, K, { transA: true, beta: 1 });
    const want = Float32Array.from(c0);
    gemmRef(want, a, b, M, N, K, { transA: true, beta: 1 });
    assertClose(await be.read(gc), want, 2e-4, 1e-4, "split gemm");
    for (const t of [ga, gb, gc]) be.free(t);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "a weight-gradient product adds the column sums of dout on every tile, whole and split",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    // dW (M, N) += dout^T (M, K) inp (K, N); rows (M) += column sums of dout (K, M). M and N
    // ragged against every tile; lda 72 and offset 1 make dout's rows unaligned for vec4 loads.
    const M = 70, N = 45, K = 300;
    let seed = 300;
    for (const [lda, offsetA] of [[70, 0], [72, 1]]) {
      const opts: GemmOptions = { transA: true, beta: 1, lda, offsetA };
      const g = { M, N, K, ...resolveGemm(M, N, K, opts) };
      const a = uniform(offsetA + K * lda, seed++), b = uniform(K * N, seed++);
      const c0 = uniform(M * N, seed++), r0 = uniform(M, seed++);
      const wantC = Float32Array.from(c0), wantR = Float32Array.from(r0);
      gemmRef(wantC, a, b, M, N, K, opts);
      for (let k = 0; k < K; k++) {
        for (let i = 0; i < M; i++) wantR[i] += a[offsetA + k * lda + i];
      }
      for (const tile of GEMM_TILES) {
        for (const splits of [1, 3]) {
          const [ga, gb, gc, gr] = [a, b, c0, r0].map((x) => be.tensor([x.length], x));
          const name = `${tileName(tile)} split ${splits} lda ${lda}`;
          if (splits === 1) {
            be.dispatch(gemmKernel(be.bufferOf(gc), be.bufferOf(ga), be.bufferOf(gb), g, {
              tile,
              rowSums: be.bufferOf(gr),
            }));
          } else {
            const split = splitOf(K, splits);
            const part = be.tensor([splits * M * N]), rowPart = be.tensor([splits * M]);
            be.dispatch(gemmKernel(be.bufferOf(part), be.bufferOf(ga), be.bufferOf(gb), g, {
              tile,
              split,
              rowSums: be.bufferOf(rowPart),
            }));
            be.dispatch(
              splitReduceKernel(be.bufferOf(gc), be.bufferOf(part), g, splits, {
                part: be.bufferOf(rowPart),
                out: be.bufferOf(gr),
              }),
            );
            be.free(part);
            be.free(rowPart);
          }
          // sums of 300 terms in [-1, 1): atol 1e-4, rtol 1e-4
          const [gotC, gotR] = await be.readMany([gc, gr]);
          assertClose(gotC, wantC, 1e-4, 1e-4, `C, ${name}`);
          assertClose(gotR, wantR, 1e-4, 1e-4, `row sums, ${name}`);
          for (const t of [ga, gb, gc, gr]) be.free(t);
        }
      }
    }
    // only a transposed, unbatched A has them
    const x = be.tensor([16]);
    const flat = { M: 4, N: 4, K: 4, ...resolveGemm(4, 4, 4, {}) };
    assert.throws(
      () =>
        gemmKernel(be.bufferOf(x), be.bufferOf(x), be.bufferOf(x), flat, {
          rowSums: be.bufferOf(x),
        }),
      /Cannot gemm with row sums of op\(A\) unless A is transposed/,
    );
    be.free(x);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "linearBackward() takes dbias from its split weight-gradient product (N = 4096)",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const N = 4096, C = 24, OC = 40;
    const g = { M: OC, N: C, K: N, ...resolveGemm(OC, C, N, { transA: true, beta: 1 }) };
    assert.ok(chooseSplit(g, chooseTile(g)).splits > 1, "this shape is split");
    const dout = uniform(N * OC, 401), inp = uniform(N * C, 402), w = uniform(OC * C, 403);
    const dw0 = uniform(OC * C, 404), db0 = uniform(OC, 405);
    const [gd, gi, gw, gdw, gdb] = [dout, inp, w, dw0, db0].map((x) => be.tensor([x.length], x));
    be.linearBackward(null, gdw, gdb, gd, gi, gw, N, C, OC);
    const wantW = Float32Array.from(dw0), wantB = Float64Array.from(db0);
    gemmRef(wantW, dout, inp, OC, C, N, { transA: true, beta: 1 });
    for (let n = 0; n < N; n++) for (let o = 0; o < OC; o++) wantB[o] += dout[n * OC + o];
    // sums of 4096 terms in [-1, 1): atol 5e-4, rtol 1e-4
    const [gotW, gotB] = await be.readMany([gdw, gdb]);
    assertClose(gotW, wantW, 5e-4, 1e-4, "dweight");
    assertClose(gotB, wantB, 5e-4, 1e-4, "dbias");
    for (const t of [gd, gi, gw, gdw, gdb]) be.free(t);
  },
});
