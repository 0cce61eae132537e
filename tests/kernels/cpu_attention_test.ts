import assert from "node:assert/strict";
import {
  attentionBackward,
  attentionBackwardRef,
  attentionForward,
  attentionForwardRef,
} from "../../kernels/attention/cpu.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { type GemmFn, gemmRef } from "../../kernels/gemm/cpu.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose, hasTorch, runPython, tempDir } from "../_util.ts";
import { dot, f32, numericalGrad, randomArray } from "./_cpu_grad.ts";

/** keyMask (B, T): batch 0 all valid, batch 1 with keys 1 and T-1 padded, batch 2 all padded. */
function mixedMask(B: number, T: number): Float64Array {
  const m = new Float64Array(B * T).fill(1);
  if (B > 1) m[T + 1] = m[2 * T - 1] = 0;
  if (B > 2) m.fill(0, 2 * T, 3 * T);
  return m;
}

Deno.test("attentionForwardRef() gives padded keys probability 0 and all-padded rows zeros", () => {
  const rng = new Rng(41);
  const B = 3, T = 5, C = 6, NH = 2;
  const qkv = randomArray(rng, B * T * 3 * C), mask = mixedMask(B, T);
  const out = new Float64Array(B * T * C).fill(NaN), att = new Float64Array(B * NH * T * T);
  attentionForwardRef(out, att, qkv, mask, B, T, C, NH);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < NH * T; r++) {
      const row = att.subarray((b * NH * T + r) * T, (b * NH * T + r + 1) * T);
      let sum = 0;
      for (let s = 0; s < T; s++) {
        if (mask[b * T + s] === 0) assert.equal(row[s], 0, `att[b=${b}, row ${r}, key ${s}]`);
        sum += row[s];
      }
      assertClose([sum], [b === 2 ? 0 : 1], 1e-15, 0, `row sum b=${b}`);
    }
  }
  assert.ok(out.subarray(2 * T * C).every((v) => v === 0), "all-padded batch gives zeros");
  assert.ok(out.every(Number.isFinite));
});

Deno.test("attentionBackwardRef() matches central finite differences with a key mask", () => {
  const rng = new Rng(42);
  const B = 3, T = 4, C = 6, NH = 2;
  const qkv = randomArray(rng, B * T * 3 * C), mask = mixedMask(B, T);
  const dout = randomArray(rng, B * T * C);
  const out = new Float64Array(B * T * C), att = new Float64Array(B * NH * T * T);
  const loss = () => {
    attentionForwardRef(out, att, qkv, mask, B, T, C, NH);
    return dot(out, dout);
  };
  const numeric = numericalGrad(loss, qkv, 1e-6);
  loss();
  const dqkv = new Float64Array(qkv.length).fill(NaN), datt = new Float64Array(att.length);
  attentionBackwardRef(dqkv, datt, dout, qkv, att, B, T, C, NH);
  assertClose(dqkv, numeric, 1e-8, 1e-6, "dqkv");
  // Padded keys get no gradient; the all-padded batch gets none at all.
  const C3 = 3 * C;
  for (let i = 0; i < 2 * C; i++) assert.equal(dqkv[(T + 1) * C3 + C + i], 0, "padded key 1");
  assert.ok(dqkv.subarray(2 * T * C3).every((v) => v === 0));
});

Deno.test("attentionForward()/attentionBackward() through gemm match the plain loops", () => {
  const rng = new Rng(43);
  for (const [B, T, C, NH] of [[2, 7, 12, 3], [3, 5, 6, 2], [1, 1, 4, 4], [1, 9, 5, 1]]) {
    const qkv = randomArray(rng, B * T * 3 * C), dout = randomArray(rng, B * T * C);
    for (const mask of [null, mixedMask(B, T)]) {
      const o1 = new Float64Array(B * T * C), a1 = new Float64Array(B * NH * T * T);
      const o2 = o1.slice().fill(NaN), a2 = a1.slice().fill(NaN);
      attentionForwardRef(o1, a1, qkv, mask, B, T, C, NH);
      attentionForward(o2, a2, qkv, mask, B, T, C, NH, gemmRef);
      const what = `B${B} T${T} C${C} NH${NH} mask ${mask !== null}`;
      assertClose(o2, o1, 1e-13, 1e-12, `out ${what}`);
      assertClose(a2, a1, 1e-13, 1e-12, `att ${what}`);
      const d1 = qkv.slice().fill(NaN), d2 = qkv.slice().fill(NaN);
      attentionBackwardRef(d1, new Float64Array(a1.length), dout, qkv, a1, B, T, C, NH);
      attentionBackward(d2, new Float64Array(a1.length), dout, qkv, a1, B, T, C, NH, gemmRef);
      assertClose(d2, d1, 1e-13, 1e-12, `dqkv ${what}`);
    }
  }
});

