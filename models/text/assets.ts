/**
 * Where the official text models live on disk. Users put the ONNX exports and HuggingFace
 * tokenizer files in one folder named by the environment variable `MOTION_GRPO_ASSETS` (the
 * experiment runner's `--assets DIR` sets it):
 *
 * ```
 * $MOTION_GRPO_ASSETS/
 *   clip/
 *     text_model.onnx   CLIPTextModelWithProjection of openai/clip-vit-base-patch32 (the
 *                       Xenova or optimum export; `model.onnx` is accepted too): input
 *                       `input_ids` int64 (N, L) [+ optional `attention_mask`], output
 *                       `text_embeds` float32 (N, 512)
 *     tokenizer.json    that model's HuggingFace tokenizer (byte-level BPE)
 *   distilbert/
 *     model.onnx        distilbert-base-uncased: inputs `input_ids`, `attention_mask` int64
 *                       (N, L), output `last_hidden_state` float32 (N, L, 768)
 *     tokenizer.json    its HuggingFace tokenizer (uncased WordPiece)
 * ```
 *
 * CLIP conditions official MDM checkpoints; DistilBERT gives the text input of the official TMR
 * encoders. Every missing piece is ONE line naming the variable and the exact path expected
 * ({@linkcode TextAssetError}).
 * @module
 */
import { join } from "node:path";

/** The environment variable naming the assets folder. */
export const ASSETS_ENV = "MOTION_GRPO_ASSETS";

/** A text model's files are missing or unusable; the message names the path expected. */
export class TextAssetError extends Error {
  override name = "TextAssetError";
}

/** The files of one text model. */
export interface TextModelFiles {
  /** `clip` or `distilbert`. */
  kind: "clip" | "distilbert";
  /** The model folder. */
  dir: string;
  /** The ONNX graph. */
  model: string;
  /** The HuggingFace tokenizer.json. */
  tokenizer: string;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}

/** `$MOTION_GRPO_ASSETS`, or null when unset or empty. */
export function assetsRoot(): string | null {
  const v = Deno.env.get(ASSETS_ENV);
  return v && v.trim() !== "" ? v : null;
}

const MODEL_NAMES = {
  clip: ["text_model.onnx", "model.onnx"],
  distilbert: ["model.onnx"],
} as const;

const PURPOSE = {
  clip: "the CLIP text encoder (official MDM conditioning)",
  distilbert: "DistilBERT (text input of the official TMR encoders)",
} as const;

/**
 * The files of `kind` under `root` (default `$MOTION_GRPO_ASSETS`), or why they cannot be used:
 * a clause naming the variable and the exact path expected. Does not read the files.
 */
export function findTextModel(
  kind: "clip" | "distilbert",
  root: string | null = assetsRoot(),
): TextModelFiles | string {
  const want = MODEL_NAMES[kind];
  if (root === null) {
    return `${ASSETS_ENV} is not set; set it to a folder holding ${kind}/${want[0]} and ` +
      `${kind}/tokenizer.json`;
  }
  const dir = join(root, kind);
  const model = want.map((n) => join(dir, n)).find(isFile);
  if (model === undefined) {
    return `"${join(dir, want[0])}" does not exist (${ASSETS_ENV}=${root}; expected ` +
      `${want.map((n) => `${kind}/${n}`).join(" or ")})`;
  }
  const tokenizer = join(dir, "tokenizer.json");
  if (!isFile(tokenizer)) return `"${tokenizer}" does not exist (${ASSETS_ENV}=${root})`;
  return { kind, dir, model, tokenizer };
}

/**
 * The files of `kind` (see {@linkcode findTextModel}); throws {@linkcode TextAssetError} naming
 * the variable and the missing path.
 */
export function locateTextModel(
  kind: "clip" | "distilbert",
  root: string | null = assetsRoot(),
): TextModelFiles {
  const found = findTextModel(kind, root);
  if (typeof found === "string") throw new TextAssetError(`Cannot load ${PURPOSE[kind]}: ${found}`);
  return found;
}

/** Lowercase hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
