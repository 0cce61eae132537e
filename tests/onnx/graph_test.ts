import assert from "node:assert/strict";
import { GraphBuilder } from "../../onnx/graph.ts";
import { ProtoWriter } from "../../onnx/proto.ts";
import { createSession } from "../../onnx/session.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { assertClose } from "../_util.ts";

Deno.test("ProtoWriter encodes varints, negatives, floats and nested messages", () => {
  const inner = new ProtoWriter().varint(1, 150);
  const w = new ProtoWriter().message(3, inner).varint(2, -1).float(5, 1).string(4, "hi");
  assert.deepEqual(
    Array.from(w.finish()),
    [
      0x1a,
      3,
      0x08,
      0x96,
      0x01, // field 3 (len) { field 1 = 150 }
      0x10,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01, // field 2 = -1 (int64)
      0x2d,
      0x00,
      0x00,
      0x80,
      0x3f, // field 5 = 1.0f
      0x22,
      2,
      0x68,
      0x69, // field 4 = "hi"
    ],
  );
});

/** erf by its Maclaurin series: accurate to ~1e-13 for |x| < 3 (cancellation grows beyond). */
function erf(x: number): number {
  assert.ok(Math.abs(x) < 3, `erf series used outside |x| < 3: ${x}`);
  let sum = 0, term = x, n = 0;
  while (Math.abs(term) > 1e-17 * Math.max(1, Math.abs(sum))) {
    sum += term / (2 * n + 1);
    n++;
    term *= -x * x / n;
  }
  return 2 / Math.sqrt(Math.PI) * sum;
}

Deno.test("GraphBuilder MatMul + Add + Gelu(Erf) graph matches a hand computation in ORT WASM", async () => {
  const rng = new Rng(7);
  const [N, K, M] = [3, 4, 5];
  // Small values keep xW+b inside the range where the reference erf is exact.
  const x = Float32Array.from({ length: N * K }, () => 0.3 * rng.normal()); // (N, K)
  const w = Float32Array.from({ length: K * M }, () => 0.5 * rng.normal()); // (K, M)
  const b = Float32Array.from({ length: M }, () => rng.normal()); // (M)

  const g = new GraphBuilder("gelu_linear");
  g.input("x", "float32", ["N", K]);
  g.initializer("w", w, [K, M]);
  g.initializer("b", b, [M]);
  const h = g.op("Add", [g.op("MatMul", ["x", "w"]), "b"]);
  // gelu(h) = 0.5 h (1 + erf(h / sqrt 2))
  const e = g.op("Erf", [g.op("Div", [h, g.float32("sqrt2", [Math.SQRT2], [])])]);
  const one = g.float32("one", [1], []);
  const half = g.float32("half", [0.5], []);
  g.node("Mul", [g.op("Mul", [h, half]), g.op("Add", [e, one])], ["y"]);
  g.output("y", "float32", ["N", M]);

  const session = await createSession(g.toBytes());
  try {
    const { y } = await session.run({ x: { data: x, dims: [N, K] } });
    assert.deepEqual(y.dims, [N, M]);
    const expected = new Float64Array(N * M);
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) {
        let acc = b[m];
        for (let k = 0; k < K; k++) acc += x[n * K + k] * w[k * M + m];
        expected[n * M + m] = 0.5 * acc * (1 + erf(acc / Math.SQRT2));
      }
    }
    assertClose(y.data as Float32Array, expected, 1e-5, 1e-5, "gelu(xW+b)");
  } finally {
    await session.release();
  }
});

Deno.test("GraphBuilder rejects a duplicate name and a mis-sized initializer", () => {
  const g = new GraphBuilder("bad");
  g.input("x", "float32", [2]);
  assert.throws(() => g.initializer("x", new Float32Array(2), [2]), /name is taken/);
  assert.throws(() => g.initializer("w", new Float32Array(3), [2, 2]), /need 4 elements/);
  assert.throws(() => g.toBytes(), /declares no outputs/);
});

Deno.test("createSession() refuses to change the WASM thread count once set", async () => {
  const g = new GraphBuilder("id");
  g.input("x", "float32", [1]);
  g.node("Identity", ["x"], ["y"]);
  g.output("y", "float32", [1]);
  const s = await createSession(g.toBytes(), { numThreads: 1 });
  await s.release();
  await assert.rejects(() => createSession(g.toBytes(), { numThreads: 2 }), /already runs with 1/);
  await assert.rejects(
    () => createSession(g.toBytes(), { device: "cuda" as "wasm" }),
    /unknown device "cuda"/,
  );
});
