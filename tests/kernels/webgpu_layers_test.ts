/** WGSL linear, layernorm and attention forward/backward against the CPU twin. */
import assert from "node:assert/strict";
import { assertTwin, both, cpu, gpu, GPU_TEST, gpuIgnore, uniform } from "./_webgpu.ts";
import { maskedSoftmaxKernel, SOFTMAX_HELD_T } from "../../kernels/attention/wgsl.ts";
import { resolveGemm } from "../../kernels/gemm/cpu.ts";
import { chooseSplit, chooseTile } from "../../kernels/gemm/wgsl.ts";
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { layernormForwardKernel, LN_HELD_C } from "../../kernels/layernorm/wgsl.ts";

Deno.test({
  ...GPU_TEST,
  name: "linearForward() and linearBackward() match the CPU twin (N=37, C=23, OC=19)",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const N = 37, C = 23, OC = 19;
    const [inp, inpC] = both(be, [N, C], uniform(N * C, 1));
    const [w, wC] = both(be, [OC, C], uniform(OC * C, 2));
    const [bias, biasC] = both(be, [OC], uniform(OC, 3));
    const [out, outC] = both(be, [N, OC]);
    be.linearForward(out, inp, w, bias, N, C, OC);
    cpu.linearForward(outC, inpC, wC, biasC, N, C, OC);
    // Sums of 23 products in [-1, 1): atol 1e-5, rtol 1e-4.
    await assertTwin(be, out, outC, 1e-5, 1e-4, "out");
    be.linearForward(out, inp, w, null, N, C, OC);
    cpu.linearForward(outC, inpC, wC, null, N, C, OC);
    await assertTwin(be, out, outC, 1e-5, 1e-4, "out without bias");
    // + a residual, added in the product's own pass, and GELU of the sum into another tensor
    const [res, resC] = both(be, [N, OC], uniform(N * OC, 7));
    const [act, actC] = both(be, [N, OC]);
    be.linearForward(out, inp, w, bias, N, C, OC, { residual: res });
    cpu.linearForward(outC, inpC, wC, biasC, N, C, OC, { residual: resC });
    await assertTwin(be, out, outC, 1e-5, 1e-4, "out with a residual");
    be.linearForward(out, inp, w, bias, N, C, OC, { residual: res, gelu: act });
    cpu.linearForward(outC, inpC, wC, biasC, N, C, OC, { residual: resC, gelu: actC });
    await assertTwin(be, out, outC, 1e-5, 1e-4, "out with a residual and a GELU");
    // GELU's slope is at most 1.13: atol 2e-5, rtol 1e-4
    await assertTwin(be, act, actC, 2e-5, 1e-4, "GELU(out)");
    for (const extras of [{ residual: out }, { gelu: out }]) {
      assert.throws(
        () => be.linearForward(out, inp, w, bias, N, C, OC, extras),
        (e: unknown) => e instanceof RangeError && /is the output tensor itself/.test(e.message),
      );
    }

    const [dout, doutC] = both(be, [N, OC], uniform(N * OC, 4));
    const [dinp, dinpC] = both(be, [N, C], new Float32Array(N * C).fill(NaN)); // overwritten
    // Parameter gradients accumulate onto what is there.
    const [dw, dwC] = both(be, [OC, C], uniform(OC * C, 5));
    const [db, dbC] = both(be, [OC], uniform(OC, 6));
    be.linearBackward(dinp, dw, db, dout, inp, w, N, C, OC);
    cpu.linearBackward(dinpC, dwC, dbC, doutC, inpC, wC, N, C, OC);
    // dweight and dbias sum 37 terms: atol 2e-5, rtol 1e-4.
    await assertTwin(be, dinp, dinpC, 1e-5, 1e-4, "dinp");
    await assertTwin(be, dw, dwC, 2e-5, 1e-4, "dweight");
    await assertTwin(be, db, dbC, 2e-5, 1e-4, "dbias");
    // Null outputs are skipped.
    be.linearBackward(null, null, db, dout, inp, w, N, C, OC);
    cpu.linearBackward(null, null, dbC, doutC, inpC, wC, N, C, OC);
    await assertTwin(be, db, dbC, 2e-5, 1e-4, "dbias twice");
    // The input gradient through a GELU before the layer, plus a residual path, in its own pass.
    const [pre, preC] = both(be, [N, C], uniform(N * C, 12, -3, 3)); // GELU's input
    const [dres, dresC] = both(be, [N, C], uniform(N * C, 13));
    be.linearBackward(dinp, null, null, dout, inp, w, N, C, OC, { geluInput: pre, residual: dres });
    cpu.linearBackward(dinpC, null, null, doutC, inpC, wC, N, C, OC, {
      geluInput: preC,
      residual: dresC,
    });
    // GELU's slope is at most 1.13: atol 2e-5, rtol 1e-4
    await assertTwin(be, dinp, dinpC, 2e-5, 1e-4, "dinp through GELU + residual");
    assert.throws(
      () => be.linearBackward(null, null, db, dout, inp, w, N, C, OC, { residual: dres }),
      (e: unknown) =>
        e instanceof RangeError && /residual is given but the input gradient/.test(e.message),
    );
  },
});

