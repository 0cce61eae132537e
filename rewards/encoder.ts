/**
 * The frozen text–motion encoder pair behind semantic rewards and evaluation: TMR (reward), MDM's
 * T2M evaluator (reward or evaluation), or the mini profile's small encoders of the same
 * architectures. Rewards and metrics depend only on this interface.
 *
 * Motions are RAW features (un-normalised HumanML3D/KIT vectors, `(N, T, F)`, frames beyond each
 * length ignored): every encoder applies its own normalisation (TMR's mean/std, the evaluator's
 * t2m_mean/std), which differ from the dataset's Mean/Std used by the denoiser.
 */
export interface TextMotionEncoder {
  readonly name: string;
  /** Embedding width D. */
  readonly dim: number;
  /** Embeddings `(N, D)` of N texts. */
  encodeTexts(texts: readonly string[]): Promise<Float32Array>;
  /**
   * Starts embedding `texts` for a later `encodeTexts` (a memoising encoder whose text model runs
   * on the host: its work can fill the host's wait for a GPU). Errors surface at that call.
   */
  prefetchTexts?(texts: readonly string[]): void;
  /** Embeddings `(N, D)` of N motions: raw features `(N, T, F)`, `lengths` (N) valid frames. */
  encodeMotions(
    features: Float32Array,
    lengths: ArrayLike<number>,
    N: number,
    T: number,
  ): Promise<Float32Array>;
  /** Frees what the encoder holds outside the JS heap (ONNX sessions, GPU buffers), if anything. */
  release?(): Promise<void>;
}

/**
 * Text features that condition the denoiser (CLIP for MDM; a small text encoder in the mini
 * profile): `(N, dim)` for N texts.
 */
export interface TextFeaturizer {
  readonly name: string;
  readonly dim: number;
  encode(texts: readonly string[]): Promise<Float32Array>;
  /**
   * Starts computing the features of `texts` for a later `encode` (a memoising featurizer whose
   * model runs on the host: its work can fill the host's wait for a GPU). Errors surface at that
   * `encode`.
   */
  prefetch?(texts: readonly string[]): void;
  /** Frees what the featurizer holds outside the JS heap (an ONNX session), if anything. */
  release?(): Promise<void>;
}
