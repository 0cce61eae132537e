import assert from "node:assert/strict";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import {
  addPeriodic,
  axpby,
  copy2d,
  gatherRows,
  rowSumSqDiff,
  scaleRows,
} from "../../kernels/elementwise/cpu.ts";

const F = (...x: number[]) => new Float64Array(x);

Deno.test("axpby(), addPeriodic() and scaleRows() compute by hand", () => {
  const out = new Float64Array(3);
  axpby(out, F(1, 2, 3), 2, F(10, 20, 30), -1, 3);
  assert.deepEqual([...out], [-8, -16, -24]);
  const p = new Float64Array(6);
  addPeriodic(p, F(0, 0, 0, 1, 1, 1), F(5, 6, 7), 6, 3);
  assert.deepEqual([...p], [5, 6, 7, 6, 7, 8]);
  const s = new Float64Array(6);
  scaleRows(s, F(1, 2, 3, 4, 5, 6), F(0, -2), 2, 3);
  assert.deepEqual([...s], [0, 0, 0, -8, -10, -12]);
});

Deno.test("rowSumSqDiff() sums weighted squared differences per row", () => {
  const out = new Float64Array(2);
  const a = F(1, 2, 3, 4), b = F(0, 0, 1, 1);
  rowSumSqDiff(out, a, b, null, 2, 2);
  assert.deepEqual([...out], [1 + 4, 4 + 9]);
  rowSumSqDiff(out, a, b, F(1, 0, 0.5, 2), 2, 2);
  assert.deepEqual([...out], [1, 2 + 18]);
});

Deno.test("gatherRows() and copy2d() move rows and strided blocks", () => {
  const out = new Float64Array(6);
  gatherRows(out, F(0, 1, 10, 11, 20, 21), new Int32Array([2, 0, 2]), 2);
  assert.deepEqual([...out], [20, 21, 0, 1, 20, 21]);
  // Put a (2, 2) block into column 1 of a (2, 3) destination (concat along channels).
  const dst = new Float64Array(6);
  copy2d(dst, F(1, 2, 3, 4), 2, 2, 3, 1, 2, 0);
  assert.deepEqual([...dst], [0, 1, 2, 0, 3, 4]);
});

Deno.test("cpu backend element-wise ops match the loops, in place where allowed", async () => {
  const be = createCpuBackend();
  const a = be.tensor([4], [1, 2, 3, 4]), b = be.tensor([4], [4, 3, 2, 1]);
  be.axpby(a, a, 1, b, 1, 4); // residual add in place
  assert.deepEqual([...await be.read(a)], [5, 5, 5, 5]);
  const row = be.tensor([2], [1, -1]);
  be.addPeriodic(a, a, row, 4, 2);
  assert.deepEqual([...await be.read(a)], [6, 4, 6, 4]);
  const s = be.tensor([2], [0, 0.5]);
  be.scaleRows(a, a, s, 2, 2);
  assert.deepEqual([...await be.read(a)], [0, 0, 3, 2]);
  const r = be.tensor([2]);
  be.rowSumSqDiff(r, a, b, null, 2, 2);
  assert.deepEqual([...await be.read(r)], [16 + 9, 1 + 1]);
  const g = be.tensor([2, 2]);
  be.gatherRows(g, b, new Int32Array([1, 1]), 2);
  assert.deepEqual([...await be.read(g)], [2, 1, 2, 1]);
  assert.throws(
    () => be.gatherRows(g, b, new Int32Array([0, 2]), 2),
    (e: unknown) =>
      e instanceof RangeError && /"index\[1\]" is 2, table has 2 rows/.test(e.message),
  );
  // Frames 1..2 of a (3, 2) sequence into a (2, 2) tensor (drop the condition token).
  const seq = be.tensor([3, 2], [9, 9, 1, 2, 3, 4]);
  be.copy2d(g, seq, 2, 2, 2, 0, 2, 2);
  assert.deepEqual([...await be.read(g)], [1, 2, 3, 4]);
  assert.throws(() => be.copy2d(g, seq, 2, 2, 2, 0, 2, 3), /"src" has 6 elements, needs 7/);
});