Deno.test({
  ...GPU_TEST,
  name: "linearForward() adds bias, residual and GELU after a product split along k",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    // a long k range and few output columns: the product is split (chooseSplit)
    const N = 8, C = 4096, OC = 16;
    const g = { M: N, N: OC, K: C, ...resolveGemm(N, OC, C, { transB: true }) };
    assert.ok(chooseSplit(g, chooseTile(g)).splits > 1, "this product is split");
    const [inp, inpC] = both(be, [N, C], uniform(N * C, 8));
    const [w, wC] = both(be, [OC, C], uniform(OC * C, 9));
    const [bias, biasC] = both(be, [OC], uniform(OC, 10));
    const [res, resC] = both(be, [N, OC], uniform(N * OC, 11));
    const [out, outC] = both(be, [N, OC]);
    const [act, actC] = both(be, [N, OC]);
    be.linearForward(out, inp, w, bias, N, C, OC, { residual: res, gelu: act });
    cpu.linearForward(outC, inpC, wC, biasC, N, C, OC, { residual: resC, gelu: actC });
    // Sums of 4096 products in [-1, 1): atol 2e-4, rtol 1e-4 (GELU's slope is at most 1.13).
    await assertTwin(be, out, outC, 2e-4, 1e-4, "split product + bias + residual");
    await assertTwin(be, act, actC, 3e-4, 1e-4, "GELU of the split product");
  },
});

Deno.test({
  ...GPU_TEST,
  name: "linearBackward() dbias reduces many row chunks (N=300)",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const N = 300, C = 3, OC = 5; // 5 chunks of 64 rows, the last ragged
    const [inp, inpC] = both(be, [N, C], uniform(N * C, 7));
    const [w, wC] = both(be, [OC, C], uniform(OC * C, 8));
    const [dout, doutC] = both(be, [N, OC], uniform(N * OC, 9));
    const [db, dbC] = both(be, [OC]);
    be.linearBackward(null, null, db, dout, inp, w, N, C, OC);
    cpu.linearBackward(null, null, dbC, doutC, inpC, wC, N, C, OC);
    // 300 terms of size <= 1: atol 1e-4, rtol 1e-4.
    await assertTwin(be, db, dbC, 1e-4, 1e-4, "dbias");
  },
});

/**
 * LayerNorm forward of (N, C) inputs in [-2, 3) on both backends (weights in [0.5, 1.5), seeds
 * `seed` to `seed + 2`): every tensor, the CPU twin's with a C suffix.
 */
function layernormTwins(be: Backend, N: number, C: number, seed: number) {
  const [inp, inpC] = both(be, [N, C], uniform(N * C, seed, -2, 3));
  const [w, wC] = both(be, [C], uniform(C, seed + 1, 0.5, 1.5));
  const [b, bC] = both(be, [C], uniform(C, seed + 2));
  const [out, outC] = both(be, [N, C]);
  const [mean, meanC] = both(be, [N]);
  const [rstd, rstdC] = both(be, [N]);
  be.layernormForward(out, mean, rstd, inp, w, b, N, C, 1e-5);
  cpu.layernormForward(outC, meanC, rstdC, inpC, wC, bC, N, C, 1e-5);
  return { inp, inpC, w, wC, out, outC, mean, meanC, rstd, rstdC };
}

