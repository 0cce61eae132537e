import assert from "node:assert/strict";
import { attentionForward } from "../../kernels/attention/cpu.ts";
import { gemmRef } from "../../kernels/gemm/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { gemmF32 } from "../../kernels/wasm/gemm_f32.ts";
import { softmaxRowsF32 } from "../../kernels/wasm/attention_f32.ts";
import { EXP_F32_MIN_D, expF32, softmaxRowF32 } from "../../kernels/attention/_softmax_f32.ts";

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

Deno.test("expF32() is within 1.5 ulp of Math.exp over the float32 range it serves", () => {
  // Every 61st float32 in [-87.5, 0] (about 18 million), from -0 downwards.
  const bits = new Uint32Array(1), value = new Float32Array(bits.buffer);
  let worst = 0, within = 0, count = 0;
  for (let b = 0x80000000;; b += 61) {
    bits[0] = b;
    const d = value[0];
    if (d < EXP_F32_MIN_D) break;
    const ref = Math.exp(d), ulp = 2 ** Math.max(Math.floor(Math.log2(ref)) - 23, -149);
    const err = Math.abs(expF32(d) - ref) / ulp;
    if (err > worst) worst = err;
    if (err <= 0.5) within++;
    count++;
  }
  assert.ok(count > 1.7e7, `${count} values`);
  assert.ok(worst <= 1.5, `worst error ${worst} ulp`);
  assert.ok(within / count > 0.98, `${within} of ${count} correctly rounded`);
  assert.equal(expF32(0), 1);
  assert.equal(expF32(-0), 1);
  assert.equal(expF32(Math.fround(-87.6)), 0);
  assert.equal(expF32(-Infinity), 0);
  assert.ok(Number.isNaN(expF32(NaN)));
});

Deno.test("the WASM softmax takes the host's float32 exp at every exponent", () => {
  // Rows of 67 keys: key 0 scores 0 (the maximum), the others d = -0 down past -87.5 on a
  // geometric sweep, so that p_s = e_s / sum compares the two exps (and the lane sums) key by key.
  const T = 67, rows = 3000, x = new Float32Array(rows * T);
  let d = 1e-7;
  for (let r = 0; r < rows; r++) {
    for (let s = 1; s < T; s++) {
      x[r * T + s] = -d;
      d = d >= 95 ? 1e-7 * (1 + s / T) : d * 1.0021;
    }
  }
  const mask = new Float32Array(T).fill(1);
  const wasm = x.slice(), host = x.slice();
  softmaxRowsF32(wasm, 0, rows, mask, 0, T);
  for (let r = 0; r < rows; r++) softmaxRowF32(host, r * T, 0, mask, 0, T);
  assertSameValues(wasm, host, "probabilities");
  assert.ok(wasm.some((p) => p > 0 && p < 1e-37), "exps near the smallest normal");
  assert.ok(wasm.some((p, i) => p === 0 && x[i] > -87.6 && x[i] < -87.5), "cut below -87.5");
});
