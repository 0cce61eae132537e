/**
 * Activations, WGSL: exact (erf) GELU and SiLU, forward and backward, element-wise over n with a
 * grid-stride loop. CPU twin: kernels/activation/cpu.ts.
 */
import { gridStride, type Kernel, u32 } from "../webgpu/kernel.ts";

/**
 * erf in float32 (WGSL has none); float64 twin: `erf()` in kernels/activation/_erf.ts.
 * |x| < 0.5: Taylor series to x^11 (relative error < 2e-8, keeps small arguments exact in relative
 * terms); otherwise Abramowitz & Stegun 7.1.26, `1 - t (a1 + t (a2 + ...)) exp(-x^2)` with
 * `t = 1 / (1 + 0.3275911 |x|)`, absolute error 1.5e-7 (plus float32 rounding: < 5e-7 overall).
 */
export const WGSL_ERF = String.raw`
fn erf_f32(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.5) {
    let x2 = x * x;
    // 2/sqrt(pi) (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320)
    let s = 1.0 + x2 * (-1.0 / 3.0 + x2 * (1.0 / 10.0 + x2 * (-1.0 / 42.0 + x2 *
      (1.0 / 216.0 + x2 * (-1.0 / 1320.0)))));
    return 1.1283791670955126 * x * s;
  }
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 +
    t * 1.061405429))));
  let r = 1.0 - poly * exp(-ax * ax);
  return select(r, -r, x < 0.0);
}
`;

function elementwise(name: string, body: string, fns = ""): string {
  return fns + String.raw`
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    ${body}
  }
}
// ${name}
`;
}

/**
 * Exact GELU and its derivative as WGSL functions (after `WGSL_ERF`), shared by the element-wise
 * kernels and the GEMM epilogue (kernels/gemm/wgsl.ts): the same expressions, the same rounding.
 * d/dx [x Phi(x)] = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
 */
export const WGSL_GELU = WGSL_ERF + String.raw`
fn gelu_f32(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_f32(x * 0.70710678118654752));
}
fn gelu_grad_f32(x: f32) -> f32 {
  let cdf = 0.5 * (1.0 + erf_f32(x * 0.70710678118654752));
  let pdf = 0.3989422804014327 * exp(-0.5 * x * x);
  return cdf + x * pdf;
}
`;

const GELU_FORWARD = elementwise("gelu forward", "out[i] = gelu_f32(inp[i]);", WGSL_GELU);

const GELU_BACKWARD = elementwise(
  "gelu backward",
  "dinp[i] = dout[i] * gelu_grad_f32(inp[i]);",
  WGSL_GELU,
);

const SILU_FORWARD = elementwise(
  "silu forward",
  "let x = inp[i]; out[i] = x / (1.0 + exp(-x));",
);

// d/dx [x s(x)] = s (1 + x (1 - s)).
const SILU_BACKWARD = elementwise(
  "silu backward",
  "let x = inp[i]; let s = 1.0 / (1.0 + exp(-x)); dinp[i] = dout[i] * s * (1.0 + x * (1.0 - s));",
);

const ERF_DEBUG = elementwise("erf debug", "out[i] = erf_f32(inp[i]);", WGSL_ERF);

function unary(name: string, code: string, out: GPUBuffer, inp: GPUBuffer, n: number): Kernel {
  return {
    name,
    code,
    inputs: [{ name: "inp", buffer: inp }],
    outputs: [{ name: "out", buffer: out }],
    uniforms: [u32("n", n)],
    grid: gridStride(n),
  };
}

function backward(
  name: string,
  code: string,
  dinp: GPUBuffer,
  inp: GPUBuffer,
  dout: GPUBuffer,
  n: number,
): Kernel {
  return {
    name,
    code,
    inputs: [{ name: "inp", buffer: inp }, { name: "dout", buffer: dout }],
    outputs: [{ name: "dinp", buffer: dinp }],
    uniforms: [u32("n", n)],
    grid: gridStride(n),
  };
}

/** `out = gelu(inp)` over n (exact erf form). */
export function geluForwardKernel(out: GPUBuffer, inp: GPUBuffer, n: number): Kernel {
  return unary("gelu_forward", GELU_FORWARD, out, inp, n);
}

/** `dinp = dout * gelu'(inp)` over n. */
export function geluBackwardKernel(
  dinp: GPUBuffer,
  inp: GPUBuffer,
  dout: GPUBuffer,
  n: number,
): Kernel {
  return backward("gelu_backward", GELU_BACKWARD, dinp, inp, dout, n);
}

/** `out = inp * sigmoid(inp)` over n. */
export function siluForwardKernel(out: GPUBuffer, inp: GPUBuffer, n: number): Kernel {
  return unary("silu_forward", SILU_FORWARD, out, inp, n);
}

/** `dinp = dout * silu'(inp)` over n. */
export function siluBackwardKernel(
  dinp: GPUBuffer,
  inp: GPUBuffer,
  dout: GPUBuffer,
  n: number,
): Kernel {
  return backward("silu_backward", SILU_BACKWARD, dinp, inp, dout, n);
}

/** Debug: `out = erf_f32(inp)` over n, to check the WGSL erf against its float64 twin. */
export function erfDebugKernel(out: GPUBuffer, inp: GPUBuffer, n: number): Kernel {
  return unary("erf_debug", ERF_DEBUG, out, inp, n);
}