Deno.test({
  ...GPU_TEST,
  name: "layernormForward() and layernormBackward() match the CPU twin (N=37, C=300)",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const N = 37, C = 300; // 8 rows per workgroup, the last one partial; 9-10 elements per lane
    const { inp, inpC, w, wC, out, outC, mean, meanC, rstd, rstdC } = layernormTwins(be, N, C, 11);
    // Normalised values of size ~2: atol 1e-5, rtol 1e-4.
    await assertTwin(be, out, outC, 1e-5, 1e-4, "out");
    await assertTwin(be, mean, meanC, 1e-6, 1e-5, "mean");
    await assertTwin(be, rstd, rstdC, 1e-6, 1e-5, "rstd");

    const [dout, doutC] = both(be, [N, C], uniform(N * C, 14));
    const [dinp, dinpC] = both(be, [N, C]);
    const [dw, dwC] = both(be, [C], uniform(C, 15));
    const [db, dbC] = both(be, [C], uniform(C, 16));
    be.layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
    cpu.layernormBackward(dinpC, dwC, dbC, doutC, inpC, wC, meanC, rstdC, N, C);
    await assertTwin(be, dinp, dinpC, 2e-5, 1e-4, "dinp");
    await assertTwin(be, dw, dwC, 2e-5, 1e-4, "dweight");
    await assertTwin(be, db, dbC, 2e-5, 1e-4, "dbias");
    // Only dbias.
    be.layernormBackward(dinp, null, db, dout, inp, w, mean, rstd, N, C);
    cpu.layernormBackward(dinpC, null, dbC, doutC, inpC, wC, meanC, rstdC, N, C);
    await assertTwin(be, db, dbC, 2e-5, 1e-4, "dbias twice");
    await assertTwin(be, dw, dwC, 2e-5, 1e-4, "dweight untouched");
  },
});

Deno.test({
  ...GPU_TEST,
  name: "layernorm's forward holding rows in registers equals the three-pass one bit for bit",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    for (const C of [LN_HELD_C, 500, 33]) {
      const N = 19;
      const inp = be.tensor([N, C], uniform(N * C, 40, -2, 3));
      const w = be.tensor([C], uniform(C, 41, 0.5, 1.5)), b = be.tensor([C], uniform(C, 42));
      const runWith = async (held: boolean) => {
        const out = be.tensor([N, C]), mean = be.tensor([N]), rstd = be.tensor([N]);
        const buf = (t: Tensor) => be.bufferOf(t);
        be.dispatch(
          layernormForwardKernel(
            buf(out),
            buf(mean),
            buf(rstd),
            buf(inp),
            buf(w),
            buf(b),
            N,
            C,
            1e-5,
            held,
          ),
        );
        const got = await be.readMany([out, mean, rstd]);
        for (const t of [out, mean, rstd]) be.free(t);
        return got;
      };
      const [held, loop] = [await runWith(true), await runWith(false)];
      held.forEach((x, i) => assert.deepEqual(x, loop[i], `C ${C}, output ${i}`));
      for (const t of [inp, w, b]) be.free(t);
    }
    // longer rows take the three-pass kernel (and refuse the held one)
    const { out, outC } = layernormTwins(be, 9, LN_HELD_C + 88, 43);
    await assertTwin(be, out, outC, 1e-5, 1e-4, "out, C 600");
    const x = be.bufferOf(out);
    assert.throws(
      () => layernormForwardKernel(x, x, x, x, x, x, 9, LN_HELD_C + 88, 1e-5, true),
      /Cannot hold rows of 600 elements/,
    );
  },
});

Deno.test({
  ...GPU_TEST,
  name: "the masked softmax holding rows in registers equals the three-pass one bit for bit",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    const B = 3, NH = 2;
    for (const T of [197, SOFTMAX_HELD_T, 20]) {
      // batch entry 0 keeps its first 150 keys, entry 1 every key, entry 2 none (rows of zeros)
      const mask = new Float32Array(B * T);
      for (let t = 0; t < T; t++) {
        mask[t] = t < 150 ? 1 : 0;
        mask[T + t] = 1;
      }
      const scores = uniform(B * NH * T * T, 50 + T, -6, 6);
      const gMask = be.tensor([B, T], mask);
      const runWith = async (held: boolean) => {
        const att = be.tensor([B, NH, T, T], scores);
        be.dispatch(
          maskedSoftmaxKernel(be.bufferOf(att), be.bufferOf(gMask), true, B, NH, T, held),
        );
        const got = await be.read(att);
        be.free(att);
        return got;
      };
      const held = await runWith(true), loop = await runWith(false);
      assert.deepEqual(held, loop, `T ${T}`);
      assert.ok(held.subarray(2 * NH * T * T).every((v) => v === 0), "all keys masked: zeros");
      assert.ok(held.some((v) => v > 0));
      be.free(gMask);
    }
    const x = be.tensor([4]);
    assert.throws(
      () => maskedSoftmaxKernel(be.bufferOf(x), be.bufferOf(x), false, 1, 1, 209, true),
      /Cannot hold rows of 209 keys/,
    );
    be.free(x);
  },
});

