import assert from "node:assert/strict";
import {
  cosine,
  DEFAULT_MATCHING,
  denseReward,
  mdmMatchingScore,
  mdmRPrecisionScore,
  normaliseDistance,
  segmentRanges,
  tmrCosineScore,
  tmrMatchingScore,
  tmrScorer,
} from "../../rewards/semantic.ts";
import { assertClose } from "../_util.ts";

const t = [1, 0, 0], m = [0.6, 0.8, 0]; // cos = 0.6, |t - m| = sqrt(0.16 + 0.64) = sqrt(0.8)

Deno.test("tmrCosineScore() is cos / 2 + 0.5", () => {
  assertClose([tmrCosineScore(t, m)], [0.8], 1e-15, 0, "score");
  assertClose([tmrCosineScore(t, [-1, 0, 0])], [0], 1e-15, 0, "opposite");
  assert.equal(cosine([0, 0, 0], t), 0);
});

Deno.test("tmrMatchingScore() applies each similarity and normalisation", () => {
  const o = DEFAULT_MATCHING;
  // cosine distance 0.4: linear 1 - 0.4/10, exponential exp(-0.4/2), sigmoid 2/(1+exp(0.2)).
  assertClose([tmrMatchingScore(t, m, o)], [0.96], 1e-15, 0, "linear");
  assertClose(
    [tmrMatchingScore(t, m, { ...o, normalization: "exponential" })],
    [Math.exp(-0.2)],
    1e-15,
    0,
    "exponential",
  );
  assertClose(
    [tmrMatchingScore(t, m, { ...o, normalization: "sigmoid" })],
    [2 / (1 + Math.exp(0.2))],
    1e-15,
    0,
    "sigmoid",
  );
  const d = Math.sqrt(0.8);
  assertClose(
    [tmrMatchingScore(t, m, { ...o, similarity: "euclidean", maxDistance: 2 })],
    [1 - d / 2],
    1e-15,
    0,
    "euclidean linear",
  );
  assert.equal(normaliseDistance(25, o), 0); // clipped at 0
  assert.equal(normaliseDistance(0, { ...o, normalization: "sigmoid" }), 1);
  assert.throws(() => tmrScorer("nope" as "cosine"), /Unknown TMR --reward_type "nope"/);
});

Deno.test("mdm rewards: matching maps distance 10 to 0, r_precision counts top-k hits", () => {
  assertClose([mdmMatchingScore([0, 0], [3, 4])], [0.5], 1e-15, 0, "d = 5");
  assert.equal(mdmMatchingScore([0, 0], [30, 40]), 0);
  const motion = [0, 0];
  const text = [1, 0]; // d = 1
  assert.equal(mdmRPrecisionScore(text, motion, [[5, 0], [6, 0]]), 1); // rank 1
  assert.equal(mdmRPrecisionScore(text, motion, [[0.5, 0], [6, 0]]), 2 / 3); // rank 2
  assert.equal(mdmRPrecisionScore(text, motion, [[0.5, 0], [0.2, 0]]), 1 / 3); // rank 3
  assert.equal(mdmRPrecisionScore(text, motion, [[0.5, 0], [0.2, 0], [0.1, 0]]), 0); // rank 4
  assert.equal(mdmRPrecisionScore(text, motion, [[0, 1]]), 1); // a tie counts as a hit
});

Deno.test("denseReward() subtracts alpha times the mean off-diagonal score", () => {
  const s = [[0.9, 0.2, 0.1], [0.3, 0.8, 0.1], [0.2, 0.2, 0.7]];
  // diag mean 0.8; off-diagonal means per row 0.15, 0.2, 0.2 -> mean 0.18333
  assertClose([denseReward(s, 0)], [0.8], 1e-15, 0, "alpha 0");
  assertClose([denseReward(s, 0.5)], [0.8 - 0.5 * 0.55 / 3], 1e-15, 0, "alpha 0.5");
  // A correctly ordered composite scores above the same segments shuffled.
  const shuffled = [s[1], s[2], s[0]];
  assert.ok(denseReward(s, 0.5) > denseReward(shuffled, 0.5));
  assert.equal(denseReward([[0.4]], 0.5), 0.4);
  assert.throws(() => denseReward([[1, 2], [3]], 0.5), /row 1 has 1 scores/);
});

Deno.test("segmentRanges() rescales durations to the motion and covers every frame", () => {
  assert.deepEqual(segmentRanges([40, 40, 80], 80), [[0, 20], [20, 40], [40, 80]]);
  assert.deepEqual(segmentRanges([1, 1, 1], 3), [[0, 1], [1, 2], [2, 3]]);
  const r = segmentRanges([100, 1, 1], 10); // tiny segments still get a frame
  assert.deepEqual(r.map(([a, b]) => b - a >= 1), [true, true, true]);
  assert.equal(r.at(-1)![1], 10);
});
