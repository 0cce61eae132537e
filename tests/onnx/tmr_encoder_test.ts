import assert from "node:assert/strict";
import { asStateDict, loadStateDictFile, loadTorchFile } from "../../models/checkpoint/torch_pt.ts";
import { type StateDict, toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { createSession, type OnnxValue } from "../../onnx/session.ts";
import { tmrEncoderToOnnx } from "../../onnx/tmr_encoder.ts";
import { assertClose } from "../_util.ts";

const GOLDEN = new URL("../golden/onnx/", import.meta.url).pathname;

async function golden(): Promise<{ sd: StateDict; io: StateDict }> {
  const ioPath = `${GOLDEN}tmr_encoder_io.pt`;
  return {
    sd: await loadStateDictFile(`${GOLDEN}tmr_encoder.pt`),
    io: asStateDict(await loadTorchFile(ioPath), ioPath),
  };
}

async function run(model: Uint8Array, x: OnnxValue, lengths: OnnxValue) {
  const s = await createSession(model);
  try {
    return await s.run({ x, lengths });
  } finally {
    await s.release();
  }
}

Deno.test("tmrEncoderToOnnx() matches PyTorch ACTORStyleEncoder mu and logvar", async () => {
  const { sd, io } = await golden();
  const x = io.get("x")!;
  const lengths = io.get("lengths")!;
  const out = await run(
    tmrEncoderToOnnx(sd),
    { data: toFloat32(x), dims: x.shape },
    { data: lengths.data as BigInt64Array, dims: lengths.shape },
  );
  for (const name of ["mu", "logvar"]) {
    const expected = io.get(name)!;
    assert.deepEqual(out[name].dims, expected.shape);
    assertClose(out[name].data as Float32Array, toFloat32(expected), 1e-5, 1e-4, name);
  }
});

Deno.test("tmrEncoderToOnnx() ignores the padding rows", async () => {
  const { sd, io } = await golden();
  const x = io.get("x")!;
  const [B, T, F] = x.shape;
  const lengths = io.get("lengths")!.data as BigInt64Array;
  // Overwrite every padding row with large values: mu must not move.
  const noisy = toFloat32(x).slice();
  for (let b = 0; b < B; b++) {
    for (let t = Number(lengths[b]); t < T; t++) {
      noisy.fill(1e3, (b * T + t) * F, (b * T + t + 1) * F);
    }
  }
  const out = await run(tmrEncoderToOnnx(sd), { data: noisy, dims: x.shape }, {
    data: lengths,
    dims: [B],
  });
  assertClose(out.mu.data as Float32Array, toFloat32(io.get("mu")!), 1e-5, 1e-4, "mu");
});

Deno.test("tmrEncoderToOnnx() rejects a state dict without encoder layers", async () => {
  const { sd } = await golden();
  const broken = new Map([...sd].filter(([k]) => !k.startsWith("seqTransEncoder.")));
  assert.throws(
    () => tmrEncoderToOnnx(broken, { source: "m.pt" }),
    /"m\.pt": missing key seqTransEncoder\.layers\.0/,
  );
});

Deno.test("tmrEncoderToOnnx() converts TMR's real sizes (263 → 256, 6 layers, ff 1024)", async () => {
  const d = 256, ff = 1024, feats = 263;
  const shapes: Record<string, number[]> = {
    "projection.weight": [d, feats],
    "projection.bias": [d],
    tokens: [2, d],
  };
  for (let l = 0; l < 6; l++) {
    const p = `seqTransEncoder.layers.${l}`;
    Object.assign(shapes, {
      [`${p}.self_attn.in_proj_weight`]: [3 * d, d],
      [`${p}.self_attn.in_proj_bias`]: [3 * d],
      [`${p}.self_attn.out_proj.weight`]: [d, d],
      [`${p}.self_attn.out_proj.bias`]: [d],
      [`${p}.linear1.weight`]: [ff, d],
      [`${p}.linear1.bias`]: [ff],
      [`${p}.linear2.weight`]: [d, ff],
      [`${p}.linear2.bias`]: [d],
      [`${p}.norm1.weight`]: [d],
      [`${p}.norm1.bias`]: [d],
      [`${p}.norm2.weight`]: [d],
      [`${p}.norm2.bias`]: [d],
    });
  }
  const sd: StateDict = new Map();
  let k = 0;
  for (const [key, shape] of Object.entries(shapes)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    k++;
    for (let i = 0; i < data.length; i++) data[i] = 0.01 * (((i * 7919 + k * 31) % 13) - 6);
    sd.set(key, { dtype: "float32", shape, data });
  }
  const [B, T] = [2, 196];
  const out = await run(
    tmrEncoderToOnnx(sd),
    { data: new Float32Array(B * T * feats).fill(0.3), dims: [B, T, feats] },
    { data: new BigInt64Array([196n, 40n]), dims: [B] },
  );
  assert.deepEqual(out.mu.dims, [B, d]);
  assert.deepEqual(out.logvar.dims, [B, d]);
  assert.ok((out.mu.data as Float32Array).every(Number.isFinite));
});
