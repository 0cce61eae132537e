import assert from "node:assert/strict";
import { symmetricEigen } from "../../eval/linalg.ts";
import { activationStatistics } from "../../eval/fid.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";
import { loadMetricsFixture } from "./_metrics_fixture.ts";

function randomSymmetric(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n); // (n, n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = rng.normal();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** max |A v_k - lambda_k v_k| and max |V V^T - I|. */
function residuals(a: Float64Array, n: number, values: Float64Array, vectors: Float64Array) {
  let eig = 0, orth = 0;
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j] * vectors[k * n + j];
      eig = Math.max(eig, Math.abs(s - values[k] * vectors[k * n + i]));
    }
    for (let l = 0; l < n; l++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += vectors[k * n + i] * vectors[l * n + i];
      orth = Math.max(orth, Math.abs(s - (k === l ? 1 : 0)));
    }
  }
  return { eig, orth };
}

Deno.test("symmetricEigen() satisfies A v = lambda v with orthonormal vectors", () => {
  const rng = new Rng(7);
  for (const n of [1, 2, 3, 7, 40, 97]) {
    const a = randomSymmetric(n, rng);
    const { values, vectors } = symmetricEigen(a, n, { vectors: true });
    const r = residuals(a, n, values, vectors!);
    assert.ok(r.eig < 1e-12 * n, `n=${n}: residual ${r.eig}`);
    assert.ok(r.orth < 1e-12 * n, `n=${n}: orthogonality ${r.orth}`);
    for (let i = 1; i < n; i++) assert.ok(values[i - 1] <= values[i], `n=${n}: not ascending`);
    // Values alone equal the values computed with vectors.
    assertClose(symmetricEigen(a, n).values, values, 1e-12, 1e-12, `n=${n} values`);
  }
});

Deno.test("symmetricEigen() handles diagonal, repeated and rank-one matrices", () => {
  const diag = new Float64Array([3, 0, 0, 0, -1, 0, 0, 0, 2]);
  assertClose(symmetricEigen(diag, 3).values, [-1, 2, 3], 0, 0, "diagonal");
  const n = 6;
  const ident = new Float64Array(n * n);
  for (let i = 0; i < n; i++) ident[i * n + i] = 4;
  const id = symmetricEigen(ident, n, { vectors: true });
  assertClose(id.values, new Array(n).fill(4), 1e-15, 0, "repeated");
  assert.ok(residuals(ident, n, id.values, id.vectors!).orth < 1e-14);
  // u u^T has eigenvalues 0 (n-1 times) and |u|^2.
  const u = [1, -2, 0.5, 3, 0, 1];
  const rank1 = new Float64Array(n * n).map((_, k) => u[Math.floor(k / n)] * u[k % n]);
  const r1 = symmetricEigen(rank1, n, { vectors: true });
  assertClose(r1.values, [0, 0, 0, 0, 0, 15.25], 1e-13, 1e-14, "rank one");
  assert.ok(residuals(rank1, n, r1.values, r1.vectors!).eig < 1e-13);
});

Deno.test("symmetricEigen() matches numpy eigvalsh on a 64x64 covariance", async () => {
  const f = await loadMetricsFixture();
  const { cov, dim } = activationStatistics(f.real64);
  const { values } = symmetricEigen(cov, dim);
  assertClose(values, f.covReal64Eigenvalues, 1e-12, 1e-9, "eigenvalues");
});

Deno.test("symmetricEigen() converges on a covariance of fewer samples than dimensions", () => {
  // 20 samples in 128 dimensions: 108 eigenvalues are 0, and their QL entries rounding noise of
  // the large ones, which a test against only the neighbouring diagonal never deflates.
  const rng = new Rng(1);
  const rows = 20, n = 128;
  const data = new Float32Array(rows * n).map((_, i) => rng.normal() * (1 + (i % n) / 10));
  const { cov } = activationStatistics({ data, rows, dim: n });
  const { values, vectors } = symmetricEigen(cov, n, { vectors: true });
  const top = values[n - 1];
  const r = residuals(cov, n, values, vectors!);
  assert.ok(r.eig < 1e-12 * top, `|A v - lambda v| = ${r.eig} against ${top}`);
  assert.ok(r.orth < 1e-12, `|V V^T - I| = ${r.orth}`);
  // rank 19 (the mean removed): every other eigenvalue is rounding noise
  for (let k = 0; k < n - 19; k++) assert.ok(Math.abs(values[k]) < 1e-12 * top, `value ${k}`);
  assert.ok(values[n - 19] > 1e-3 * top, "the 19 non-zero eigenvalues");
});

Deno.test("symmetricEigen() rejects a wrong size and non-finite entries", () => {
  assert.throws(() => symmetricEigen(new Float64Array(5), 2), RangeError);
  assert.throws(() => symmetricEigen(new Float64Array([1, NaN, NaN, 1]), 2), /is NaN/);
});
