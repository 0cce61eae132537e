import assert from "node:assert/strict";
import {
  cosineTables,
  respaceTables,
  roundHalfEven,
  spacedTimesteps,
} from "../../diffusion/schedule.ts";
import { ddpmPlan } from "../../diffusion/plan.ts";
import { logProbFromSqDist } from "../../diffusion/transition.ts";
import { assertClose } from "../_util.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../golden/diffusion/tables.json", import.meta.url)),
);
const TABLE_KEYS = [
  "betas",
  "alphasCumprod",
  "alphasCumprodPrev",
  "posteriorVariance",
  "posteriorLogVarianceClipped",
  "posteriorMeanCoef1",
  "posteriorMeanCoef2",
] as const;

Deno.test("cosineTables(50) matches the numpy float64 tables", () => {
  const t = cosineTables(50);
  for (const k of TABLE_KEYS) assertClose(t[k], golden.T50[k], 1e-15, 1e-12, k);
});

Deno.test("cosineTables(1000) matches numpy at every 37th step", () => {
  const t = cosineTables(1000);
  for (const k of TABLE_KEYS) {
    const every = Array.from({ length: Math.ceil(1000 / 37) }, (_, i) => t[k][i * 37]);
    assertClose(every, golden.T1000_every37[k], 1e-15, 1e-11, k);
  }
});

Deno.test("the cosine schedule ends with beta clipped at 0.999 and x0 weight 1 at t = 0", () => {
  const t = cosineTables(50);
  assert.equal(t.betas[49], 0.999);
  assertClose([t.posteriorMeanCoef1[0], t.posteriorMeanCoef2[0]], [1, 0], 1e-12, 0, "coef at t=0");
  const plan = ddpmPlan(t);
  assert.equal(plan.steps.at(-1)!.std, 0);
  assert.equal(plan.steps[0].modelT, 49);
});

Deno.test("spacedTimesteps() keeps the indices of the public respacing", () => {
  for (const [key, expected] of Object.entries(golden.spaced)) {
    const [size, count] = key.split(",").map(Number);
    assert.deepEqual(spacedTimesteps(size, count), expected, key);
  }
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.throws(() => spacedTimesteps(50, 60), /Cannot respace 50 diffusion steps to 60/);
});

Deno.test("respaceTables() gives the respaced betas and maps to the original indices", () => {
  const kept = spacedTimesteps(1000, 50);
  const { tables, timestepMap } = respaceTables(cosineTables(1000), kept);
  assertClose(tables.betas, golden.respaced_1000_50_betas, 1e-15, 1e-11, "betas");
  assert.deepEqual(Array.from(timestepMap), kept);
});

Deno.test("logProbFromSqDist() equals the mean of Normal.log_prob over valid elements", () => {
  const t = cosineTables(50);
  for (const c of golden.logprob_cases) {
    const sq = new Float32Array(2), count = [0, 0];
    for (let i = 0; i < 12; i++) {
      const b = Math.floor(i / 6);
      sq[b] += c.valid[i] * (c.x[i] - c.mean[i]) ** 2;
      count[b] += c.valid[i];
    }
    // float32 squared distances: 1e-6 relative is the float32 rounding of sq.
    const step = ddpmPlan(t).steps[49 - c.t];
    assertClose(logProbFromSqDist(sq, count, step), c.logp, 1e-6, 1e-6, `t=${c.t}`);
  }
  assert.throws(
    () => logProbFromSqDist(new Float32Array(1), [1], ddpmPlan(t).steps[49]),
    /deterministic/,
  );
});
