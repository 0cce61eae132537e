/**
 * One post-norm transformer encoder layer, as PyTorch's `nn.TransformerEncoderLayer` with
 * `norm_first=False`, `activation="gelu"` (exact erf form), LayerNorm eps 1e-5, and no dropout
 * (MDM's dropout 0.1 is a training-time regulariser; fine-tuning here runs without it):
 *
 *   x1 = LN1(x + out_proj(MHA(in_proj(x))))
 *   y  = LN2(x1 + linear2(gelu(linear1(x1))))
 *
 * Dimension letters: B batch, S = T+1 sequence (condition token + frames), C channels, NH heads,
 * FF feed-forward width, N = B*S rows. Parameter gradients accumulate (+=); activation gradients
 * are overwritten.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { linearBackward, linearForward, type LinearLayer } from "./lora.ts";

/** PyTorch's LayerNorm default. */
export const LN_EPS = 1e-5;

/** A LayerNorm's affine parameters and their gradients (null when frozen). */
export interface NormParams {
  w: Tensor; // (C)
  b: Tensor; // (C)
  dw: Tensor | null;
  db: Tensor | null;
}

/** What the forward pass keeps for backward, sized for the planned maximum N. */
export interface LayerActivations {
  qkv: Tensor; // (N, 3C)
  att: Tensor; // (B, NH, S, S) softmax probabilities
  atty: Tensor; // (N, C) heads concatenated, before out_proj
  res1: Tensor; // (N, C) x + attention
  ln1: Tensor; // (N, C)
  mean1: Tensor; // (N)
  rstd1: Tensor; // (N)
  fch: Tensor; // (N, FF) linear1 output
  fchG: Tensor; // (N, FF) gelu(fch)
  res2: Tensor; // (N, C) ln1 + feed-forward
  mean2: Tensor; // (N)
  rstd2: Tensor; // (N)
}

/** Activation-gradient scratch shared by every layer, sized for the planned maximum N. */
export interface LayerScratch {
  dres2: Tensor; // (N, C)
  dfch: Tensor; // (N, FF) gradient of linear1's output (through the GELU)
  dln1: Tensor; // (N, C)
  dres1: Tensor; // (N, C)
  datty: Tensor; // (N, C)
  dqkv: Tensor; // (N, 3C)
  datt: Tensor; // (B, NH, S, S)
}

/** Parameters of one encoder layer. */
export interface EncoderLayerParams {
  inProj: LinearLayer; // C → 3C, rows [Q; K; V]
  outProj: LinearLayer; // C → C
  linear1: LinearLayer; // C → FF
  linear2: LinearLayer; // FF → C
  norm1: NormParams;
  norm2: NormParams;
}

/** Layer dimensions of one call. */
export interface LayerDims {
  B: number;
  S: number;
  C: number;
  NH: number;
  FF: number;
}

/** Allocates the activations for up to `maxB` sequences of `maxS` tokens. */
export function allocLayerActivations(
  be: Backend,
  maxB: number,
  maxS: number,
  C: number,
  NH: number,
  FF: number,
): LayerActivations {
  const N = maxB * maxS;
  return {
    qkv: be.tensor([N, 3 * C]),
    att: be.tensor([maxB, NH, maxS, maxS]),
    atty: be.tensor([N, C]),
    res1: be.tensor([N, C]),
    ln1: be.tensor([N, C]),
    mean1: be.tensor([N]),
    rstd1: be.tensor([N]),
    fch: be.tensor([N, FF]),
    fchG: be.tensor([N, FF]),
    res2: be.tensor([N, C]),
    mean2: be.tensor([N]),
    rstd2: be.tensor([N]),
  };
}

/** Allocates the backward scratch for up to `maxB` sequences of `maxS` tokens. */
export function allocLayerScratch(
  be: Backend,
  maxB: number,
  maxS: number,
  C: number,
  NH: number,
  FF: number,
): LayerScratch {
  const N = maxB * maxS;
  return {
    dres2: be.tensor([N, C]),
    dfch: be.tensor([N, FF]),
    dln1: be.tensor([N, C]),
    dres1: be.tensor([N, C]),
    datty: be.tensor([N, C]),
    dqkv: be.tensor([N, 3 * C]),
    datt: be.tensor([maxB, NH, maxS, maxS]),
  };
}

