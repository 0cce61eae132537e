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

/** Prefetched calls kept at most by {@linkcode withTextPrefetch} (a step makes two or three). */
const KEPT_PREFETCHES = 16;

/** A text–motion encoder whose text calls can start ahead of time. */
export interface PrefetchingEncoder extends TextMotionEncoder {
  /** Starts the call `encodeTexts(texts)`; errors surface when that call is made. */
  prefetchTexts(texts: readonly string[]): void;
}

/**
 * `encoder` with `prefetchTexts`: a prefetched call's result waits, keyed by its exact text list,
 * for the `encodeTexts` call with that list, which takes it. The call gets the bits it would have
 * computed itself (no memo mixes texts of different calls), whatever the encoder.
 */
export function withTextPrefetch(encoder: TextMotionEncoder): PrefetchingEncoder {
  const waiting = new Map<string, Promise<Float32Array>>(); // JSON of the text list → its result
  return {
    name: encoder.name,
    dim: encoder.dim,
    encodeTexts(texts) {
      const key = JSON.stringify(texts), early = waiting.get(key);
      waiting.delete(key);
      return early ?? encoder.encodeTexts(texts);
    },
    prefetchTexts(texts) {
      const key = JSON.stringify(texts);
      if (waiting.has(key)) return;
      const result = encoder.encodeTexts(texts);
      result.catch(() => {}); // reported by the call that takes it
      waiting.set(key, result);
      if (waiting.size > KEPT_PREFETCHES) waiting.delete(waiting.keys().next().value!);
    },
    encodeMotions: (features, lengths, N, T) => encoder.encodeMotions(features, lengths, N, T),
    release: encoder.release ? () => encoder.release!() : undefined,
  };
}
