import assert from "node:assert/strict";
import {
  cont6dToMatrix,
  cont6dToQuat,
  matrixToQuat,
  qbetween,
  qinv,
  qmul,
  qnormalize,
  qrot,
  quatToCont6d,
  quatToMatrix,
} from "../../datasets/motion/quaternion.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";

const N = 64;

function randomQuats(rng: Rng, n: number): Float64Array {
  const q = new Float64Array(4 * n);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  return qnormalize(q, q) as Float64Array;
}

function randomVecs(rng: Rng, n: number): Float64Array {
  const v = new Float64Array(3 * n);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  return v;
}

function matVec(m: ArrayLike<number>, v: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) out[3 * i + r] += m[9 * i + 3 * r + c] * v[3 * i + c];
    }
  }
  return out;
}

function positiveW(q: Float64Array): Float64Array {
  for (let i = 0; i < q.length; i += 4) {
    if (q[i] < 0) { for (let c = 0; c < 4; c++) q[i + c] = -q[i + c]; }
  }
  return q;
}

Deno.test("qrot() agrees with quatToMatrix() and qmul() composes rotations", () => {
  const rng = new Rng(1);
  const q = randomQuats(rng, N), r = randomQuats(rng, N), v = randomVecs(rng, N);
  const f64 = (n: number) => new Float64Array(n);
  assertClose(qrot(q, v, f64(3 * N)), matVec(quatToMatrix(q, f64(9 * N)), v, N), 1e-12, 0, "qrot");
  const qr = qmul(q, r, f64(4 * N));
  assertClose(
    qrot(qr, v, f64(3 * N)),
    qrot(q, qrot(r, v, f64(3 * N)), f64(3 * N)),
    1e-12,
    0,
    "qmul",
  );
  const back = qrot(qinv(q, f64(4 * N)), qrot(q, v, f64(3 * N)), f64(3 * N));
  assertClose(back, v, 1e-12, 0, "qinv");
  // A yaw (cos a, 0, sin a, 0) turns +Z towards +X by 2a.
  assertClose(
    qrot([Math.cos(0.3), 0, Math.sin(0.3), 0], [0, 0, 1]),
    [
      Math.sin(0.6),
      0,
      Math.cos(0.6),
    ],
    1e-7,
    0,
    "yaw",
  );
});

Deno.test("qbetween() takes v0 onto v1, also for opposite vectors", () => {
  const rng = new Rng(2);
  const a = randomVecs(rng, N), b = randomVecs(rng, N);
  const q = qbetween(a, b, new Float64Array(4 * N));
  const turned = qrot(q, a, new Float64Array(3 * N));
  for (let i = 0; i < N; i++) {
    const na = Math.hypot(a[3 * i], a[3 * i + 1], a[3 * i + 2]);
    const nb = Math.hypot(b[3 * i], b[3 * i + 1], b[3 * i + 2]);
    for (let c = 0; c < 3; c++) {
      assertClose([turned[3 * i + c] / na], [b[3 * i + c] / nb], 1e-12, 0, `item ${i}`);
    }
  }
  // Opposite horizontal vectors: a half turn about Y, not NaN.
  const h = qbetween([0, 0, -1], [0, 0, 1]);
  assertClose(h, [0, 0, 1, 0], 1e-7, 0, "half turn about Y");
  const v = qbetween([0, 1, 0], [0, -1, 0]);
  assertClose(qrot(v, [0, 1, 0]), [0, -1, 0], 1e-7, 0, "vertical half turn");
  assert.ok(Number.isFinite(v[0]));
});

Deno.test("quatToCont6d() holds the first two matrix columns and round-trips", () => {
  const rng = new Rng(3);
  const q = positiveW(randomQuats(rng, N));
  const m = quatToMatrix(q, new Float64Array(9 * N));
  const six = quatToCont6d(q, new Float64Array(6 * N));
  for (let i = 0; i < N; i++) {
    const col = [0, 3, 6, 1, 4, 7].map((k) => m[9 * i + k]);
    assertClose(six.subarray(6 * i, 6 * i + 6), col, 1e-15, 0, `6D of item ${i}`);
  }
  assertClose(cont6dToMatrix(six, new Float64Array(9 * N)), m, 1e-12, 0, "cont6dToMatrix");
  assertClose(matrixToQuat(m, new Float64Array(4 * N)), q, 1e-12, 0, "matrixToQuat");
  assertClose(cont6dToQuat(six, new Float64Array(4 * N)), q, 1e-12, 0, "cont6dToQuat");
});

Deno.test("qmul() rejects mismatched inputs", () => {
  assert.throws(() => qmul(new Float32Array(8), new Float32Array(4)), RangeError);
  assert.throws(() => qrot(new Float32Array(5), new Float32Array(3)), /not a multiple of 4/);
});
