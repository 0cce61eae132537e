import assert from "node:assert/strict";
import { diversity, diversityOfPairs } from "../../eval/diversity.ts";
import { multimodality, multimodalityOfPairs } from "../../eval/multimodality.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";
import { loadMetricsFixture } from "./_metrics_fixture.ts";

Deno.test("diversityOfPairs() matches numpy on numpy's index draws", async () => {
  const f = await loadMetricsFixture();
  const v = diversityOfPairs(f.motion, f.diversityFirst, f.diversitySecond);
  assertClose([v], [f.diversity], 1e-12, 1e-6, "diversity");
});

Deno.test("diversity() is seeded and draws two sets of distinct indices", async () => {
  const f = await loadMetricsFixture();
  const a = diversity(f.motion, 30, new Rng(3, 1));
  assert.equal(diversity(f.motion, 30, new Rng(3, 1)), a);
  assert.notEqual(diversity(f.motion, 30, new Rng(4, 1)), a);
  // The same value as the pair mean over the draws it makes: two sets of 30 distinct indices.
  const rng = new Rng(3, 1);
  const draw = () => {
    const pool = Array.from({ length: f.motion.rows }, (_, i) => i);
    for (let i = 0; i < 30; i++) {
      const j = i + rng.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, 30);
  };
  const first = draw(), second = draw();
  assert.equal(new Set(first).size, 30);
  assert.equal(diversityOfPairs(f.motion, first, second), a);
  assert.throws(() => diversity(f.motion, 100, new Rng(0)), /more than 100 samples/);
});

Deno.test("multimodalityOfPairs() matches numpy on numpy's index draws", async () => {
  const f = await loadMetricsFixture();
  const v = multimodalityOfPairs(f.mm, f.mmFirst, f.mmSecond);
  assertClose([v], [f.multimodality], 1e-12, 1e-6, "multimodality");
});

Deno.test("multimodality() is seeded and needs more repeats than pairs", async () => {
  const f = await loadMetricsFixture();
  const a = multimodality(f.mm, 5, new Rng(9));
  assert.equal(multimodality(f.mm, 5, new Rng(9)), a);
  assert.ok(a > 0 && Number.isFinite(a));
  assert.throws(() => multimodality(f.mm, 12, new Rng(9)), /more than 12 repeats/);
  assert.throws(() => multimodalityOfPairs(f.mm, [0], [12]), /outside/);
});
