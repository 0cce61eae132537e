/** TMR's InfoNCE loss and motion normalisation against PyTorch and finite differences. */
import assert from "node:assert/strict";
import { Rng } from "../../kernels/rng/philox.ts";
import { tmrInfoNce } from "../../models/tmr/contrastive.ts";
import { normalizeTmrMotion } from "../../models/tmr/normalize.ts";
import { assertClose } from "../_util.ts";
import { readTmrFixture, tf32, TMR_B as B, TMR_SENT_DIM } from "./_tmr_fixture.ts";

const C = 32;

Deno.test("tmrInfoNce() matches PyTorch's loss and gradients with and without filter", async () => {
  const fx = await readTmrFixture();
  const x = tf32(fx, "text.mu"), y = tf32(fx, "motion.mu");
  const r = tmrInfoNce(x, y, B, C, { sentEmb: tf32(fx, "sent_emb"), sentDim: TMR_SENT_DIM });
  // Rows 0 and 2 of the sentence embeddings are near-duplicates: (0, 2) and (2, 0) are removed.
  assert.equal(r.filtered, 2);
  // The fixture's mu's are float32 roundings of float64 values: errors of ~1e-7 relative,
  // amplified by 1 / temperature = 10.
  assertClose([r.loss], tf32(fx, "loss.contrastive"), 1e-5, 1e-5, "loss");
  assertClose(r.dx, tf32(fx, "loss.dmu_text"), 1e-5, 1e-4, "d mu text");
  assertClose(r.dy, tf32(fx, "loss.dmu_motion"), 1e-5, 1e-4, "d mu motion");
  const plain = tmrInfoNce(x, y, B, C);
  assert.equal(plain.filtered, 0);
  assertClose([plain.loss], tf32(fx, "loss.contrastive_nofilter"), 1e-5, 1e-5, "unfiltered loss");
  assert.ok(Math.abs(plain.loss - r.loss) > 0.01, "filtering changes the loss");
});

Deno.test("tmrInfoNce() gradients match central finite differences", () => {
  const rng = new Rng(7, 1);
  const n = 5, c = 6, E = 4;
  const x = Float64Array.from({ length: n * c }, () => rng.normal());
  const y = Float64Array.from({ length: n * c }, () => rng.normal());
  const e = Float64Array.from({ length: n * E }, () => rng.normal());
  for (let k = 0; k < E; k++) e[3 * E + k] = e[1 * E + k]; // rows 1 and 3 identical: filtered
  const opts = { temperature: 0.3, threshold: 0.8, sentEmb: e, sentDim: E };
  const r = tmrInfoNce(x, y, n, c, opts);
  assert.ok(r.filtered >= 2);
  const h = 1e-6;
  for (const [v, grad, label] of [[x, r.dx, "dx"], [y, r.dy, "dy"]] as const) {
    const fd = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + h;
      const up = tmrInfoNce(x, y, n, c, opts).loss;
      v[i] = keep - h;
      const down = tmrInfoNce(x, y, n, c, opts).loss;
      v[i] = keep;
      fd[i] = (up - down) / (2 * h);
    }
    assertClose(grad, fd, 1e-7, 1e-5, label);
  }
});

Deno.test("tmrInfoNce() rejects thresholds that would mask the positives", () => {
  const x = new Float32Array(8).fill(1);
  assert.throws(
    () => tmrInfoNce(x, x, 2, 4, { threshold: 0.3, sentEmb: x, sentDim: 4 }),
    /threshold must be in \[0.5, 1\] or 0 to disable, got 0.3/,
  );
  // threshold 0 disables the filter even with identical sentence embeddings
  assert.equal(tmrInfoNce(x, x, 2, 4, { threshold: 0, sentEmb: x, sentDim: 4 }).filtered, 0);
  assert.throws(() => tmrInfoNce(x, x, 2, 4, { sentEmb: x }), /sentEmb needs sentDim/);
});

Deno.test("normalizeTmrMotion() reproduces TMR's float32 normalisation bit for bit", async () => {
  const fx = await readTmrFixture();
  const out = normalizeTmrMotion(
    tf32(fx, "motion.raw"),
    tf32(fx, "motion.mean"),
    tf32(fx, "motion.std"),
  );
  assertClose(out, tf32(fx, "motion.x"), 0, 0, "normalised motion");
  assert.throws(
    () => normalizeTmrMotion(new Float32Array(5), new Float32Array(2), new Float32Array(2)),
    /5 values are not whole rows of 2 features/,
  );
});
