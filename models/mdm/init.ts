/**
 * Fresh MDM weights with PyTorch's default initialisers, drawn from the project's Philox
 * generator (so the values differ from torch's, the distributions do not):
 * - Linear: weight and bias U(-1/sqrt(in), 1/sqrt(in)) (`kaiming_uniform_(a=sqrt(5))`).
 * - Attention `in_proj_weight`: Xavier uniform U(-sqrt(6/(C+3C)), +); `in_proj_bias` and
 *   `out_proj.bias` zero (nn.MultiheadAttention._reset_parameters).
 * - LayerNorm: weight 1, bias 0.
 * PyTorch's nn.TransformerEncoder deep-copies ONE initialised layer, so its layers start equal;
 * here every layer gets its own draw (a harmless difference for training from scratch).
 * @module
 */
import { Rng } from "../../kernels/rng/philox.ts";
import { float32Tensor, type StateDict } from "../checkpoint/state_dict.ts";
import { type MdmConfig, mdmParamShapes } from "./config.ts";

/** Philox stream of MDM weight initialisation ("MDMi" in ASCII). */
export const MDM_INIT_STREAM = 0x4d444d69;

/** A state dict of fresh weights for `cfg` (parameters only, no buffers). */
export function initMdmStateDict(cfg: MdmConfig, seed: number): StateDict {
  const rng = new Rng(seed, MDM_INIT_STREAM);
  const shapes = mdmParamShapes(cfg);
  const sd: StateDict = new Map();
  const uniform = (n: number, bound: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (2 * rng.uniform() - 1) * bound;
    return a;
  };
  // Bias bounds come from the matching weight's fan-in.
  const fanIn = (biasKey: string) => shapes.get(biasKey.replace(/bias$/, "weight"))![1];
  for (const [key, shape] of shapes) {
    const n = shape.reduce((p, d) => p * d, 1);
    let data: Float32Array;
    if (/norm[12]\.weight$/.test(key)) data = new Float32Array(n).fill(1);
    else if (/norm[12]\.bias$/.test(key)) data = new Float32Array(n);
    else if (key.endsWith("in_proj_weight")) {
      data = uniform(n, Math.sqrt(6 / (shape[0] + shape[1])));
    } else if (key.endsWith("in_proj_bias") || key.endsWith("out_proj.bias")) {
      data = new Float32Array(n);
    } else if (key.endsWith("weight")) data = uniform(n, 1 / Math.sqrt(shape[1]));
    else data = uniform(n, 1 / Math.sqrt(fanIn(key)));
    sd.set(key, float32Tensor(data, shape));
  }
  return sd;
}
