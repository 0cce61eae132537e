import assert from "node:assert/strict";
import {
  attentionBackward,
  attentionBackwardRef,
  attentionForward,
  attentionForwardRef,
} from "../../kernels/attention/cpu.ts";
import type { GemmFn } from "../../kernels/gemm/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { fusedAttentionFits } from "../../kernels/wasm/attention_f32.ts";
import { gemmF32 } from "../../kernels/wasm/gemm_f32.ts";
import { assertClose } from "../_util.ts";

/** `gemmF32` under another name: attention takes its per-product GEMM path, not the fused one. */
const gemmF32Path: GemmFn = (c, a, b, M, N, K, opts) => gemmF32(c, a, b, M, N, K, opts);

/** Asserts the same bits, any NaN matching any NaN (NaN signs follow the compiler, not IEEE). */
function assertSameValues(ours: Float32Array, ref: Float32Array, label: string): void {
  const u = new Uint32Array(ours.buffer), v = new Uint32Array(ref.buffer);
  for (let i = 0; i < u.length; i++) {
    if (u[i] !== v[i] && !(Number.isNaN(ours[i]) && Number.isNaN(ref[i]))) {
      assert.fail(`${label}: element ${i} is ${ours[i]}, GEMM path ${ref[i]}`);
    }
  }
}

/** keyMask (B, T) of a kind: none, padded tails, random keys, last entry all padded, odd values. */
function keyMask(rng: Rng, kind: string, B: number, T: number): Float32Array | null {
  if (kind === "none") return null;
  const m = new Float32Array(B * T).fill(1);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (kind === "tail" && t >= Math.max(1, T - 3 * b - 2)) m[i] = 0;
      if (kind === "random" && rng.uniform() < 0.3) m[i] = 0;
      if (kind === "all" && b === B - 1) m[i] = 0;
      if (kind === "odd values") m[i] = [1, 0, -0, NaN, 0.5][rng.int(5)];
    }
  }
  return m;
}

Deno.test("the fused WASM attention gives the bits of the per-product gemmF32 path", () => {
  const rng = new Rng(81, 5);
  const specials = [NaN, -NaN, Infinity, -Infinity, -0, 1e-45, 3e38];
  // (B, T, C, NH): the mini model's shape, odd and even T, one key, one head, wide heads
  const shapes = [[8, 61, 64, 4], [8, 60, 64, 4], [3, 1, 64, 4], [2, 7, 32, 2], [2, 33, 512, 4]];
  for (const [B, T, C, NH] of shapes) {
    assert.ok(fusedAttentionFits(T, C, NH));
    for (const scale of [0.1, 1, 30, 1e20]) {
      for (const kind of ["none", "tail", "random", "all", "odd values"]) {
        const qkv = new Float32Array(B * T * 3 * C), dout = new Float32Array(B * T * C);
        for (let i = 0; i < qkv.length; i++) qkv[i] = rng.normal() * scale;
        for (let i = 0; i < dout.length; i++) dout[i] = rng.normal() * scale;
        if (scale === 30) {
          for (let j = 0; j < 3; j++) {
            qkv[rng.int(qkv.length)] = specials[rng.int(specials.length)];
            dout[rng.int(dout.length)] = specials[rng.int(specials.length)];
          }
        }
        const mask = keyMask(rng, kind, B, T);
        const label = `B ${B}, T ${T}, C ${C}, NH ${NH}, scale ${scale}, mask ${kind}`;
        const outF = new Float32Array(B * T * C).fill(7), attF = new Float32Array(B * NH * T * T);
        const outG = outF.slice(), attG = attF.slice().fill(7);
        attentionForward(outF, attF, qkv, mask, B, T, C, NH, gemmF32);
        attentionForward(outG, attG, qkv, mask, B, T, C, NH, gemmF32Path);
        assertSameValues(attF, attG, `att, ${label}`);
        assertSameValues(outF, outG, `out, ${label}`);
        const dF = new Float32Array(B * T * 3 * C).fill(5), dG = dF.slice();
        const datt = new Float32Array(B * NH * T * T);
        attentionBackward(dF, datt, dout, qkv, attG, B, T, C, NH, gemmF32);
        attentionBackward(dG, datt, dout, qkv, attG, B, T, C, NH, gemmF32Path);
        assertSameValues(dF, dG, `dqkv, ${label}`);
      }
    }
  }
});

Deno.test("the fused WASM attention matches the plain loops", () => {
  const rng = new Rng(82, 1);
  for (const [B, T, C, NH] of [[8, 61, 64, 4], [2, 9, 16, 1], [3, 1, 32, 4]]) {
    for (const kind of ["none", "tail", "all"]) {
      const qkv = new Float32Array(B * T * 3 * C), dout = new Float32Array(B * T * C);
      for (let i = 0; i < qkv.length; i++) qkv[i] = rng.normal();
      for (let i = 0; i < dout.length; i++) dout[i] = rng.normal();
      const mask = keyMask(rng, kind, B, T);
      const out = new Float32Array(B * T * C), att = new Float32Array(B * NH * T * T);
      const outR = new Float64Array(B * T * C), attR = new Float64Array(B * NH * T * T);
      attentionForward(out, att, qkv, mask, B, T, C, NH, gemmF32);
      attentionForwardRef(outR, attR, qkv, mask, B, T, C, NH);
      const what = `B${B} T${T} C${C} NH${NH} mask ${kind}`;
      // float32 sums of unit-scale terms against float64 ones
      assertClose(att, attR, 1e-6, 1e-5, `att ${what}`);
      assertClose(out, outR, 1e-5, 1e-5, `out ${what}`);
      const dqkv = new Float32Array(B * T * 3 * C), dqkvR = new Float64Array(B * T * 3 * C);
      attentionBackward(dqkv, new Float32Array(att.length), dout, qkv, att, B, T, C, NH, gemmF32);
      attentionBackwardRef(dqkvR, new Float64Array(att.length), dout, qkv, att, B, T, C, NH);
      assertClose(dqkv, dqkvR, 1e-5, 1e-4, `dqkv ${what}`);
    }
  }
});