Deno.test({
  ...GPU_TEST,
  name: "layernorm and softmax loop over rows past the grid's 65535 workgroups",
  ignore: gpuIgnore,
  async fn() {
    const be = await gpu();
    // 65535 workgroups of 8 layernorm rows (16 softmax rows), then a partial round.
    const N = 65535 * 16 + 5, C = 3;
    const { out, outC } = layernormTwins(be, N, C, 17);
    // Among 1M rows of 3 values some spread by only ~0.006 (rstd ~170): the float32 mean's
    // rounding, times rstd, reaches ~7e-5 there. atol 2e-4, rtol 1e-4.
    await assertTwin(be, out, outC, 2e-4, 1e-4, "layernorm out");
    // the softmax kernel alone over 65540 x 16 rows of 16 scores (the attention's GEMMs stop at
    // 65535 batch entries)
    const B = 65540, T = 16, scores = uniform(B * T * T, 20, -4, 4);
    const att = be.tensor([B, 1, T, T], scores);
    be.dispatch(maskedSoftmaxKernel(be.bufferOf(att), be.bufferOf(att), false, B, 1, T));
    const got = await be.read(att);
    let worst = 0;
    for (let r = 0; r < B * T; r++) {
      const row = scores.subarray(r * T, (r + 1) * T), mx = Math.max(...row);
      const sum = row.reduce((acc, v) => acc + Math.exp(v - mx), 0);
      for (let t = 0; t < T; t++) {
        const want = Math.exp(row[t] - mx) / sum;
        // probabilities in (0, 1]: atol 1e-6, rtol 1e-5
        worst = Math.max(worst, Math.abs(got[r * T + t] - want) / (1e-6 + 1e-5 * want));
      }
    }
    assert.ok(worst <= 1, `softmax: worst error ${worst} of the tolerance`);
  },
});

/** Attention fixture on both backends: B=2, T=7, C=12, NH=3 (head size 4). */
async function attentionCase(masked: boolean) {
  const be = await gpu();
  const B = 2, T = 7, C = 12, NH = 3;
  const [qkv, qkvC] = both(be, [B, T, 3 * C], uniform(B * T * 3 * C, 21, -2, 2));
  // Batch 0: keys 2 and 5 padded; batch 1: every key padded (its rows must be zeros).
  const m = new Float32Array(B * T).fill(1);
  m[2] = 0;
  m[5] = 0;
  m.fill(0, T);
  const [mask, maskC] = masked ? both(be, [B, T], m) : [null, null];
  const [out, outC] = both(be, [B, T, C]);
  const [att, attC] = both(be, [B, NH, T, T]);
  be.attentionForward(out, att, qkv, mask, B, T, C, NH);
  cpu.attentionForward(outC, attC, qkvC, maskC, B, T, C, NH);
  // Softmax of scores of size ~4: atol 1e-5, rtol 1e-4.
  await assertTwin(be, att, attC, 1e-5, 1e-4, "att");
  await assertTwin(be, out, outC, 1e-5, 1e-4, "out");

  const [dout, doutC] = both(be, [B, T, C], uniform(B * T * C, 22));
  const [dqkv, dqkvC] = both(be, [B, T, 3 * C], new Float32Array(B * T * 3 * C).fill(NaN));
  const [datt, dattC] = both(be, [B, NH, T, T]);
  be.attentionBackward(dqkv, datt, dout, qkv, att, B, T, C, NH);
  cpu.attentionBackward(dqkvC, dattC, doutC, qkvC, attC, B, T, C, NH);
  await assertTwin(be, dqkv, dqkvC, 2e-5, 1e-4, "dqkv");
  return { att: await be.read(att), out: await be.read(out), T, NH };
}

Deno.test({
  ...GPU_TEST,
  name: "attentionForward() and attentionBackward() match the CPU twin without a mask",
  ignore: gpuIgnore,
  async fn() {
    const { att, T } = await attentionCase(false);
    // Every softmax row sums to 1.
    for (let r = 0; r < att.length / T; r++) {
      const s = att.subarray(r * T, (r + 1) * T).reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(s - 1) < 1e-5, `row ${r} sums to ${s}`);
    }
  },
});

Deno.test({
  ...GPU_TEST,
  name: "attentionForward() masks keys and gives zeros for fully masked rows",
  ignore: gpuIgnore,
  async fn() {
    const { att, out, T, NH } = await attentionCase(true);
    for (let t = 0; t < NH * T; t++) {
      assert.equal(att[t * T + 2], 0);
      assert.equal(att[t * T + 5], 0);
    }
    const half = att.length / 2;
    assert.ok(att.subarray(half).every((x) => x === 0), "batch 1 probabilities are zero");
    assert.ok(out.subarray(out.length / 2).every((x) => x === 0), "batch 1 output is zero");
  },
});
