/**
 * The T2M evaluator of Guo et al. (HumanML3D metrics: R-precision, FID, MM-Dist, diversity)
 * converted from its PyTorch checkpoint (`t2m/text_mot_match/model/finest.tar`, entries
 * `movement_encoder`, `text_encoder`, `motion_encoder`) to ONNX graphs. Sizes come from the
 * weight shapes, so the real evaluator (263 → 512 → 1024 → 512; 300 + 15 → 512 → 512) and small
 * test networks convert alike.
 *
 * Graphs and their tensors (B batch, T frames, L words; lengths may be in any order):
 * - motion: `motion` (B, T, C+4) normalised features incl. the 4 foot contacts, `lengths` int64
 *   (B) frames → `embedding` (B, D). Drops the contacts, runs the movement encoder (T → T/4),
 *   divides the lengths by the unit length 4, runs the motion encoder: MDM's
 *   `EvaluatorMDMWrapper.get_co_embeddings` without the sorting, which ONNX's GRU does not need.
 * - text: `word_embs` (B, L, 300) GloVe vectors, `pos_onehot` (B, L, 15), `lengths` int64 (B) →
 *   `embedding` (B, D).
 * - movement (for tests and inspection): `motion` (B, T, C) → `movements` (B, T/4, M).
 * @module
 */
import { loadTorchFile, nestedStateDict } from "../models/checkpoint/torch_pt.ts";
import type { StateDict } from "../models/checkpoint/state_dict.ts";
import { GraphBuilder } from "./graph.ts";
import { biGru, broadcastHidden, conv1d, layerNorm, linear, Weights } from "./_layers.ts";

/** The three state dicts of an evaluator checkpoint. */
export interface T2mEvaluatorWeights {
  movementEncoder: StateDict;
  textEncoder: StateDict;
  motionEncoder: StateDict;
  /** File name used in error messages. */
  source: string;
}

/** The converted networks, as serialised ONNX models. */
export interface T2mEvaluatorOnnx {
  /** `motion` (B, T, C+4) + `lengths` (B) → `embedding` (B, D). */
  motion: Uint8Array;
  /** `word_embs` (B, L, W) + `pos_onehot` (B, L, P) + `lengths` (B) → `embedding` (B, D). */
  text: Uint8Array;
}

/** Frames per movement step: two stride-2 convolutions. */
export const T2M_UNIT_LENGTH = 4;
/** Foot-contact features at the end of a HumanML3D vector, which the evaluator ignores. */
const FOOT_CONTACTS = 4;
const LEAKY_SLOPE = 0.2;

/** Reads `finest.tar` (or any file with the three entries). */
export async function loadT2mEvaluator(path: string): Promise<T2mEvaluatorWeights> {
  const root = await loadTorchFile(path);
  return {
    movementEncoder: nestedStateDict(root, "movement_encoder", path),
    textEncoder: nestedStateDict(root, "text_encoder", path),
    motionEncoder: nestedStateDict(root, "motion_encoder", path),
    source: path,
  };
}

/**
 * Converts an evaluator checkpoint to the motion and text ONNX models.
 *
 * @example
 * ```ts ignore
 * const onnx = convertT2mEvaluator(await loadT2mEvaluator("t2m/text_mot_match/model/finest.tar"));
 * await Deno.writeFile("t2m_motion.onnx", onnx.motion);
 * ```
 */
export function convertT2mEvaluator(w: T2mEvaluatorWeights): T2mEvaluatorOnnx {
  return {
    motion: motionPipelineToOnnx(w.movementEncoder, w.motionEncoder, w.source),
    text: textEncoderToOnnx(w.textEncoder, w.source),
  };
}

/** Movement encoder body: x (B, T, C) → (B, floor(floor(T/2)/2), M). */
function movementBody(g: GraphBuilder, w: Weights, x: string): string {
  let h = g.op("Transpose", [x], { perm: [0, 2, 1] }); // (B, C, T)
  // Dropout layers (main.1, main.4) are identities in eval mode; no weights.
  h = conv1d(g, w, "main.0", h, { stride: 2, padding: 1 }); // (B, hidden, T/2)
  h = g.op("LeakyRelu", [h], { alpha: LEAKY_SLOPE });
  h = conv1d(g, w, "main.3", h, { stride: 2, padding: 1 }); // (B, M, T/4)
  h = g.op("LeakyRelu", [h], { alpha: LEAKY_SLOPE });
  h = g.op("Transpose", [h], { perm: [0, 2, 1] }); // (B, T/4, M)
  return linear(g, w, "out_net", h); // (B, T/4, M)
}

/** Bi-GRU encoder tail shared by the motion and text encoders: x (B, S, H) → (B, D). */
function biGruHead(g: GraphBuilder, w: Weights, x: string, lengths: string): string {
  const seqFirst = g.op("Transpose", [x], { perm: [1, 0, 2] }); // (S, B, H)
  const lens32 = g.op("Cast", [lengths], { to: 6 }); // int32 (B), as GRU's sequence_lens wants
  const h0 = broadcastHidden(g, w, "hidden", x); // (2, B, H)
  const hN = biGru(g, w, "gru", seqFirst, lens32, h0); // (2, B, H)
  // cat([h_n[0], h_n[1]], -1): (2, B, H) → (B, 2, H) → (B, 2H)
  const both = g.op("Reshape", [
    g.op("Transpose", [hN], { perm: [1, 0, 2] }),
    g.int64("shape", [0, -1]),
  ]);
  let h = linear(g, w, "output_net.0", both); // (B, H)
  h = layerNorm(g, w, "output_net.1", h);
  h = g.op("LeakyRelu", [h], { alpha: LEAKY_SLOPE });
  return linear(g, w, "output_net.3", h); // (B, D)
}

