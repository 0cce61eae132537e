/**
 * PyTorch layers expressed as ONNX nodes, reading their weights from a state dict: Linear,
 * Conv1d, LayerNorm and bi-directional GRU over padded sequences. Shared by the converters.
 * @module
 */
import { type StateDict, toFloat32 } from "../models/checkpoint/state_dict.ts";
import { type GraphBuilder } from "./graph.ts";

/** A state dict plus the name used in error messages ("text_encoder of finest.tar"). */
export class Weights {
  constructor(readonly sd: StateDict, readonly label: string) {}

  /**
   * The float32 values of `key`, checking its shape; `null` in `shape` accepts any size there.
   * Missing keys and wrong shapes are TypeErrors naming the key and the state dict.
   */
  get(key: string, shape: readonly (number | null)[]): { data: Float32Array; shape: number[] } {
    const t = this.sd.get(key);
    if (t === undefined) {
      throw new TypeError(`Cannot convert ${this.label}: missing key ${key}`);
    }
    const ok = t.shape.length === shape.length &&
      shape.every((d, i) => d === null || d === t.shape[i]);
    if (!ok) {
      const want = shape.map((d) => d ?? "*").join(", ");
      throw new TypeError(
        `Cannot convert ${this.label}: key ${key} has shape [${
          t.shape.join(", ")
        }], expected [${want}]`,
      );
    }
    return { data: toFloat32(t), shape: [...t.shape] };
  }

  /** Whether the state dict holds `key`. */
  has(key: string): boolean {
    return this.sd.has(key);
  }
}

/** Name prefix of initializers: "a.b.weight" → "a_b_weight" keeps names valid and readable. */
function initName(g: GraphBuilder, key: string): string {
  return g.fresh(key.replaceAll(".", "_"));
}

/** Sizes (in, out) of the Linear `prefix` ( `prefix.weight` is (out, in) ). */
export function linearSizes(w: Weights, prefix: string): [number, number] {
  const { shape } = w.get(`${prefix}.weight`, [null, null]);
  return [shape[1], shape[0]];
}

// ---------------------------------------------------------------------------------------------
// Linear: y = x W^T + b over the last axis; x (..., in) → (..., out)

/** Emits `x W^T + b` (weight stored pre-transposed so MatMul reads it row-major). */
export function linear(g: GraphBuilder, w: Weights, prefix: string, x: string): string {
  const weight = w.get(`${prefix}.weight`, [null, null]); // (out, in)
  const [out, inp] = weight.shape;
  const wt = new Float32Array(inp * out); // (in, out)
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inp; i++) wt[i * out + o] = weight.data[o * inp + i];
  }
  const y = g.op("MatMul", [x, g.initializer(initName(g, `${prefix}.weight_t`), wt, [inp, out])]);
  if (!w.has(`${prefix}.bias`)) return y;
  const b = w.get(`${prefix}.bias`, [out]);
  return g.op("Add", [y, g.initializer(initName(g, `${prefix}.bias`), b.data, [out])]);
}

// ---------------------------------------------------------------------------------------------
// Conv1d: x (B, C_in, T) → (B, C_out, floor((T + 2p - k) / s) + 1)

/** Emits a PyTorch Conv1d (ONNX Conv keeps PyTorch's (C_out, C_in, k) weight layout). */
export function conv1d(
  g: GraphBuilder,
  w: Weights,
  prefix: string,
  x: string,
  opts: { stride: number; padding: number },
): string {
  const weight = w.get(`${prefix}.weight`, [null, null, null]); // (C_out, C_in, k)
  const [cOut, , k] = weight.shape;
  const inputs = [x, g.initializer(initName(g, `${prefix}.weight`), weight.data, weight.shape)];
  if (w.has(`${prefix}.bias`)) {
    inputs.push(
      g.initializer(initName(g, `${prefix}.bias`), w.get(`${prefix}.bias`, [cOut]).data, [cOut]),
    );
  }
  return g.op("Conv", inputs, {
    kernel_shape: [k],
    strides: [opts.stride],
    pads: [opts.padding, opts.padding],
    dilations: [1],
    group: 1,
  });
}

// ---------------------------------------------------------------------------------------------
// LayerNorm over the last axis: (..., C) → (..., C)

/** Emits a PyTorch LayerNorm (elementwise affine) over the last axis. */
export function layerNorm(
  g: GraphBuilder,
  w: Weights,
  prefix: string,
  x: string,
  eps = 1e-5,
): string {
  const scale = w.get(`${prefix}.weight`, [null]);
  const c = scale.shape[0];
  const bias = w.get(`${prefix}.bias`, [c]);
  return g.op("LayerNormalization", [
    x,
    g.initializer(initName(g, `${prefix}.weight`), scale.data, [c]),
    g.initializer(initName(g, `${prefix}.bias`), bias.data, [c]),
  ], { axis: -1, epsilon: eps });
}

