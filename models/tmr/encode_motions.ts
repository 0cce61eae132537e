/**
 * Raw motions through a TMR motion encoder: checks, TMR normalisation
 * (`(x - mean) / (std + 1e-12)`, normalize.ts), zero padding and the encoder's mu, in chunks.
 * Shared by the mini encoders (engine and ONNX) and the official TMR pair.
 * @module
 */
import { checkMotionBatch } from "../motion_batch.ts";
import { TmrEncoder } from "./encoder.ts";
import { normalizeTmrMotion } from "./normalize.ts";

/** Rows encoded per forward pass (bounds activation memory). */
const CHUNK = 32;

/** A TMR encoder (text or motion, engine or ONNX) as a chunk loop sees it: mu (n, D) of x (n, L, F). */
export interface TmrMu {
  readonly nfeats: number;
  readonly latentDim: number;
  mu(x: Float32Array, lengths: Int32Array, n: number, L: number): Promise<Float32Array>;
  /** Frees what the encoder holds outside the JS heap (an ONNX session), if anything. */
  release?(): Promise<void>;
}

/** The engine's TMR encoder as a {@linkcode TmrMu}; a TmrMu is returned as it is. */
export function engineTmrMu(motion: TmrEncoder | TmrMu): TmrMu {
  if (!(motion instanceof TmrEncoder)) return motion;
  const be = motion.backend, F = motion.config.nfeats, D = motion.config.latentDim;
  return {
    nfeats: F,
    latentDim: D,
    async mu(x, lengths, n, L) {
      const xt = be.tensor([n, L, F], x);
      try {
        return (await be.read(motion.forward(xt, lengths, n, L).mu)).slice(0, n * D);
      } finally {
        be.free(xt);
      }
    },
  };
}

/**
 * Mu (N, D) of N raw motions `features` (N, T, F) through `motion`, normalised by `mean`/`std`
 * (F); frame t of motion n counts when t < lengths[n]. Frames beyond the lengths are never read
 * (the encoder input is zero there and masked), so their contents cannot change the result.
 */
export async function encodeTmrMotions(
  motion: TmrMu,
  mean: Float32Array,
  std: Float32Array,
  features: Float32Array,
  lengths: ArrayLike<number>,
  N: number,
  T: number,
): Promise<Float32Array> {
  const F = motion.nfeats, D = motion.latentDim;
  checkMotionBatch(features, lengths, N, T, F);
  const out = new Float32Array(N * D); // (N, D)
  for (let at = 0; at < N; at += CHUNK) {
    const n = Math.min(CHUNK, N - at);
    const lens = Int32Array.from({ length: n }, (_, i) => lengths[at + i]); // (n)
    // Cropped to the chunk's longest motion: padding never changes mu.
    const Tc = Math.max(1, ...lens);
    const x = new Float32Array(n * Tc * F); // (n, Tc, F), zero after each length
    for (let i = 0; i < n; i++) {
      const src = features.subarray((at + i) * T * F, ((at + i) * T + lens[i]) * F);
      x.set(normalizeTmrMotion(src, mean, std), i * Tc * F);
    }
    out.set(await motion.mu(x, lens, n, Tc), at * D);
  }
  return out;
}
