import assert from "node:assert/strict";
import { activationStatistics, fid, frechetDistance } from "../../eval/fid.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";
import { loadMetricsFixture } from "./_metrics_fixture.ts";

Deno.test("fid() matches numpy + scipy.linalg.sqrtm", async () => {
  const f = await loadMetricsFixture();
  assertClose([fid(f.text, f.motion)], [f.fid16], 1e-9, 1e-4, "D=16");
  assertClose([fid(f.real64, f.gen64)], [f.fid64], 1e-9, 1e-4, "D=64");
  // Fewer samples than dimensions: both covariances singular, tiny eigenvalues clamped.
  assertClose([fid(f.fewReal64, f.fewGen64)], [f.fid64Singular], 1e-9, 1e-4, "singular");
});

Deno.test("fid() of a set with itself is about 0", async () => {
  const f = await loadMetricsFixture();
  const self = fid(f.real64, f.real64);
  assert.ok(Math.abs(self) < 1e-9, `FID(x, x) = ${self}`);
  const stats = activationStatistics(f.real64);
  assert.ok(Math.abs(frechetDistance(stats, stats)) < 1e-9);
});

Deno.test("fid() is symmetric and grows with a mean shift", async () => {
  const f = await loadMetricsFixture();
  assertClose([fid(f.gen64, f.real64)], [fid(f.real64, f.gen64)], 1e-9, 1e-9, "symmetry");
  // A shift c in every coordinate adds exactly D c^2 to the mean term.
  const shifted = { ...f.real64, data: f.real64.data.map((v) => v + 0.5) };
  assertClose([fid(f.real64, shifted)], [64 * 0.25], 1e-8, 0, "shift");
  assert.throws(() => activationStatistics({ data: new Float32Array(4), rows: 1, dim: 4 }), /2/);
});

Deno.test("fid() at D = 512 runs in seconds (timing printed)", () => {
  const rng = new Rng(5);
  const n = 1024, d = 512;
  const real = new Float32Array(n * d).map(() => rng.normal()); // (N, D)
  const gen = new Float32Array(n * d).map(() => 1.1 * rng.normal() + 0.1); // (N, D)
  const t0 = performance.now();
  const value = fid({ data: real, rows: n, dim: d }, { data: gen, rows: n, dim: d });
  const ms = performance.now() - t0;
  console.log(`fid() D=${d} N=${n}: ${(ms / 1000).toFixed(2)} s, value ${value.toFixed(4)}`);
  assert.ok(Number.isFinite(value) && value > 0, `FID ${value}`);
});
