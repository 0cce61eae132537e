import assert from "node:assert/strict";
import { asStateDict, loadTorchFile } from "../../models/checkpoint/torch_pt.ts";
import { type StateDict, toFloat32 } from "../../models/checkpoint/state_dict.ts";
import {
  convertT2mEvaluator,
  loadT2mEvaluator,
  motionEncoderToOnnx,
  movementEncoderToOnnx,
  textEncoderToOnnx,
} from "../../onnx/t2m_evaluator.ts";
import { createSession, type OnnxValue } from "../../onnx/session.ts";
import { assertClose } from "../_util.ts";

const GOLDEN = new URL("../golden/onnx/", import.meta.url).pathname;
const CHECKPOINT = `${GOLDEN}t2m_evaluator.tar`;

async function goldenIo(): Promise<StateDict> {
  const path = `${GOLDEN}t2m_evaluator_io.pt`;
  return asStateDict(await loadTorchFile(path), path);
}

function feed(io: StateDict, key: string): OnnxValue {
  const t = io.get(key)!;
  if (t.dtype === "int64") return { data: t.data as BigInt64Array, dims: t.shape };
  return { data: toFloat32(t), dims: t.shape };
}

async function runOnce(
  model: Uint8Array,
  feeds: Record<string, OnnxValue>,
): Promise<Record<string, OnnxValue>> {
  const session = await createSession(model);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

// Golden tolerance: float32 accumulation order differs between ORT and PyTorch.
const ATOL = 1e-5, RTOL = 1e-4;

Deno.test("movementEncoderToOnnx() matches PyTorch MovementConvEncoder", async () => {
  const w = await loadT2mEvaluator(CHECKPOINT);
  const io = await goldenIo();
  const motion = feed(io, "motion"); // (B, T, 263)
  const [B, T, C] = motion.dims;
  // The standalone encoder takes the features without the 4 foot contacts.
  const body = new Float32Array(B * T * (C - 4));
  for (let r = 0; r < B * T; r++) {
    body.set(motion.data.subarray(r * C, r * C + C - 4) as Float32Array, r * (C - 4));
  }
  const { movements } = await runOnce(movementEncoderToOnnx(w.movementEncoder), {
    motion: { data: body, dims: [B, T, C - 4] },
  });
  const expected = feed(io, "movements");
  assert.deepEqual(movements.dims, expected.dims);
  assertClose(
    movements.data as Float32Array,
    expected.data as Float32Array,
    ATOL,
    RTOL,
    "movements",
  );
});

Deno.test("motionEncoderToOnnx() matches the packed PyTorch bi-GRU on varied lengths", async () => {
  const w = await loadT2mEvaluator(CHECKPOINT);
  const io = await goldenIo();
  const lengths = (io.get("motion_lengths")!.data as BigInt64Array).map((l) => l / 4n);
  const { embedding } = await runOnce(motionEncoderToOnnx(w.motionEncoder), {
    movements: feed(io, "movements"),
    lengths: { data: lengths, dims: [lengths.length] },
  });
  const expected = feed(io, "motion_embedding");
  assert.deepEqual(embedding.dims, expected.dims);
  assertClose(embedding.data as Float32Array, expected.data as Float32Array, ATOL, RTOL, "motion");
});

Deno.test("convertT2mEvaluator() motion and text graphs match PyTorch", async () => {
  const onnx = convertT2mEvaluator(await loadT2mEvaluator(CHECKPOINT));
  const io = await goldenIo();
  const motion = await runOnce(onnx.motion, {
    motion: feed(io, "motion"),
    lengths: feed(io, "motion_lengths"),
  });
  assertClose(
    motion.embedding.data as Float32Array,
    feed(io, "motion_embedding").data as Float32Array,
    ATOL,
    RTOL,
    "motion embedding",
  );
  const text = await runOnce(onnx.text, {
    word_embs: feed(io, "word_embs"),
    pos_onehot: feed(io, "pos_onehot"),
    lengths: feed(io, "text_lengths"),
  });
  const expected = feed(io, "text_embedding");
  assert.deepEqual(text.embedding.dims, expected.dims);
  assertClose(
    text.embedding.data as Float32Array,
    expected.data as Float32Array,
    ATOL,
    RTOL,
    "text",
  );
});

Deno.test("convertT2mEvaluator() results do not depend on the batch order", async () => {
  // ONNX's GRU takes lengths in any order, unlike pack_padded_sequence: reverse the batch.
  const { text } = convertT2mEvaluator(await loadT2mEvaluator(CHECKPOINT));
  const io = await goldenIo();
  const reverse = (v: OnnxValue): OnnxValue => {
    const [B] = v.dims;
    const row = v.data.length / B;
    // Reverse the row order: permute indices, then gather (works for every array type).
    const src = Array.from({ length: v.data.length }, (_, i) => {
      const b = Math.floor(i / row);
      return (B - 1 - b) * row + (i % row);
    });
    const data = v.data instanceof BigInt64Array
      ? BigInt64Array.from(src, (j) => (v.data as BigInt64Array)[j])
      : Float32Array.from(src, (j) => Number(v.data[j]));
    return { data, dims: v.dims };
  };
  const r = await runOnce(text, {
    word_embs: reverse(feed(io, "word_embs")),
    pos_onehot: reverse(feed(io, "pos_onehot")),
    lengths: reverse(feed(io, "text_lengths")),
  });
  const expected = reverse(feed(io, "text_embedding"));
  assertClose(r.embedding.data as Float32Array, expected.data as Float32Array, ATOL, RTOL, "text");
});

Deno.test("textEncoderToOnnx() names the missing key of a broken state dict", async () => {
  const w = await loadT2mEvaluator(CHECKPOINT);
  const broken = new Map(w.textEncoder);
  broken.delete("gru.bias_hh_l0_reverse");
  assert.throws(
    () => textEncoderToOnnx(broken, "x.tar"),
    /text_encoder of "x\.tar": missing key gru\.bias_hh_l0_reverse/,
  );
});

/** A state dict with the given shapes, filled with small deterministic values. */
function synthetic(shapes: Record<string, number[]>): StateDict {
  const sd: StateDict = new Map();
  let k = 0;
  for (const [key, shape] of Object.entries(shapes)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    k++;
    // Integer arithmetic: 15M values of Math.sin would dominate the test's run time.
    for (let i = 0; i < data.length; i++) data[i] = 0.004 * (((i * 7919 + k * 31) % 17) - 8);
    sd.set(key, { dtype: "float32", shape, data });
  }
  return sd;
}

function gruShapes(input: number, hidden: number): Record<string, number[]> {
  const out: Record<string, number[]> = { hidden: [2, 1, hidden] };
  for (const s of ["", "_reverse"]) {
    out[`gru.weight_ih_l0${s}`] = [3 * hidden, input];
    out[`gru.weight_hh_l0${s}`] = [3 * hidden, hidden];
    out[`gru.bias_ih_l0${s}`] = [3 * hidden];
    out[`gru.bias_hh_l0${s}`] = [3 * hidden];
  }
  return out;
}

function headShapes(hidden: number, out: number): Record<string, number[]> {
  return {
    "output_net.0.weight": [hidden, 2 * hidden],
    "output_net.0.bias": [hidden],
    "output_net.1.weight": [hidden],
    "output_net.1.bias": [hidden],
    "output_net.3.weight": [out, hidden],
    "output_net.3.bias": [out],
  };
}

Deno.test("convertT2mEvaluator() reads the real evaluator sizes from the weight shapes", async () => {
  // finest.tar sizes: MovementConvEncoder(259, 512, 512), MotionEncoderBiGRUCo(512, 1024, 512),
  // TextEncoderBiGRUCo(300, 15, 512, 512).
  const onnx = convertT2mEvaluator({
    movementEncoder: synthetic({
      "main.0.weight": [512, 259, 4],
      "main.0.bias": [512],
      "main.3.weight": [512, 512, 4],
      "main.3.bias": [512],
      "out_net.weight": [512, 512],
      "out_net.bias": [512],
    }),
    motionEncoder: synthetic({
      "input_emb.weight": [1024, 512],
      "input_emb.bias": [1024],
      ...gruShapes(1024, 1024),
      ...headShapes(1024, 512),
    }),
    textEncoder: synthetic({
      "pos_emb.weight": [300, 15],
      "pos_emb.bias": [300],
      "input_emb.weight": [512, 300],
      "input_emb.bias": [512],
      ...gruShapes(512, 512),
      ...headShapes(512, 512),
    }),
    source: "synthetic",
  });
  const [B, T, L] = [2, 196, 22];
  const motion = await runOnce(onnx.motion, {
    motion: { data: new Float32Array(B * T * 263).fill(0.5), dims: [B, T, 263] },
    lengths: { data: new BigInt64Array([196n, 40n]), dims: [B] },
  });
  assert.deepEqual(motion.embedding.dims, [B, 512]);
  assert.ok(motion.embedding.data.every((v) => Number.isFinite(Number(v))));
  const text = await runOnce(onnx.text, {
    word_embs: { data: new Float32Array(B * L * 300).fill(0.1), dims: [B, L, 300] },
    pos_onehot: { data: new Float32Array(B * L * 15).fill(0), dims: [B, L, 15] },
    lengths: { data: new BigInt64Array([22n, 5n]), dims: [B] },
  });
  assert.deepEqual(text.embedding.dims, [B, 512]);
  // Different lengths of the same constant input must give different embeddings.
  const e = text.embedding.data as Float32Array;
  assert.notDeepEqual(Array.from(e.subarray(0, 512)), Array.from(e.subarray(512)));
});
