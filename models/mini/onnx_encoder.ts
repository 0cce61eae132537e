/**
 * The mini profile's frozen encoders run as ONNX files on onnxruntime-web (onnx/session.ts: WASM
 * by default, WebGPU on request), the form every frozen network takes in the project. The files
 * come from `deno run -A cli/export_onnx.ts --model_dir DIR --output_dir OUT`
 * (`text_encoder.onnx`, and `motion_encoder.onnx` for an encoder pair; graph `x` (B, T, F) +
 * `lengths` int64 (B) → `mu`, `logvar`). Inputs are prepared exactly as on the engine
 * (mini_encoder.ts): texts through the same {@linkcode WordFeaturizer}, raw motions normalised
 * with the folder's `stats.safetensors` (`(x - mean) / (std + 1e-12)`), zero after each length.
 * Embeddings are mu (N, D). The loaders return the engine path's own classes (`MiniEncoder`,
 * `MiniTextFeaturizer`) around ONNX sides, so preparation and chunking are shared.
 *
 * @example
 * ```ts ignore
 * import { loadMiniOnnxEncoder } from "./onnx_encoder.ts";
 * const enc = await loadMiniOnnxEncoder("assets/mini/tmr", { onnxDir: "out/onnx/tmr" });
 * const mu = await enc.encodeTexts(["a person walks forward"]); // (1, 64)
 * await enc.release();
 * ```
 * @module
 */
import { createSession, type OnnxDevice, type OnnxSession } from "../../onnx/session.ts";
import type { TmrMu } from "../tmr/encode_motions.ts";
import type { MiniModelConfig } from "./config.ts";
import { MiniEncoder, MiniTextFeaturizer, readMiniConfig, readMiniStats } from "./mini_encoder.ts";
import { WordFeaturizer } from "./word_featurizer.ts";

/** File names written by cli/export_onnx.ts for a mini model folder. */
export const MINI_ONNX_FILES = {
  text: "text_encoder.onnx",
  motion: "motion_encoder.onnx",
} as const;

/** Options of {@linkcode loadMiniOnnxEncoder} and {@linkcode loadMiniOnnxTextFeaturizer}. */
export interface MiniOnnxOptions {
  /** Folder holding the ONNX files; default the model folder itself. */
  onnxDir?: string;
  /** onnxruntime-web backend; default "wasm". */
  device?: OnnxDevice;
  /** WASM threads (see onnx/session.ts: fixed by the first WASM session of the process). */
  numThreads?: number;
}

/** One exported TMR encoder: its open session and the widths its config gives. */
export class OnnxTmrSide implements TmrMu {
  constructor(
    readonly session: OnnxSession,
    readonly path: string,
    readonly nfeats: number,
    readonly latentDim: number,
  ) {}

  /** Mu (n, D) of `x` (n, L, F) with `lengths` (n) valid rows. */
  async mu(x: Float32Array, lengths: Int32Array, n: number, L: number): Promise<Float32Array> {
    const out = await this.session.run({
      x: { data: x, dims: [n, L, this.nfeats] },
      lengths: { data: BigInt64Array.from(lengths, (v) => BigInt(v)), dims: [n] },
    });
    const mu = out.mu;
    if (!(mu.data instanceof Float32Array) || mu.data.length !== n * this.latentDim) {
      throw new RangeError(
        `Cannot encode with ONNX model "${this.path}": mu has shape [${mu.dims.join(", ")}], ` +
          `expected [${n}, ${this.latentDim}]`,
      );
    }
    return mu.data;
  }

  /** Releases the ONNX session. */
  release(): Promise<void> {
    return this.session.release();
  }
}

/** Opens the TMR encoder ONNX file `path` and checks its graph names. */
export async function openOnnxTmrSide(
  path: string,
  cfg: MiniModelConfig["text_encoder"],
  opts: MiniOnnxOptions,
): Promise<OnnxTmrSide> {
  const session = await createSession(path, { device: opts.device, numThreads: opts.numThreads });
  const missing = [
    ...["x", "lengths"].filter((n) => !session.inputNames.includes(n)).map((n) => `input ${n}`),
    ...(session.outputNames.includes("mu") ? [] : ["output mu"]),
  ];
  if (missing.length > 0) {
    await session.release();
    throw new TypeError(
      `Cannot use ONNX model "${path}": it has no ${missing.join(", ")} (export it with ` +
        "cli/export_onnx.ts)",
    );
  }
  return new OnnxTmrSide(session, path, cfg.nfeats, cfg.latentDim);
}

/**
 * The text–motion encoder pair of model folder `dir` (its `config.json`, `stats.safetensors`)
 * on the ONNX files in `opts.onnxDir` (default `dir`).
 */
export async function loadMiniOnnxEncoder(
  dir: string,
  opts: MiniOnnxOptions = {},
): Promise<MiniEncoder> {
  const cfg = await readMiniConfig(dir);
  if (!cfg.motion || !cfg.motion_encoder) {
    throw new TypeError(
      `Cannot load mini encoder pair "${dir}": its config.json says it has no motion encoder ` +
        "(a text-only folder: use loadMiniOnnxTextFeaturizer)",
    );
  }
  const stats = await readMiniStats(dir);
  const onnxDir = opts.onnxDir ?? dir;
  const words = new WordFeaturizer(cfg.featurizer.dim, cfg.featurizer.max_words);
  const text = await openOnnxTmrSide(`${onnxDir}/${MINI_ONNX_FILES.text}`, cfg.text_encoder, opts);
  let motion: OnnxTmrSide;
  try {
    motion = await openOnnxTmrSide(
      `${onnxDir}/${MINI_ONNX_FILES.motion}`,
      cfg.motion_encoder,
      opts,
    );
  } catch (e) {
    await text.session.release();
    throw e;
  }
  try {
    return new MiniEncoder(`mini-${cfg.role}-onnx`, text, motion, words, stats);
  } catch (e) {
    await text.session.release();
    await motion.session.release();
    throw e;
  }
}

/** The text encoder of model folder `dir` on ONNX as a {@linkcode TextFeaturizer}. */
export async function loadMiniOnnxTextFeaturizer(
  dir: string,
  opts: MiniOnnxOptions = {},
): Promise<MiniTextFeaturizer> {
  const cfg = await readMiniConfig(dir);
  const words = new WordFeaturizer(cfg.featurizer.dim, cfg.featurizer.max_words);
  const path = `${opts.onnxDir ?? dir}/${MINI_ONNX_FILES.text}`;
  const text = await openOnnxTmrSide(path, cfg.text_encoder, opts);
  try {
    return new MiniTextFeaturizer(`mini-${cfg.role}-text-onnx`, text, words);
  } catch (e) {
    await text.session.release();
    throw e;
  }
}
