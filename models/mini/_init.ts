/**
 * Initial weights of a TMR-architecture encoder with PyTorch's default initialisers, drawn from
 * Philox so that a seed fixes them: tokens ~ N(0, 1) (TMR's `torch.randn`), every Linear
 * U(±1/sqrt(fan_in)) for weight and bias (`kaiming_uniform_(a=sqrt(5))`), the attention input
 * projection Xavier-uniform with zero bias and a zero output-projection bias (`MultiheadAttention`),
 * LayerNorm weight 1 and bias 0.
 * @module
 */
import type { Rng } from "../../kernels/rng/philox.ts";
import { float32Tensor, type StateDict } from "../checkpoint/state_dict.ts";
import { type TmrConfig, tmrParamShapes } from "../tmr/config.ts";

/** A fresh state dict for `cfg`, every value drawn from `rng` in state-dict order. */
export function initTmrStateDict(cfg: TmrConfig, rng: Rng): StateDict {
  const sd: StateDict = new Map();
  const uniform = (n: number, bound: number): Float32Array => {
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (2 * rng.uniform() - 1) * bound;
    return v;
  };
  const shapes = tmrParamShapes(cfg);
  // Linear biases use the fan-in of their weight.
  const fanIn = (biasKey: string): number => {
    const w = shapes.get(biasKey.replace(/bias$/, "weight"))!;
    return w[1];
  };
  for (const [key, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    let v: Float32Array;
    if (key === "tokens") {
      v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = rng.normal();
    } else if (key.endsWith("in_proj_weight")) {
      v = uniform(n, Math.sqrt(6 / (shape[0] + shape[1])));
    } else if (key.endsWith("in_proj_bias") || key.endsWith("out_proj.bias")) {
      v = new Float32Array(n);
    } else if (/norm\d\.weight$/.test(key)) {
      v = new Float32Array(n).fill(1);
    } else if (/norm\d\.bias$/.test(key)) {
      v = new Float32Array(n);
    } else if (key.endsWith(".weight")) {
      v = uniform(n, 1 / Math.sqrt(shape[1]));
    } else {
      v = uniform(n, 1 / Math.sqrt(fanIn(key)));
    }
    sd.set(key, float32Tensor(v, [...shape]));
  }
  return sd;
}
