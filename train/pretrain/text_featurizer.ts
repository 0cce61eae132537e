/**
 * Text conditioning for MDM pretraining: anything that maps captions to fixed-size feature
 * vectors. MDM itself uses frozen CLIP ViT-B/32 features (512); the embedded mini model is
 * trained with a featurizer that runs on the engine without CLIP. Implementations:
 *
 * - `HashedBagOfWords` (hashed_bag_of_words.ts): deterministic baseline, no learned weights.
 * - The mini conditioning encoder (a small text encoder of the TMR architecture, models/tmr) plugs
 *   in through this same interface: `name` goes into `args.json`, `dim` becomes the denoiser's
 *   text dimension D (its `embed_text` input), `encode` gives the (N, D) rows.
 *
 * A checkpoint is only meaningful with the featurizer it was trained with: `name` and `dim` are
 * saved in `args.json` (see args_json.ts) so that a sampler can refuse a mismatch.
 * @module
 */

/** Maps captions to text features, one row per caption. */
export interface TextFeaturizer {
  /** Identifier saved with checkpoints, e.g. `"hashed_bow"`. */
  readonly name: string;
  /** Feature dimension D. */
  readonly dim: number;
  /** Further settings that fix the features (e.g. a seed), saved in `args.json` beside `name`. */
  readonly params?: Readonly<Record<string, number | string>>;
  /** Features of `texts`, row-major (N, D). Deterministic: the same text gives the same row. */
  encode(texts: string[]): Float32Array; // (N, D)
}
