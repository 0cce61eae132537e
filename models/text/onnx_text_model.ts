/**
 * Opening a local ONNX text model with its HuggingFace tokenizer (clip_text.ts, distilbert.ts):
 * the files, their SHA-256, the tokenizer and an onnxruntime-web session whose graph names are
 * checked before use.
 * @module
 */
import { createSession, type OnnxDevice, type OnnxSession } from "../../onnx/session.ts";
import { locateTextModel, sha256Hex, TextAssetError, type TextModelFiles } from "./assets.ts";
import { HfTokenizer } from "./hf_tokenizer.ts";

/** An opened text model: what its featurizer is built from. */
export interface OpenedTextModel {
  files: TextModelFiles;
  /** Lowercase hex SHA-256 of the ONNX file. */
  sha256: string;
  tokenizer: HfTokenizer;
  session: OnnxSession;
}

/** The graph a featurizer needs. */
export interface TextModelGraph {
  /** The name in error messages ("CLIP", "DistilBERT"). */
  label: string;
  /** Inputs that must exist. */
  inputs: readonly string[];
  /** The output read. */
  output: string;
  /** Appended to the missing-output message (how to export the right graph). */
  outputHint?: string;
}

/**
 * Opens the `kind` model (`files`, default located under `$MOTION_GRPO_ASSETS`), checks `graph`'s
 * names and returns `build(model)`; the session is released when a check or `build` throws.
 */
export async function openTextModel<T>(
  kind: "clip" | "distilbert",
  opts: { files?: TextModelFiles; device?: OnnxDevice },
  graph: TextModelGraph,
  build: (model: OpenedTextModel) => Promise<T>,
): Promise<T> {
  const files = opts.files ?? locateTextModel(kind);
  const bytes = await Deno.readFile(files.model);
  const sha256 = await sha256Hex(bytes);
  const tokenizer = await HfTokenizer.load(files.tokenizer);
  const session = await createSession(bytes, { device: opts.device });
  try {
    for (const name of graph.inputs) {
      if (!session.inputNames.includes(name)) {
        throw new TextAssetError(
          `Cannot use ${graph.label} model "${files.model}": it has no input ${name} ` +
            `(inputs: ${session.inputNames.join(", ")})`,
        );
      }
    }
    if (!session.outputNames.includes(graph.output)) {
      throw new TextAssetError(
        `Cannot use ${graph.label} model "${files.model}": it has no output ${graph.output} ` +
          `(outputs: ${session.outputNames.join(", ")})` +
          (graph.outputHint === undefined ? "" : `; ${graph.outputHint}`),
      );
    }
    return await build({ files, sha256, tokenizer, session });
  } catch (e) {
    await session.release();
    throw e;
  }
}
