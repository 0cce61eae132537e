import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import type { Backend, Tensor } from "../../kernels/backend.ts";
import type { Denoiser, DenoiserInput } from "../../diffusion/denoiser.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { ddpmPlan, flowPlan } from "../../diffusion/plan.ts";
import { freeRollout, rollout } from "../../diffusion/sampler.ts";
import { logProbFromSqDist } from "../../diffusion/transition.ts";
import { assertClose } from "../_util.ts";

/**
 * A stand-in denoiser whose x0 prediction is `target` for conditional rows plus `shift` times
 * the input (so that the latent matters), and `target - 1` for unconditional rows.
 */
class ToyDenoiser implements Denoiser {
  readonly nfeats = 3;
  readonly textDim = 2;
  calls = 0;
  constructor(readonly backend: Backend, readonly target: Tensor, readonly shift: number) {}
  predictX0(out: Tensor, input: DenoiserInput, B: number, T: number): void {
    const be = this.backend, n = T * this.nfeats;
    this.calls++;
    for (let b = 0; b < B; b++) {
      const row = be.tensor([T, this.nfeats]);
      be.copy(row, input.x, n, 0, b * n);
      const bias = be.tensor([T, this.nfeats]);
      be.fill(bias, input.condMask[b] === 1 ? 0 : -1);
      be.axpby(row, row, this.shift, this.target, 1, n);
      be.axpby(row, row, 1, bias, 1, n);
      be.copy(out, row, n, b * n, 0);
      be.free(row);
      be.free(bias);
    }
  }
}

const B = 2, T = 4, F = 3;
const lengths = Int32Array.from([4, 3]);

function setup(shift: number) {
  const be = createCpuBackend();
  const target = be.tensor([T, F], Array.from({ length: T * F }, (_, i) => Math.sin(i)));
  const den = new ToyDenoiser(be, target, shift);
  const text = be.tensor([B, 2], [1, 2, 3, 4]);
  return { be, den, text };
}

Deno.test("rollout() with DDPM lands exactly on a fixed x0 prediction at t = 0", async () => {
  const { be, den, text } = setup(0);
  const r = rollout(den, text, lengths, B, T, {
    plan: ddpmPlan(cosineTables(10)),
    guidance: 1,
    seed: 7,
    stream: 1,
    record: true,
  });
  const x0 = await be.read(r.x0);
  const target = await be.read(den.target);
  assertClose(x0.subarray(0, T * F), target, 0, 0, "sample 0");
  assert.equal(r.steps.length, 9); // t = 9..1; t = 0 is deterministic
  assert.equal(den.calls, 10);
  freeRollout(be, r);
});

Deno.test("rollout() is bit-identical for the same seed and differs for another stream", async () => {
  const run = async (stream: number) => {
    const { be, den, text } = setup(0.3);
    const r = rollout(den, text, lengths, B, T, {
      plan: ddpmPlan(cosineTables(8)),
      guidance: 2.5,
      seed: 11,
      stream,
      record: true,
    });
    const out = [await be.read(r.x0), ...await Promise.all(r.steps.map((s) => be.read(s.sqDist)))];
    freeRollout(be, r);
    return out;
  };
  const [a, b, c] = [await run(0), await run(0), await run(1)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], c[0]);
});

Deno.test("recorded steps give log-probs of their own transitions (padding excluded)", async () => {
  const { be, den, text } = setup(0.3);
  const plan = ddpmPlan(cosineTables(6));
  const r = rollout(den, text, lengths, B, T, {
    plan,
    guidance: 2.5,
    seed: 3,
    stream: 0,
    record: true,
  });
  for (const s of r.steps) {
    const x = await be.read(s.x), sample = await be.read(s.sample);
    const sq = await be.read(s.sqDist);
    // Recompute the mean on the host: x0hat = 2.5 cond + (1 - 2.5) uncond, uncond = cond - 1.
    const target = await be.read(den.target);
    const expected = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < lengths[b] * F; i++) {
        const cond = 0.3 * x[b * T * F + i] + target[i];
        const x0hat = 2.5 * cond + (1 - 2.5) * (cond - 1);
        const mean = s.step.coefX0 * x0hat + s.step.coefX * x[b * T * F + i];
        expected[b] += (sample[b * T * F + i] - mean) ** 2;
      }
    }
    assertClose(sq, expected, 1e-6, 1e-4, `sqDist at step ${s.index}`);
    const lp = logProbFromSqDist(sq, r.count, s.step);
    assert.ok(lp.every(Number.isFinite));
  }
  assert.deepEqual(Array.from(r.count), [12, 9]);
  freeRollout(be, r);
});

Deno.test("rollout() with the Flow ODE (noise 0) lands on a fixed x0 prediction", async () => {
  const { be, den, text } = setup(0);
  const r = rollout(den, text, lengths, B, T, {
    plan: flowPlan(cosineTables(50), 10, 0),
    guidance: 1,
    seed: 5,
    stream: 0,
    record: false,
  });
  assertClose(
    (await be.read(r.x0)).subarray(0, T * F),
    await be.read(den.target),
    1e-6,
    1e-5,
    "x0",
  );
  freeRollout(be, r);
});
