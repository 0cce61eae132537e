/**
 * PyTorch `nn.TransformerEncoderLayer` (post-norm, batch-first, eval mode) as ONNX nodes, and the
 * sinusoidal positional encoding of "Attention is all you need" computed inside the graph so that
 * any sequence length works.
 * @module
 */
import type { StateDict } from "../models/checkpoint/state_dict.ts";
import { type GraphBuilder } from "./graph.ts";
import { layerNorm, linear, Weights } from "./_layers.ts";

/** Sizes of one encoder layer read from its weights. */
export interface EncoderLayerSizes {
  dModel: number;
  ffSize: number;
}

/** Activations PyTorch's TransformerEncoderLayer accepts by name. */
export type Activation = "gelu" | "relu";

/** Reads d_model and the feed-forward size of layer `prefix`. */
export function encoderLayerSizes(w: Weights, prefix: string): EncoderLayerSizes {
  const inProj = w.get(`${prefix}.self_attn.in_proj_weight`, [null, null]); // (3d, d)
  const dModel = inProj.shape[1];
  if (inProj.shape[0] !== 3 * dModel) {
    throw new TypeError(
      `Cannot convert ${w.label}: ${prefix}.self_attn.in_proj_weight has shape ` +
        `[${inProj.shape.join(", ")}], expected [3d, d]`,
    );
  }
  const ffSize = w.get(`${prefix}.linear1.weight`, [null, dModel]).shape[0];
  return { dModel, ffSize };
}

/** Exact GELU, `0.5 x (1 + erf(x / √2))`, PyTorch's default `F.gelu`. */
function gelu(g: GraphBuilder, x: string): string {
  const e = g.op("Erf", [g.op("Div", [x, g.float32("sqrt2", [Math.SQRT2], [])])]);
  const half = g.op("Mul", [x, g.float32("half", [0.5], [])]);
  return g.op("Mul", [half, g.op("Add", [e, g.float32("one", [1], [])])]);
}

/** Splits `in_proj_*` (3d rows: q, k, v) into three Linear-shaped weight sets. */
function splitInProj(w: Weights, prefix: string, d: number): Weights {
  const weight = w.get(`${prefix}.in_proj_weight`, [3 * d, d]).data; // (3d, d)
  const bias = w.get(`${prefix}.in_proj_bias`, [3 * d]).data; // (3d)
  const sd: StateDict = new Map();
  ["q", "k", "v"].forEach((name, i) => {
    sd.set(`${name}.weight`, {
      dtype: "float32",
      shape: [d, d],
      data: weight.slice(i * d * d, (i + 1) * d * d),
    });
    sd.set(`${name}.bias`, { dtype: "float32", shape: [d], data: bias.slice(i * d, (i + 1) * d) });
  });
  return new Weights(sd, `${w.label} (${prefix})`);
}

// ---------------------------------------------------------------------------------------------
// Multi-head self-attention: x (B, S, d), maskBias (B, 1, 1, S) → (B, S, d)

function selfAttention(
  g: GraphBuilder,
  w: Weights,
  prefix: string,
  x: string,
  maskBias: string,
  heads: number,
  d: number,
): string {
  if (d % heads !== 0) {
    throw new RangeError(
      `Cannot convert ${w.label}: d_model ${d} is not divisible by ${heads} heads`,
    );
  }
  const dh = d / heads;
  const qkv = splitInProj(w, prefix, d);
  const split = g.int64("heads_shape", [0, 0, heads, dh]); // (B, S, H, dh)
  const toHeads = (name: string): string =>
    g.op("Transpose", [g.op("Reshape", [linear(g, qkv, name, x), split])], {
      perm: [0, 2, 1, 3],
    }); // (B, H, S, dh)
  // PyTorch scales q by 1/sqrt(dh) before the product.
  const q = g.op("Mul", [toHeads("q"), g.float32("scale", [1 / Math.sqrt(dh)], [])]);
  const kT = g.op("Transpose", [toHeads("k")], { perm: [0, 1, 3, 2] }); // (B, H, dh, S)
  const v = toHeads("v");
  const scores = g.op("Add", [g.op("MatMul", [q, kT]), maskBias]); // (B, H, S, S)
  const att = g.op("Softmax", [scores], { axis: -1 });
  const ctx = g.op("Transpose", [g.op("MatMul", [att, v])], { perm: [0, 2, 1, 3] }); // (B,S,H,dh)
  const merged = g.op("Reshape", [ctx, g.int64("merge_shape", [0, 0, d])]); // (B, S, d)
  return linear(g, w, `${prefix}.out_proj`, merged);
}

/**
 * One post-norm encoder layer (`norm_first=False`, dropout off):
 * `x = norm1(x + attn(x)); x = norm2(x + linear2(act(linear1(x))))`; x (B, S, d) → (B, S, d).
 * `maskBias` (B, 1, 1, S) is 0 for keys to attend to and a large negative number for padding.
 */
export function encoderLayer(
  g: GraphBuilder,
  w: Weights,
  prefix: string,
  x: string,
  maskBias: string,
  opts: { heads: number; activation: Activation },
): string {
  const { dModel } = encoderLayerSizes(w, prefix);
  const att = selfAttention(g, w, `${prefix}.self_attn`, x, maskBias, opts.heads, dModel);
  const h = layerNorm(g, w, `${prefix}.norm1`, g.op("Add", [x, att]));
  let ff = linear(g, w, `${prefix}.linear1`, h); // (B, S, ff)
  ff = opts.activation === "gelu" ? gelu(g, ff) : g.op("Relu", [ff]);
  ff = linear(g, w, `${prefix}.linear2`, ff); // (B, S, d)
  return layerNorm(g, w, `${prefix}.norm2`, g.op("Add", [h, ff]));
}

/**
 * Sinusoidal positions for the sequence axis (1) of x (B, S, d) → (S, d):
 * `pe[p, 2i] = sin(p·div_i)`, `pe[p, 2i+1] = cos(p·div_i)`, `div_i = exp(2i·(-ln 10000 / d))`,
 * with `div` rounded to float32 as PyTorch computes it.
 */
export function sinusoidalPositions(g: GraphBuilder, x: string, d: number): string {
  if (d % 2 !== 0) throw new RangeError(`Cannot build positional encoding: odd d_model ${d}`);
  const factor = Math.fround(-Math.log(10000) / d);
  const div = Array.from(
    { length: d / 2 },
    (_, i) => Math.fround(Math.exp(Math.fround(2 * i * factor))),
  );
  const s = g.op("Cast", [g.op("Shape", [x], { start: 1, end: 2 })], { to: 1 }); // float (1)
  const sScalar = g.op("Squeeze", [s, g.int64("axis0", [0])]); // float ()
  const pos = g.op("Range", [g.float32("zero", [0], []), sScalar, g.float32("step", [1], [])]); // (S)
  const arg = g.op("Mul", [
    g.op("Unsqueeze", [pos, g.int64("axis1", [1])]), // (S, 1)
    g.float32("div_term", div, [1, d / 2]),
  ]); // (S, d/2)
  const last = g.int64("axis2", [2]);
  const pairs = g.op("Concat", [
    g.op("Unsqueeze", [g.op("Sin", [arg]), last]),
    g.op("Unsqueeze", [g.op("Cos", [arg]), last]),
  ], { axis: 2 }); // (S, d/2, 2): interleaves sin (even dims) and cos (odd dims)
  return g.op("Reshape", [pairs, g.int64("pe_shape", [-1, d])]); // (S, d)
}