// ---------------------------------------------------------------------------------------------
// Bi-directional GRU over padded sequences:
// x (T, B, I) seq-first, lengths int32 (B), h0 (2, B, H) → final states (2, B, H)

/**
 * Emits a one-layer bi-directional PyTorch GRU (`prefix.weight_ih_l0`, `..._reverse`) run over
 * padded sequences with per-sample lengths, returning the final hidden states `h_n` (2, B, H)
 * (forward state after step len-1, backward state after step 0), exactly what PyTorch returns for
 * a `pack_padded_sequence` input.
 *
 * PyTorch stacks gates as [r, z, n]; ONNX as [z, r, h]: rows are reordered. PyTorch applies the
 * reset gate after the hidden projection (`n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`), which
 * is ONNX's `linear_before_reset=1`.
 */
export function biGru(
  g: GraphBuilder,
  w: Weights,
  prefix: string,
  x: string,
  lengths: string,
  h0: string,
): string {
  const hh = w.get(`${prefix}.weight_hh_l0`, [null, null]); // (3H, H)
  const hidden = hh.shape[1];
  if (hh.shape[0] !== 3 * hidden) {
    throw new TypeError(
      `Cannot convert ${w.label}: ${prefix}.weight_hh_l0 has shape [${hh.shape}], not [3H, H]`,
    );
  }
  const inputSize = w.get(`${prefix}.weight_ih_l0`, [3 * hidden, null]).shape[1];
  if (w.has(`${prefix}.weight_ih_l1`)) {
    throw new TypeError(`Cannot convert ${w.label}: ${prefix} has more than one layer`);
  }
  const H = hidden;
  const W = new Float32Array(2 * 3 * H * inputSize); // (2, 3H, I) gates [z, r, h]
  const R = new Float32Array(2 * 3 * H * H); // (2, 3H, H)
  const B = new Float32Array(2 * 6 * H); // (2, 6H): [Wb_zrh, Rb_zrh]
  // ONNX gate g ∈ {z, r, h} comes from PyTorch block ORDER[g] of [r, z, n].
  const ORDER = [1, 0, 2];
  ["", "_reverse"].forEach((suffix, dir) => {
    const wih = w.get(`${prefix}.weight_ih_l0${suffix}`, [3 * H, inputSize]).data;
    const whh = w.get(`${prefix}.weight_hh_l0${suffix}`, [3 * H, H]).data;
    const bih = w.get(`${prefix}.bias_ih_l0${suffix}`, [3 * H]).data;
    const bhh = w.get(`${prefix}.bias_hh_l0${suffix}`, [3 * H]).data;
    for (let gate = 0; gate < 3; gate++) {
      const src = ORDER[gate] * H;
      const dst = gate * H;
      W.set(wih.subarray(src * inputSize, (src + H) * inputSize), (dir * 3 * H + dst) * inputSize);
      R.set(whh.subarray(src * H, (src + H) * H), (dir * 3 * H + dst) * H);
      B.set(bih.subarray(src, src + H), dir * 6 * H + dst);
      B.set(bhh.subarray(src, src + H), dir * 6 * H + 3 * H + dst);
    }
  });
  const [, hN] = g.node(
    "GRU",
    [
      x,
      g.initializer(initName(g, `${prefix}.W_zrh`), W, [2, 3 * H, inputSize]),
      g.initializer(initName(g, `${prefix}.R_zrh`), R, [2, 3 * H, H]),
      g.initializer(initName(g, `${prefix}.B_zrh`), B, [2, 6 * H]),
      lengths,
      h0,
    ],
    ["", "gru_h?"],
    {
      hidden_size: H,
      direction: "bidirectional",
      linear_before_reset: 1,
    },
  );
  return hN;
}

/** The batch size of `x` as a 1-D int64 tensor `[B]` (axis 0 of its shape). */
export function batchDim(g: GraphBuilder, x: string): string {
  return g.op("Shape", [x], { start: 0, end: 1 });
}

/**
 * A learned initial state `prefix` of shape (2, 1, H) broadcast over the batch of `x` → (2, B, H),
 * like PyTorch's `hidden.repeat(1, B, 1)`.
 */
export function broadcastHidden(g: GraphBuilder, w: Weights, key: string, x: string): string {
  const h = w.get(key, [2, 1, null]);
  const init = g.initializer(initName(g, key), h.data, h.shape);
  const one = g.int64("one", [1]);
  const shape = g.op("Concat", [one, batchDim(g, x), one], { axis: 0 }); // [1, B, 1]
  return g.op("Expand", [init, shape]);
}
