/**
 * TMR's `ACTORStyleEncoder` (Mathux/TMR `src/model/actor.py`) converted from its plain state dict
 * (`motion_encoder.pt` or `text_encoder.pt`: `projection.*`, `tokens`, `seqTransEncoder.layers.*`)
 * to ONNX.
 *
 * Graph: `x` (B, T, F) features (normalised motion, or DistilBERT hidden states), `lengths` int64
 * (B) valid rows per sample → `mu` (B, d) and, for the VAE variant (2 tokens), `logvar` (B, d).
 * Steps: projection Linear(F → d); the learned tokens prepended (B, K+T, d); sinusoidal positions
 * added (TMR's batch-first `PositionalEncoding`, dropout off); a post-norm TransformerEncoder with
 * the padding rows masked out as keys; outputs are the final states of the tokens.
 * @module
 */
import type { StateDict } from "../models/checkpoint/state_dict.ts";
import { GraphBuilder } from "./graph.ts";
import { batchDim, linear, Weights } from "./_layers.ts";
import { type Activation, encoderLayer, sinusoidalPositions } from "./_transformer.ts";

/** Options of {@linkcode tmrEncoderToOnnx}: what the state dict cannot tell. */
export interface TmrEncoderOptions {
  /** Attention heads (TMR: 4). */
  numHeads?: number;
  /** Feed-forward activation (TMR: gelu). */
  activation?: Activation;
  /** File name for error messages and the model's metadata. */
  source?: string;
}

/** Added to attention scores of padding keys; exp() of it underflows to exactly 0. */
const MASKED = -1e9;

/**
 * Converts an `ACTORStyleEncoder` state dict to ONNX. The number of layers, d_model, the
 * feed-forward size, the input size and the number of tokens come from the weights.
 *
 * @example
 * ```ts ignore
 * import { loadStateDictFile } from "../models/checkpoint/torch_pt.ts";
 * const sd = await loadStateDictFile("models/tmr_humanml3d_guoh3dfeats/last_weights/motion_encoder.pt");
 * await Deno.writeFile("tmr_motion.onnx", tmrEncoderToOnnx(sd));
 * ```
 */
export function tmrEncoderToOnnx(sd: StateDict, options: TmrEncoderOptions = {}): Uint8Array {
  const source = options.source ?? "<state dict>";
  const heads = options.numHeads ?? 4;
  const activation = options.activation ?? "gelu";
  if (activation !== "gelu" && activation !== "relu") {
    throw new TypeError(`Cannot convert TMR encoder: unknown activation "${activation}"`);
  }
  const w = new Weights(sd, `TMR encoder "${source}"`);
  const tokens = w.get("tokens", [null, null]); // (K, d)
  const [nTokens, d] = tokens.shape;
  if (nTokens !== 1 && nTokens !== 2) {
    throw new TypeError(`Cannot convert ${w.label}: tokens has ${nTokens} rows, expected 1 or 2`);
  }
  const nFeats = w.get("projection.weight", [d, null]).shape[1];
  let layers = 0;
  while (w.has(`seqTransEncoder.layers.${layers}.self_attn.in_proj_weight`)) layers++;
  if (layers === 0) {
    throw new TypeError(`Cannot convert ${w.label}: missing key seqTransEncoder.layers.0.*`);
  }

  const g = new GraphBuilder("tmr_actor_style_encoder");
  g.input("x", "float32", ["B", "T", nFeats]);
  g.input("lengths", "int64", ["B"]);
  const proj = linear(g, w, "projection", "x"); // (B, T, d)

  // Tokens repeated over the batch: (K, d) → (1, K, d) → (B, K, d).
  const tok = g.initializer(g.fresh("tokens"), tokens.data, [1, nTokens, d]);
  const one = g.int64("one", [1]);
  const tiled = g.op("Expand", [
    tok,
    g.op("Concat", [batchDim(g, "x"), one, one], { axis: 0 }),
  ]);
  let h = g.op("Concat", [tiled, proj], { axis: 1 }); // (B, K+T, d)
  h = g.op("Add", [h, sinusoidalPositions(g, h, d)]);

  // Key padding: position j of sample b is valid iff j < K + lengths[b].
  const sLen = g.op("Squeeze", [g.op("Shape", [h], { start: 1, end: 2 }), g.int64("axis0", [0])]);
  const positions = g.op("Range", [g.int64("zero", [0], []), sLen, g.int64("step", [1], [])]);
  const limit = g.op("Unsqueeze", [
    g.op("Add", ["lengths", g.int64("ntok", [nTokens], [])]),
    g.int64("axis1", [1]),
  ]); // (B, 1)
  const valid = g.op("Less", [positions, limit]); // (B, K+T)
  const bias = g.op("Where", [
    valid,
    g.float32("keep", [0], []),
    g.float32("masked", [MASKED], []),
  ]);
  const maskBias = g.op("Unsqueeze", [bias, g.int64("axes12", [1, 2])]); // (B, 1, 1, K+T)

  for (let l = 0; l < layers; l++) {
    h = encoderLayer(g, w, `seqTransEncoder.layers.${l}`, h, maskBias, { heads, activation });
  }
  const take = (index: number, name: string): void => {
    g.node("Gather", [h, g.int64(`token${index}`, [index], [])], [name], { axis: 1 }); // (B, d)
    g.output(name, "float32", ["B", d]);
  };
  take(0, "mu");
  if (nTokens === 2) take(1, "logvar");
  return g.toBytes({
    docString: "TMR ACTORStyleEncoder",
    metadata: { source, num_heads: String(heads), activation, num_layers: String(layers) },
  });
}
