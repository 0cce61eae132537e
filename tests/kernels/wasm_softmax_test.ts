import assert from "node:assert/strict";
import { attentionForward } from "../../kernels/attention/cpu.ts";
import { gemmRef } from "../../kernels/gemm/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { gemmF32 } from "../../kernels/wasm/gemm_f32.ts";

/** Asserts the same bits, any NaN matching any NaN (NaN signs follow the compiler, not IEEE). */
function assertSameValues(ours: Float32Array, ref: Float32Array, label: string): void {
  const u = new Uint32Array(ours.buffer), v = new Uint32Array(ref.buffer);
  for (let i = 0; i < u.length; i++) {
    if (u[i] !== v[i] && !(Number.isNaN(ours[i]) && Number.isNaN(ref[i]))) {
      assert.fail(`${label}: element ${i} is ${ours[i]}, host softmax ${ref[i]}`);
    }
  }
}

Deno.test("the WASM softmax of attentionForward() gives the bits of the host softmax", () => {
  const rng = new Rng(80, 3);
  const specials = [NaN, Infinity, -Infinity, -0];
  // (B, T, C, NH): the model's shape, odd and even T, one key, long rows
  for (const [B, T, C, NH] of [[8, 61, 64, 4], [2, 7, 8, 2], [3, 1, 4, 1], [2, 12, 12, 3]]) {
    for (const scale of [0.1, 1, 8, 1e3, 1e20]) {
      for (const maskKind of ["none", "tail", "random", "all", "odd values"]) {
        const qkv = new Float32Array(B * T * 3 * C);
        for (let i = 0; i < qkv.length; i++) qkv[i] = rng.normal() * scale;
        if (scale === 8) qkv[rng.int(qkv.length)] = specials[rng.int(specials.length)];
        // a float32 mask takes the WASM path, the same mask in float64 the host loop
        let mask32: Float32Array | null = null;
        if (maskKind !== "none") {
          mask32 = new Float32Array(B * T).fill(1);
          for (let b = 0; b < B; b++) {
            for (let t = 0; t < T; t++) {
              const i = b * T + t;
              if (maskKind === "tail" && t >= Math.max(1, T - 3 * b)) mask32[i] = 0;
              if (maskKind === "random" && rng.uniform() < 0.3) mask32[i] = 0;
              if (maskKind === "all" && b === 0) mask32[i] = 0;
              if (maskKind === "odd values") mask32[i] = [1, 0, -0, NaN, 0.5][rng.int(5)];
            }
          }
        }
        const mask64 = mask32 === null ? null : Float64Array.from(mask32);
        for (const gemm of [gemmF32, gemmRef]) {
          const outW = new Float32Array(B * T * C), attW = new Float32Array(B * NH * T * T);
          const outH = outW.slice(), attH = attW.slice();
          attentionForward(outW, attW, qkv, mask32, B, T, C, NH, gemm);
          const host = mask64 ?? Float64Array.from({ length: B * T }, () => 1);
          attentionForward(outH, attH, qkv, host, B, T, C, NH, gemm);
          const label = `B ${B}, T ${T}, scale ${scale}, mask ${maskKind}`;
          assertSameValues(attW, attH, `att, ${label}`);
          assertSameValues(outW, outH, `out, ${label}`);
        }
      }
    }
  }
});
