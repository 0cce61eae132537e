/** Group advantages: hand values, batch std, non-finite rewards, the clamp, bad group sizes. */
import assert from "node:assert/strict";
import { groupAdvantages } from "../../train/advantages.ts";
import { assertClose } from "../_util.ts";

Deno.test("groupAdvantages() normalises each group by its population std", () => {
  const { advantages, diagnostics } = groupAdvantages([1, 2, 3, 4, 5, 5, 5, 5], { groupSize: 4 });
  const std = Math.sqrt(1.25); // population std of 1..4
  const want = [-1.5, -0.5, 0.5, 1.5].map((d) => d / (std + 1e-4));
  // float32 output: atol 1e-7, rtol 1e-6.
  assertClose(advantages, [...want, 0, 0, 0, 0], 1e-7, 1e-6, "advantages");
  assert.equal(diagnostics.groups, 2);
  assert.equal(diagnostics.zeroStdGroups, 1);
  assert.equal(diagnostics.nonFinite, 0);
  assertClose(
    [diagnostics.meanReward, diagnostics.minReward, diagnostics.maxReward],
    [3.75, 1, 5],
    0,
    0,
    "reward stats",
  );
});

Deno.test("groupAdvantages() with the batch std centres per group and scales by one std", () => {
  const r = [1, 3, 10, 14];
  const { advantages, diagnostics } = groupAdvantages(r, { groupSize: 2, stdScope: "batch" });
  const mean = 7, std = Math.sqrt(((1 - mean) ** 2 + 16 + 9 + 49) / 4);
  assertClose(advantages, [-1, 1, -2, 2].map((d) => d / (std + 1e-4)), 1e-7, 1e-6, "batch");
  assertClose([diagnostics.stdReward], [std], 1e-12, 1e-12, "stdReward");
  assert.equal(diagnostics.zeroStdGroups, 0);
});

Deno.test("groupAdvantages() gives non-finite rewards 0 and leaves them out of the stats", () => {
  const { advantages, diagnostics } = groupAdvantages([1, NaN, 3, Infinity, NaN, NaN, NaN, NaN], {
    groupSize: 4,
  });
  assertClose(advantages.subarray(0, 4), [-1 / 1.0001, 0, 1 / 1.0001, 0], 1e-7, 1e-6, "group 0");
  assert.equal(diagnostics.nonFinite, 6);
  assert.deepEqual([...advantages.subarray(4)], [0, 0, 0, 0]);
  assert.equal(diagnostics.zeroStdGroups, 1, "the group without finite rewards has no spread");
  assert.equal(diagnostics.meanReward, 2);
  assert.ok(advantages.every(Number.isFinite));
});

Deno.test("groupAdvantages() clamps to ±clip and counts the clamped values", () => {
  // One outlier in a group of 64: its advantage is sqrt(63) ~ 7.9 before the clamp.
  const r = new Array(64).fill(0);
  r[5] = 1;
  const plain = groupAdvantages(r, { groupSize: 64 });
  assert.ok(plain.advantages[5] > 7.9 - 1e-3);
  const { advantages, diagnostics } = groupAdvantages(r, { groupSize: 64, clip: 5 });
  assert.equal(advantages[5], 5);
  assert.equal(advantages[0], plain.advantages[0]);
  assert.equal(diagnostics.clipped, 1);
});

Deno.test("groupAdvantages() rejects a batch that does not split into groups", () => {
  assert.throws(() => groupAdvantages([1, 2, 3], { groupSize: 2 }), RangeError);
  assert.throws(() => groupAdvantages([1, 2], { groupSize: 0 }), RangeError);
});