/** `movement_encoder` alone: `motion` (B, T, C) → `movements` (B, T/4, M). */
export function movementEncoderToOnnx(sd: StateDict, source = "<state dict>"): Uint8Array {
  const w = new Weights(sd, `movement_encoder of "${source}"`);
  const cIn = w.get("main.0.weight", [null, null, 4]).shape[1];
  const m = w.get("out_net.weight", [null, null]).shape[0];
  const g = new GraphBuilder("t2m_movement_encoder");
  g.input("motion", "float32", ["B", "T", cIn]);
  g.node("Identity", [movementBody(g, w, "motion")], ["movements"]);
  g.output("movements", "float32", ["B", "T4", m]);
  return g.toBytes({ docString: "T2M evaluator movement encoder", metadata: { source } });
}

/** `motion_encoder` alone: `movements` (B, S, M) + `lengths` (B) in steps → `embedding`. */
export function motionEncoderToOnnx(sd: StateDict, source = "<state dict>"): Uint8Array {
  const w = new Weights(sd, `motion_encoder of "${source}"`);
  const m = w.get("input_emb.weight", [null, null]).shape[1];
  const d = w.get("output_net.3.weight", [null, null]).shape[0];
  const g = new GraphBuilder("t2m_motion_encoder");
  g.input("movements", "float32", ["B", "S", m]);
  g.input("lengths", "int64", ["B"]);
  const x = linear(g, w, "input_emb", "movements"); // (B, S, H)
  g.node("Identity", [biGruHead(g, w, x, "lengths")], ["embedding"]);
  g.output("embedding", "float32", ["B", d]);
  return g.toBytes({ docString: "T2M evaluator motion encoder", metadata: { source } });
}

/**
 * Movement then motion encoder: `motion` (B, T, C+4) with foot contacts + `lengths` (B) in
 * frames → `embedding` (B, D).
 */
export function motionPipelineToOnnx(
  movementSd: StateDict,
  motionSd: StateDict,
  source = "<state dict>",
): Uint8Array {
  const wm = new Weights(movementSd, `movement_encoder of "${source}"`);
  const w = new Weights(motionSd, `motion_encoder of "${source}"`);
  const cIn = wm.get("main.0.weight", [null, null, 4]).shape[1];
  const m = wm.get("out_net.weight", [null, null]).shape[0];
  w.get("input_emb.weight", [null, m]); // the two halves must fit together
  const d = w.get("output_net.3.weight", [null, null]).shape[0];
  const g = new GraphBuilder("t2m_motion");
  g.input("motion", "float32", ["B", "T", cIn + FOOT_CONTACTS]);
  g.input("lengths", "int64", ["B"]);
  // motion[..., :-4]: (B, T, C+4) → (B, T, C)
  const body = g.op("Slice", [
    "motion",
    g.int64("starts", [0]),
    g.int64("ends", [cIn]),
    g.int64("axes", [2]),
  ]);
  const movements = movementBody(g, wm, body); // (B, T/4, M)
  // m_lens // unit_length (lengths are positive, so truncation is floor)
  const steps = g.op("Div", ["lengths", g.int64("unit", [T2M_UNIT_LENGTH], [])]);
  const x = linear(g, w, "input_emb", movements); // (B, T/4, H)
  g.node("Identity", [biGruHead(g, w, x, steps)], ["embedding"]);
  g.output("embedding", "float32", ["B", d]);
  return g.toBytes({
    docString: "T2M evaluator motion path: movement encoder + motion encoder",
    metadata: { source, unit_length: String(T2M_UNIT_LENGTH) },
  });
}

/**
 * `text_encoder`: `word_embs` (B, L, W) + `pos_onehot` (B, L, P) + `lengths` (B) → `embedding`.
 */
export function textEncoderToOnnx(sd: StateDict, source = "<state dict>"): Uint8Array {
  const w = new Weights(sd, `text_encoder of "${source}"`);
  const [word, pos] = w.get("pos_emb.weight", [null, null]).shape; // (W, P)
  w.get("input_emb.weight", [null, word]);
  const d = w.get("output_net.3.weight", [null, null]).shape[0];
  const g = new GraphBuilder("t2m_text_encoder");
  g.input("word_embs", "float32", ["B", "L", word]);
  g.input("pos_onehot", "float32", ["B", "L", pos]);
  g.input("lengths", "int64", ["B"]);
  const summed = g.op("Add", ["word_embs", linear(g, w, "pos_emb", "pos_onehot")]); // (B, L, W)
  const x = linear(g, w, "input_emb", summed); // (B, L, H)
  g.node("Identity", [biGruHead(g, w, x, "lengths")], ["embedding"]);
  g.output("embedding", "float32", ["B", d]);
  return g.toBytes({ docString: "T2M evaluator text encoder", metadata: { source } });
}
