/**
 * Raw motions through a TMR motion encoder: checks, TMR normalisation
 * (`(x - mean) / (std + 1e-12)`, normalize.ts), zero padding and the encoder's mu, in chunks.
 * Shared by the mini encoders and the official TMR pair.
 * @module
 */
import type { Tensor } from "../../kernels/backend.ts";
import { checkMotionBatch } from "../motion_batch.ts";
import type { TmrEncoder } from "./encoder.ts";
import { normalizeTmrMotion } from "./normalize.ts";

/** Rows encoded per forward pass (bounds activation memory). */
const CHUNK = 32;

/**
 * Mu (N, D) of N raw motions `features` (N, T, F) through `motion`, normalised by `mean`/`std`
 * (F); frame t of motion n counts when t < lengths[n]. Frames beyond the lengths are never read
 * (the encoder input is zero there and masked), so their contents cannot change the result.
 */
export async function encodeTmrMotions(
  motion: TmrEncoder,
  mean: Float32Array,
  std: Float32Array,
  features: Float32Array,
  lengths: ArrayLike<number>,
  N: number,
  T: number,
): Promise<Float32Array> {
  const be = motion.backend, F = motion.config.nfeats, D = motion.config.latentDim;
  checkMotionBatch(features, lengths, N, T, F);
  const out = new Float32Array(N * D); // (N, D)
  for (let at = 0; at < N; at += CHUNK) {
    const n = Math.min(CHUNK, N - at);
    const lens = Int32Array.from({ length: n }, (_, i) => lengths[at + i]); // (n)
    const Tc = Math.max(1, ...lens);
    const x = new Float32Array(n * Tc * F); // (n, Tc, F), zero after each length
    for (let i = 0; i < n; i++) {
      const src = features.subarray((at + i) * T * F, ((at + i) * T + lens[i]) * F);
      x.set(normalizeTmrMotion(src, mean, std), i * Tc * F);
    }
    const xt: Tensor = be.tensor([n, Tc, F], x);
    try {
      const mu = await be.read(motion.forward(xt, lens, n, Tc).mu);
      out.set(mu.subarray(0, n * D), at * D);
    } finally {
      be.free(xt);
    }
  }
  return out;
}
