import assert from "node:assert/strict";
import { adamw } from "../../kernels/adamw/cpu.ts";
import type { AdamWOptions } from "../../kernels/backend.ts";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose, hasTorch, runPython, tempDir } from "../_util.ts";
import { f32, randomArray } from "./_cpu_grad.ts";
import { AdamW } from "../../train/adamw.ts";
import { GradClipper } from "../../train/pretrain/clip_grad_norm.ts";

const HP = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

Deno.test("adamw() follows a hand-computed two-step trajectory", () => {
  // p = 1, g = 0.5 twice. Step 1: p = 0.999 (decay); m = 0.05, v = 0.00025; bias-corrected
  // m^ = 0.5, v^ = 0.25, so p -= 0.1 * 0.5 / (0.5 + 1e-8) -> 0.899.
  // Step 2: p = 0.899 * 0.999 = 0.898101; m = 0.095, v = 0.00049975; m^ = 0.095/0.19 = 0.5,
  // v^ = 0.00049975/0.001999 = 0.25, so p -> 0.798101.
  const p = f32([1]), g = f32([0.5]), m = f32([0]), v = f32([0]);
  adamw(p, g, m, v, 1, { ...HP, step: 1 });
  assertClose(p, [0.899], 1e-7, 1e-7, "p after step 1");
  assertClose(m, [0.05], 1e-9, 1e-7, "m after step 1");
  assertClose(v, [0.00025], 1e-12, 1e-7, "v after step 1");
  adamw(p, g, m, v, 1, { ...HP, step: 2 });
  assertClose(p, [0.798101], 1e-7, 1e-7, "p after step 2");
  assertClose(m, [0.095], 1e-9, 1e-7, "m after step 2");
  assertClose(v, [0.00049975], 1e-12, 1e-7, "v after step 2");
  // The float32 values PyTorch 1.13 prints for the same run.
  assert.equal(p[0], Math.fround(0.798101007938385));
});

Deno.test("cpu backend adamw() updates in place and checks its options", async () => {
  const be = createCpuBackend();
  const p = be.tensor([2], [1, -1]), g = be.tensor([2], [0.5, 0.5]);
  const m = be.tensor([2]), v = be.tensor([2]);
  be.adamw(p, g, m, v, 2, { ...HP, step: 1 });
  assertClose(await be.read(p), [0.899, -1.099], 1e-7, 1e-7, "p");
  const bad: AdamWOptions = { ...HP, step: 0 };
  assert.throws(() => be.adamw(p, g, m, v, 2, bad), RangeError);
  assert.throws(() => be.adamw(p, g, m, v, 2, { ...HP, beta2: 1, step: 1 }), RangeError);
  assert.throws(() => be.adamw(p, g, m, v, 3, { ...HP, step: 1 }), /"param" has 2 elements/);
});

Deno.test("adamw() with the clip factor on the engine equals clipping the gradient in place", async () => {
  const rng = new Rng(77);
  const n = 1000;
  const grads = [randomArray(rng, n, 2), randomArray(rng, 300, 0.5)]; // norm about 37
  for (const maxNorm of [1, 1e4, 0, Infinity]) {
    const run = async (onEngine: boolean) => {
      const be = createCpuBackend();
      const params = grads.map((g, i) => ({
        name: `w${i}`,
        param: be.tensor([g.length], randomArray(new Rng(i), g.length, 1)),
        grad: be.tensor([g.length], g),
      }));
      const clipper = new GradClipper(be, params);
      const opt = new AdamW(be, params, { lr: 1e-2, weightDecay: 0.01 });
      let norm: number;
      if (onEngine) {
        const { sums, scale } = clipper.queueScale(params, maxNorm);
        opt.step(undefined, scale);
        norm = GradClipper.norm(await be.read(sums), params.length);
      } else {
        norm = await clipper.clip(params, maxNorm);
        opt.step();
      }
      return { norm, params: await Promise.all(params.map((p) => be.read(p.param))) };
    };
    const a = await run(true), b = await run(false);
    assert.equal(a.norm, b.norm);
    a.params.forEach((p, i) => assert.deepEqual(p, b.params[i], `maxNorm ${maxNorm}, w${i}`));
  }
  // the factor itself: 37.x > 1 clips; 1e4 does not; 0 and Infinity never do
  const be = createCpuBackend();
  const sums = be.tensor([2], [900, 469]), scale = be.tensor([1]);
  be.gradClipScale(scale, sums, 2, 1);
  assert.equal((await be.read(scale))[0], Math.fround(1 / (37 + 1e-6)));
  for (const maxNorm of [1e4, 0, Infinity]) {
    be.gradClipScale(scale, sums, 2, maxNorm);
    assert.equal((await be.read(scale))[0], 1);
  }
  assert.throws(() => be.gradClipScale(scale, sums, 3, 1), /"sums" has 2 elements, needs 3/);
  assert.throws(() => be.gradClipScale(scale, sums, 2, NaN), /maxNorm is NaN/);
});

const TORCH_ADAMW = `
import json, sys, torch
d = json.load(open(sys.argv[1]))
p = torch.tensor(d["p"], dtype=torch.float32, requires_grad=True)
opt = torch.optim.AdamW([p], lr=d["lr"], betas=(d["beta1"], d["beta2"]), eps=d["eps"],
                        weight_decay=d["weightDecay"], foreach=False)
for g in d["grads"]:
    p.grad = torch.tensor(g, dtype=torch.float32)
    opt.step()
s = opt.state[p]
print(json.dumps({"p": p.tolist(), "m": s["exp_avg"].tolist(), "v": s["exp_avg_sq"].tolist()}))
`;

Deno.test({
  name: "adamw() tracks torch.optim.AdamW float32 over 5 steps",
  ignore: !hasTorch,
  async fn() {
    const rng = new Rng(51);
    const n = 2000, steps = 5;
    const hp = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };
    const p0 = f32(randomArray(rng, n));
    const grads = Array.from({ length: steps }, () => f32(randomArray(rng, n, 0.1)));
    const dir = await tempDir();
    try {
      const input = `${dir.path}/in.json`;
      const body = { ...hp, p: [...p0], grads: grads.map((g) => [...g]) };
      await Deno.writeTextFile(input, JSON.stringify(body));
      const torch = JSON.parse(await runPython(["-c", TORCH_ADAMW, input]));
      const p = p0.slice(), m = new Float32Array(n), v = new Float32Array(n);
      grads.forEach((g, i) => adamw(p, g, m, v, n, { ...hp, step: i + 1 }));
      // Float32 rounding in PyTorch's order: at most an ulp or two apart.
      assertClose(p, torch.p, 0, 3e-7, "param");
      assertClose(m, torch.m, 0, 3e-7, "exp_avg");
      assertClose(v, torch.v, 0, 3e-7, "exp_avg_sq");
    } finally {
      await dir.remove();
    }
  },
});