Deno.test("attentionForward() softmax matches Math.exp across the exponent range and NaN", () => {
  // Scores spread over hundreds (large q, k) drive exp from 1 down past the subnormals.
  const rng = new Rng(46);
  const B = 1, T = 33, C = 8, NH = 2;
  const qkv = randomArray(rng, B * T * 3 * C, 12);
  const o1 = new Float64Array(B * T * C), a1 = new Float64Array(B * NH * T * T);
  const o2 = o1.slice(), a2 = a1.slice();
  attentionForwardRef(o1, a1, qkv, null, B, T, C, NH);
  attentionForward(o2, a2, qkv, null, B, T, C, NH, gemmRef);
  assert.ok(a1.some((v) => v > 0 && v < 1e-200), "some probabilities are tiny");
  assertClose(a2, a1, 1e-300, 1e-13, "att");
  assertClose(o2, o1, 1e-12, 1e-12, "out");
  // A NaN key poisons every row that sees it, in both versions.
  qkv[C] = NaN;
  attentionForwardRef(o1, a1, qkv, null, B, T, C, NH);
  attentionForward(o2, a2, qkv, null, B, T, C, NH, gemmRef);
  assert.deepEqual([...a2].map(Number.isNaN), [...a1].map(Number.isNaN));
  assert.ok(a2.some(Number.isNaN));
});

Deno.test("cpu backend attention routes products through its gemm and matches the loops", async () => {
  const rng = new Rng(44);
  const B = 2, T = 7, C = 12, NH = 3;
  const qkv = f32(randomArray(rng, B * T * 3 * C)), dout = f32(randomArray(rng, B * T * C));
  const mask = f32(mixedMask(B, T));
  let calls = 0;
  const counting: GemmFn = (...args) => {
    calls++;
    gemmRef(...args);
  };
  const be = createCpuBackend({ gemm: counting });
  assert.equal(be.describe(), "cpu (gemm: custom)");
  const tq = be.tensor([B, T, 3 * C], qkv), td = be.tensor([B, T, C], dout);
  const tm = be.tensor([B, T], mask);
  const out = be.tensor([B, T, C]), att = be.tensor([B, NH, T, T]);
  const dqkv = be.tensor([B, T, 3 * C]), datt = be.tensor([B, NH, T, T]);
  be.attentionForward(out, att, tq, tm, B, T, C, NH);
  assert.equal(calls, 2 * B, "QK^T and att V per batch");
  be.attentionBackward(dqkv, datt, td, tq, att, B, T, C, NH);
  assert.equal(calls, 6 * B, "four more products per batch");

  const h = (a: Float32Array) => new Float64Array(a);
  const ro = new Float64Array(B * T * C), ra = new Float64Array(B * NH * T * T);
  const rd = new Float64Array(B * T * 3 * C);
  attentionForwardRef(ro, ra, h(qkv), h(mask), B, T, C, NH);
  attentionBackwardRef(rd, new Float64Array(ra.length), h(dout), h(qkv), ra, B, T, C, NH);
  assertClose(await be.read(out), ro, 1e-5, 1e-5, "out");
  assertClose(await be.read(att), ra, 1e-6, 1e-5, "att");
  assertClose(await be.read(dqkv), rd, 1e-5, 1e-5, "dqkv");
  assert.throws(
    () => be.attentionForward(out, att, tq, tm, B, T, C, 5),
    (e: unknown) => e instanceof RangeError && /multiple of NH/.test(e.message),
  );
});

const TORCH_MHA = `
import json, sys, torch
d = json.load(open(sys.argv[1]))
B, T, C, NH = d["B"], d["T"], d["C"], d["NH"]
qkv = torch.tensor(d["qkv"], dtype=torch.float64).reshape(B, T, 3 * C)
q, k, v = [x.clone().requires_grad_(True) for x in qkv.split(C, dim=2)]
mha = torch.nn.MultiheadAttention(C, NH, bias=False, batch_first=True).double()
with torch.no_grad():
    mha.in_proj_weight.copy_(torch.eye(C, dtype=torch.float64).repeat(3, 1))
    mha.out_proj.weight.copy_(torch.eye(C, dtype=torch.float64))
pad = torch.tensor(d["mask"]).reshape(B, T) == 0
out, att = mha(q, k, v, key_padding_mask=pad, need_weights=True, average_attn_weights=False)
dout = torch.tensor(d["dout"], dtype=torch.float64).reshape(B, T, C)
(out * dout).sum().backward()
dqkv = torch.cat([q.grad, k.grad, v.grad], dim=2)
print(json.dumps({"out": out.flatten().tolist(), "att": att.flatten().tolist(),
                  "dqkv": dqkv.flatten().tolist()}))
`;

Deno.test({
  name: "attentionForwardRef()/attentionBackwardRef() match torch MultiheadAttention",
  ignore: !hasTorch,
  async fn() {
    const rng = new Rng(45);
    // No all-padded batch here: PyTorch returns NaN for it.
    const B = 2, T = 6, C = 12, NH = 3;
    const qkv = randomArray(rng, B * T * 3 * C), dout = randomArray(rng, B * T * C);
    const mask = mixedMask(B, T);
    const dir = await tempDir();
    try {
      const input = `${dir.path}/in.json`;
      const body = { B, T, C, NH, qkv: [...qkv], dout: [...dout], mask: [...mask] };
      await Deno.writeTextFile(input, JSON.stringify(body));
      const torch = JSON.parse(await runPython(["-c", TORCH_MHA, input]));
      const out = new Float64Array(B * T * C), att = new Float64Array(B * NH * T * T);
      const dqkv = new Float64Array(qkv.length);
      attentionForwardRef(out, att, qkv, mask, B, T, C, NH);
      attentionBackwardRef(dqkv, new Float64Array(att.length), dout, qkv, att, B, T, C, NH);
      assertClose(out, torch.out, 1e-12, 1e-10, "out");
      assertClose(att, torch.att, 1e-12, 1e-10, "att");
      assertClose(dqkv, torch.dqkv, 1e-12, 1e-10, "dqkv");
    } finally {
      await dir.remove();
    }
  },
});
