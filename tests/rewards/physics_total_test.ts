/** The total reward: weights, unused terms, non-finite flags. */
import assert from "node:assert/strict";
import { FLAG_PHY, FLAG_SEM, totalReward } from "../../rewards/total.ts";
import { assertClose } from "../_util.ts";

Deno.test("totalReward() weighs the terms and flags non-finite ones per sample", () => {
  const r = totalReward([0.5, NaN, 0.2, 1], [0.8, 0.9, Infinity, NaN], { betaS: 1, betaP: 0.1 });
  assertClose(r.total.subarray(0, 1), [0.58], 1e-7, 1e-6, "total");
  assert.deepEqual([...r.flags], [0, FLAG_SEM, FLAG_PHY, FLAG_PHY]);
  assert.ok(r.total.subarray(1).every(Number.isNaN));
  assert.equal(r.nonFiniteSem, 1);
  assert.equal(r.nonFinitePhy, 2);
});

Deno.test("totalReward() leaves out a term whose weight is 0", () => {
  const r = totalReward([0.25, 0.5], [NaN, NaN], { betaS: 2, betaP: 0 });
  assert.deepEqual([...r.total], [0.5, 1]);
  assert.equal(r.nonFinitePhy, 0);
  assert.deepEqual([...totalReward([0.25], null, { betaS: 1, betaP: 0 }).total], [0.25]);
  assert.throws(() => totalReward([0.25], null, { betaS: 1, betaP: 0.1 }), TypeError);
});
