/**
 * What a sampler needs from a denoiser: an x0 prediction for a batch of noisy motions. MDM
 * (models/mdm) implements it; samplers and trainers depend only on this.
 *
 * Layout: motions are batch-first `(B, T, F)` (frames by features, as HumanML3D stores a clip),
 * not MDM's `[bs, F, 1, T]`; the weights are the same, only the edges differ.
 */
import type { Backend, Tensor } from "../kernels/backend.ts";

export interface DenoiserInput {
  /** (B, T, F) noisy motion x_t. */
  x: Tensor;
  /** (B) integer diffusion step index per sample (the model's own `t`, not a respaced one). */
  timesteps: Int32Array;
  /** (B, D) text features (CLIP for MDM). */
  text: Tensor;
  /** (B) 1 = conditional, 0 = unconditional (the text feature is zeroed, as MDM's mask_cond). */
  condMask: Float32Array;
  /** (B, T) 1 = valid frame, 0 = padding; null = all valid. */
  frameMask: Tensor | null;
  /** Number of valid frames per sample (B); null = all T. Used by models trained with masks. */
  lengths: Int32Array | null;
}

/** The activations one forward saved for its backward, held outside the model (opaque). */
export interface ActivationHandle {
  /** Their size, for memory budgets. */
  readonly bytes: number;
}

export interface Denoiser {
  readonly backend: Backend;
  /** Feature dimension F (263 HumanML3D, 251 KIT). */
  readonly nfeats: number;
  /** Text feature dimension D. */
  readonly textDim: number;
  /** Writes the x0 prediction `(B, T, F)` into `out`, for `B` and `T` given by the input shapes. */
  predictX0(out: Tensor, input: DenoiserInput, B: number, T: number): void;
  /**
   * Trainable denoisers: takes the latest forward's saved activations out of the model, so that
   * its backward can run later (`attachActivations`), or they are released (`freeActivations`).
   */
  detachActivations?(): ActivationHandle;
  attachActivations?(saved: ActivationHandle): void;
  freeActivations?(saved: ActivationHandle): void;
}