// ------------------------------------------------------------------------------------------------
// encoder layer: x (N, C) → y (N, C)

/** Forward; `keyMask` (B, S) with 0 for padded keys, or null. */
export function encoderLayerForward(
  be: Backend,
  p: EncoderLayerParams,
  a: LayerActivations,
  y: Tensor, // (N, C) output
  x: Tensor, // (N, C) input
  keyMask: Tensor | null, // (B, S)
  d: LayerDims,
  adapters: boolean,
): void {
  const { B, S, C, NH } = d;
  const N = B * S;
  linearForward(be, p.inProj, a.qkv, x, N, adapters); // (N, 3C)
  be.attentionForward(a.atty, a.att, a.qkv, keyMask, B, S, C, NH); // (N, C), (B, NH, S, S)
  linearForward(be, p.outProj, a.res1, a.atty, N, adapters, { residual: x }); // attention + x
  be.layernormForward(a.ln1, a.mean1, a.rstd1, a.res1, p.norm1.w, p.norm1.b, N, C, LN_EPS);
  linearForward(be, p.linear1, a.fch, a.ln1, N, adapters, { gelu: a.fchG }); // (N, FF) twice
  linearForward(be, p.linear2, a.res2, a.fchG, N, adapters, { residual: a.ln1 }); // ff + ln1
  be.layernormForward(y, a.mean2, a.rstd2, a.res2, p.norm2.w, p.norm2.b, N, C, LN_EPS);
}

/**
 * Backward: given dy, overwrites dx (skipped when null: nothing below needs it) and accumulates
 * every parameter gradient that exists.
 */
export function encoderLayerBackward(
  be: Backend,
  p: EncoderLayerParams,
  a: LayerActivations,
  s: LayerScratch,
  dx: Tensor | null, // (N, C)
  dy: Tensor, // (N, C)
  x: Tensor, // (N, C) the forward input
  d: LayerDims,
  adapters: boolean,
): void {
  const { B, S, C, NH } = d;
  const N = B * S;
  // y = LN2(res2)
  be.layernormBackward(
    s.dres2,
    p.norm2.dw,
    p.norm2.db,
    dy,
    a.res2,
    p.norm2.w,
    a.mean2,
    a.rstd2,
    N,
    C,
  );
  // res2 = ln1 + linear2(gelu(linear1(ln1))): dfch (N, FF) through the GELU, dln1 (N, C) with
  // the residual path
  linearBackward(be, p.linear2, s.dfch, s.dres2, a.fchG, N, adapters, { geluInput: a.fch });
  linearBackward(be, p.linear1, s.dln1, s.dfch, a.ln1, N, adapters, { residual: s.dres2 });
  // ln1 = LN1(res1)
  be.layernormBackward(
    s.dres1,
    p.norm1.dw,
    p.norm1.db,
    s.dln1,
    a.res1,
    p.norm1.w,
    a.mean1,
    a.rstd1,
    N,
    C,
  );
  // res1 = x + out_proj(attention(in_proj(x)))
  linearBackward(be, p.outProj, s.datty, s.dres1, a.atty, N, adapters); // (N, C)
  be.attentionBackward(s.dqkv, s.datt, s.datty, a.qkv, a.att, B, S, C, NH); // (N, 3C)
  // dx (N, C) with the residual path, when asked for
  linearBackward(
    be,
    p.inProj,
    dx,
    s.dqkv,
    x,
    N,
    adapters,
    dx === null ? {} : { residual: s.dres1 },
  );
}

/** Every tensor of an activation or scratch record (for freeing). */
export function tensorsOf(rec: LayerActivations | LayerScratch): Tensor[] {
  return Object.values(rec);
}
