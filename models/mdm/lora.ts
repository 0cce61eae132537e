/**
 * Linear layers with optional LoRA adapters (Hu et al., "LoRA: Low-Rank Adaptation of Large
 * Language Models", 2021): `y = x W^T + b + s (x A^T) B^T`, `s = alpha / r`, A (r, C), B (OC, r).
 * B starts at zero, so a fresh adapter leaves the model unchanged; A starts as PyTorch's
 * `kaiming_uniform_(a=sqrt(5))` would draw it (the peft default), U(-1/sqrt(C), 1/sqrt(C)), from
 * the project's Philox generator instead of torch's.
 *
 * Dimension letters: N rows (B*(T+1)), C input features, OC output features, r rank.
 * Parameter gradients accumulate (+=); activation gradients are overwritten.
 * @module
 */
import {
  applyBackwardExtras,
  applyForwardExtras,
  type Backend,
  checkExtras,
  type LinearBackwardExtras,
  type LinearForwardExtras,
  type Tensor,
} from "../../kernels/backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";

/** LoRA hyper-parameters. */
export interface LoraOptions {
  /** Rank r of every adapter. */
  rank: number;
  /** Scale numerator: the update is `alpha / r * B A`. */
  alpha: number;
  /** Seed of the generator that draws every A (stream {@linkcode LORA_STREAM}). */
  seed: number;
}

/** Philox stream of LoRA initialisation draws ("LoRA" in ASCII). */
export const LORA_STREAM = 0x4c6f5241;

/** The linears of each encoder layer that get adapters, by state-dict name inside the layer. */
export const LORA_TARGETS = [
  "self_attn.in_proj",
  "self_attn.out_proj",
  "linear1",
  "linear2",
] as const;

/** One adapter on a linear layer; `u` keeps `x A^T` from the forward pass for backward. */
export interface LoraAdapter {
  rank: number;
  scale: number;
  a: Tensor; // (r, C)
  b: Tensor; // (OC, r)
  da: Tensor | null; // (r, C)
  db: Tensor | null; // (OC, r)
  u: Tensor; // (N, r) saved activation
  du: Tensor; // (N, r) scratch
}

/** A linear layer of the model, with its state-dict keys and optional adapter. */
export interface LinearLayer {
  weightKey: string;
  biasKey: string;
  /** State-dict prefix of the adapter (`<prefix>.lora_A.weight`, `<prefix>.lora_B.weight`). */
  loraPrefix: string;
  C: number;
  OC: number;
  w: Tensor; // (OC, C)
  b: Tensor; // (OC)
  dw: Tensor | null; // (OC, C), null when frozen
  db: Tensor | null; // (OC)
  lora: LoraAdapter | null;
}

/** Draws A (r, C) ~ U(-1/sqrt(C), 1/sqrt(C)) from `rng`, row-major. */
export function loraInitA(rng: Rng, rank: number, C: number): Float32Array {
  const a = new Float32Array(rank * C);
  const bound = 1 / Math.sqrt(C);
  for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * bound;
  return a;
}

// ------------------------------------------------------------------------------------------------
// linear (+ LoRA): out (N, OC) = inp (N, C) W^T + b [+ s (inp A^T) B^T]

/**
 * Forward; `adapters` false runs the base layer alone (the reference model). `extras` (a
 * residual added to `out`, a GELU of `out` into another tensor) are applied after the adapter's
 * term, with the rounding of the separate calls; in the product's own pass when no adapter runs.
 */
export function linearForward(
  be: Backend,
  lin: LinearLayer,
  out: Tensor, // (N, OC)
  inp: Tensor, // (N, C)
  N: number,
  adapters: boolean,
  extras: LinearForwardExtras = {},
): void {
  const ad = adapters ? lin.lora : null;
  if (ad === null) {
    be.linearForward(out, inp, lin.w, lin.b, N, lin.C, lin.OC, extras);
    return;
  }
  // the extras wait for the adapter's term: refused, when they must be, before anything is written
  checkExtras("linearForward", out, {
    residual: extras.residual ?? null,
    gelu: extras.gelu ?? null,
  });
  be.linearForward(out, inp, lin.w, lin.b, N, lin.C, lin.OC);
  be.linearForward(ad.u, inp, ad.a, null, N, lin.C, ad.rank); // u (N, r) = inp A^T
  // out (N, OC) += s * u (N, r) @ B^T, B stored (OC, r)
  be.gemm(out, ad.u, ad.b, N, lin.OC, ad.rank, { transB: true, alpha: ad.scale, beta: 1 });
  applyForwardExtras(be, out, extras, N * lin.OC);
}

/**
 * Backward: overwrites `dinp` (skipped when null), accumulates into `lin.dw`, `lin.db` and the
 * adapter's `da`, `db` where they exist. Needs the `u` saved by the matching forward. `extras`
 * (the gradient through a GELU before the layer, a residual added to `dinp`) act on `dinp` after
 * the adapter's term, as the forward's do; they need `dinp`.
 */
export function linearBackward(
  be: Backend,
  lin: LinearLayer,
  dinp: Tensor | null, // (N, C)
  dout: Tensor, // (N, OC)
  inp: Tensor, // (N, C)
  N: number,
  adapters: boolean,
  extras: LinearBackwardExtras = {},
): void {
  const { C, OC } = lin;
  const ad = adapters ? lin.lora : null;
  // refused before anything is written, also when no product runs to check them
  checkExtras("linearBackward", dinp, {
    residual: extras.residual ?? null,
    geluInput: extras.geluInput ?? null,
  });
  if (dinp !== null || lin.dw !== null || lin.db !== null) {
    be.linearBackward(dinp, lin.dw, lin.db, dout, inp, lin.w, N, C, OC, ad === null ? extras : {});
  }
  if (ad === null) return;
  const r = ad.rank;
  // du (N, r) = s * dout (N, OC) @ B (OC, r)
  be.gemm(ad.du, dout, ad.b, N, r, OC, { alpha: ad.scale });
  // dB (OC, r) += s * dout^T (OC, N) @ u (N, r)
  if (ad.db !== null) {
    be.gemm(ad.db, dout, ad.u, OC, r, N, { transA: true, alpha: ad.scale, beta: 1 });
  }
  // dA (r, C) += du^T (r, N) @ inp (N, C)
  if (ad.da !== null) be.gemm(ad.da, ad.du, inp, r, C, N, { transA: true, beta: 1 });
  if (dinp === null) return;
  // dinp (N, C) += du (N, r) @ A (r, C)
  be.gemm(dinp, ad.du, ad.a, N, C, r, { beta: 1 });
  applyBackwardExtras(be, dinp, extras, N * C);
}
