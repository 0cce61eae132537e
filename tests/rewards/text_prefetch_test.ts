import assert from "node:assert/strict";
import { type TextMotionEncoder, withTextPrefetch } from "../../rewards/encoder.ts";

/** An encoder whose text embedding is the call's number (1, 2, ...) in every entry. */
function counting(): { enc: TextMotionEncoder; calls: string[][] } {
  const calls: string[][] = [];
  const enc: TextMotionEncoder = {
    name: "counting",
    dim: 1,
    encodeTexts: (texts) => {
      calls.push([...texts]);
      if (texts.includes("bad")) return Promise.reject(new Error("cannot embed bad"));
      return Promise.resolve(new Float32Array(texts.length).fill(calls.length));
    },
    encodeMotions: (_f, _l, N) => Promise.resolve(new Float32Array(N)),
  };
  return { enc, calls };
}

Deno.test("withTextPrefetch() hands a prefetched call's result to the same call, once", async () => {
  const { enc, calls } = counting();
  const p = withTextPrefetch(enc);
  p.prefetchTexts(["a", "b"]);
  p.prefetchTexts(["a", "b"]); // already waiting: not computed twice
  assert.deepEqual(calls, [["a", "b"]]);
  assert.deepEqual([...await p.encodeTexts(["a", "b"])], [1, 1]); // the prefetched result
  assert.deepEqual([...await p.encodeTexts(["a", "b"])], [2, 2]); // taken: computed again
  assert.deepEqual([...await p.encodeTexts(["b", "a"])], [3, 3]); // another list: its own call
  // A failed prefetch is reported by the call that takes it, not before.
  p.prefetchTexts(["bad"]);
  await new Promise((ok) => setTimeout(ok, 0));
  await assert.rejects(() => p.encodeTexts(["bad"]), /cannot embed bad/);
  // At most 16 calls wait; the oldest is dropped and computed again when asked for.
  for (let i = 0; i < 17; i++) p.prefetchTexts([`t${i}`]);
  const before = calls.length;
  await p.encodeTexts(["t0"]);
  assert.equal(calls.length, before + 1);
  await p.encodeTexts(["t16"]);
  assert.equal(calls.length, before + 1);
});
