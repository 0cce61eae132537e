/**
 * The official TMR text–motion encoder pair (Mathux/TMR) behind the reward interface: texts go
 * through DistilBERT (distilbert.ts: every token's last hidden state, [CLS]/[SEP] included, each
 * text its own length) into TMR's text encoder; motions are normalised with TMR's statistics
 * (`(x - mean) / (std + 1e-12)`, models/tmr/normalize.ts) into TMR's motion encoder. Embeddings
 * are the encoders' mu (D = 256).
 *
 * Files: TMR's released `text_encoder.pt` and `motion_encoder.pt` (plain state dicts of
 * ACTORStyleEncoder; `motion_decoder.pt` is not used), TMR's `mean.pt` / `std.pt`
 * (`stats/humanml3d/guoh3dfeats/` in TMR's repository), looked for beside the weights, in their
 * parent folder, then in `$MOTION_GRPO_ASSETS/tmr/`; DistilBERT from `$MOTION_GRPO_ASSETS`
 * (assets.ts).
 *
 * Text embeddings are memoised by text; `name` records DistilBERT's SHA-256.
 * @module
 */
import { dirname, join } from "node:path";
import type { Backend } from "../../kernels/backend.ts";
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import { loadTmrEncoder, loadTmrStats, type TmrMotionStats } from "../tmr/load.ts";
import type { TmrEncoder } from "../tmr/encoder.ts";
import { encodeTmrMotions, engineTmrMu } from "../tmr/encode_motions.ts";
import { ASSETS_ENV, assetsRoot, TextAssetError } from "./assets.ts";
import { DistilBertFeaturizer, type DistilBertOptions } from "./distilbert.ts";

/** Texts encoded per forward pass (bounds activation memory). */
const CHUNK = 32;

/** The official TMR pair; see the module doc. */
export class OfficialTmrEncoder implements TextMotionEncoder {
  readonly name: string;
  readonly dim: number;
  readonly #text: TmrEncoder;
  readonly #motion: TmrEncoder;
  readonly #bert: DistilBertFeaturizer;
  readonly #mean: Float32Array; // (F)
  readonly #std: Float32Array; // (F)
  readonly #memo = new Map<string, Float32Array>(); // text → (D)

  /** Checks that the pieces fit together (widths, statistics). */
  constructor(
    text: TmrEncoder,
    motion: TmrEncoder,
    bert: DistilBertFeaturizer,
    stats: TmrMotionStats,
  ) {
    const F = motion.config.nfeats;
    if (stats.mean.length !== F || stats.std.length !== F) {
      throw new RangeError(
        `Cannot create the official TMR encoder: statistics have ${stats.mean.length}/` +
          `${stats.std.length} entries, the motion encoder reads ${F} features`,
      );
    }
    if (text.config.nfeats !== bert.dim) {
      throw new RangeError(
        `Cannot create the official TMR encoder: the text encoder reads ${text.config.nfeats} ` +
          `features, DistilBERT gives ${bert.dim}`,
      );
    }
    if (text.config.latentDim !== motion.config.latentDim) {
      throw new RangeError(
        `Cannot create the official TMR encoder: text latent ${text.config.latentDim} differs ` +
          `from motion latent ${motion.config.latentDim}`,
      );
    }
    this.#text = text;
    this.#motion = motion;
    this.#bert = bert;
    this.#mean = stats.mean;
    this.#std = stats.std;
    this.dim = text.config.latentDim;
    this.name = `tmr+${bert.name}`;
  }

  /** Mu (N, D) of N texts (memoised by text). */
  async encodeTexts(texts: readonly string[]): Promise<Float32Array> {
    const be = this.#text.backend, D = this.dim;
    const todo = [...new Set(texts.filter((t) => !this.#memo.has(t)))];
    for (let at = 0; at < todo.length; at += CHUNK) {
      const part = todo.slice(at, at + CHUNK);
      const f = await this.#bert.features(part);
      const x = be.tensor([f.N, f.L, f.dim], f.x); // (n, L, 768)
      try {
        const mu = await be.read(this.#text.forward(x, f.lengths, f.N, f.L).mu);
        part.forEach((t, i) => this.#memo.set(t, mu.slice(i * D, (i + 1) * D)));
      } finally {
        be.free(x);
      }
    }
    const out = new Float32Array(texts.length * D); // (N, D)
    texts.forEach((t, i) => out.set(this.#memo.get(t)!, i * D));
    return out;
  }

  /**
   * Mu (N, D) of N raw motions `features` (N, T, F); frame t of motion n counts when
   * t < lengths[n] (later frames are never read).
   */
  encodeMotions(
    features: Float32Array,
    lengths: ArrayLike<number>,
    N: number,
    T: number,
  ): Promise<Float32Array> {
    return encodeTmrMotions(
      engineTmrMu(this.#motion),
      this.#mean,
      this.#std,
      features,
      lengths,
      N,
      T,
    );
  }

  /** Frees the encoders' tensors and DistilBERT's session. */
  async release(): Promise<void> {
    this.#text.destroy();
    this.#motion.destroy();
    await this.#bert.release();
  }
}

async function hasStats(dir: string): Promise<boolean> {
  for (const name of ["mean.pt", "std.pt"]) {
    const ok = await Deno.stat(join(dir, name)).then((s) => s.isFile, () => false);
    if (!ok) return false;
  }
  return true;
}

/** The folders searched for TMR's mean.pt / std.pt, in order (see the module doc). */
export function tmrStatsCandidates(weightsDir: string, root = assetsRoot()): string[] {
  const dirs = [weightsDir, dirname(weightsDir)];
  if (root !== null) dirs.push(join(root, "tmr"));
  return dirs;
}

/** Where the official TMR files are. */
export interface OfficialTmrFiles {
  /** TMR's `text_encoder.pt`. */
  textEncoder: string;
  /** TMR's `motion_encoder.pt`. */
  motionEncoder: string;
  /** The folder holding mean.pt and std.pt; default searched (see the module doc). */
  statsDir?: string;
}

/** Loads the official TMR pair on `be`, DistilBERT by `bert` (default from the assets folder). */
export async function loadOfficialTmrEncoder(
  be: Backend,
  files: OfficialTmrFiles,
  bert: DistilBertOptions = {},
): Promise<OfficialTmrEncoder> {
  let statsDir = files.statsDir;
  if (statsDir === undefined) {
    const candidates = tmrStatsCandidates(dirname(files.textEncoder));
    for (const dir of candidates) {
      if (await hasStats(dir)) {
        statsDir = dir;
        break;
      }
    }
    if (statsDir === undefined) {
      throw new TextAssetError(
        `Cannot load the official TMR encoder: TMR's motion statistics mean.pt and std.pt ` +
          `(stats/humanml3d/guoh3dfeats/ of TMR) were not found in ` +
          `${candidates.map((d) => `"${d}"`).join(", ")}` +
          (assetsRoot() === null ? ` (${ASSETS_ENV} is not set)` : ""),
      );
    }
  }
  const stats = await loadTmrStats(statsDir);
  const distilbert = await DistilBertFeaturizer.load(bert);
  try {
    const text = await loadTmrEncoder(be, files.textEncoder, { maxBatch: CHUNK, maxFrames: 32 });
    const motion = await loadTmrEncoder(be, files.motionEncoder, {
      maxBatch: CHUNK,
      maxFrames: 196,
    });
    return new OfficialTmrEncoder(text, motion, distilbert, stats);
  } catch (e) {
    await distilbert.release();
    throw e;
  }
}
