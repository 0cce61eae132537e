/**
 * Loading TMR's released files: an encoder's weights (`motion_encoder.pt`, `text_encoder.pt`:
 * plain state dicts) and the motion statistics (`mean.pt`, `std.pt`: plain tensors).
 * @module
 */
import type { Backend } from "../../kernels/backend.ts";
import { toFloat32 } from "../checkpoint/state_dict.ts";
import { isTensorData, loadStateDictFile, loadTorchFile } from "../checkpoint/torch_pt.ts";
import { inferTmrConfig, type TmrConfig } from "./config.ts";
import { TmrEncoder, type TmrEncoderOptions } from "./encoder.ts";

/** Options of {@linkcode loadTmrEncoder}. */
export interface LoadTmrEncoderOptions extends TmrEncoderOptions {
  /** The config; default what the weights imply with `heads` heads. */
  config?: TmrConfig;
  /** Head count when the config is inferred (not recorded in the weights). Default 4. */
  heads?: number;
}

/** An encoder from a TMR encoder state dict file (.pt or .safetensors). */
export async function loadTmrEncoder(
  be: Backend,
  path: string,
  opts: LoadTmrEncoderOptions = {},
): Promise<TmrEncoder> {
  const sd = await loadStateDictFile(path);
  const config = opts.config ?? inferTmrConfig(sd, opts.heads ?? 4, path);
  return TmrEncoder.fromStateDict(be, sd, config, opts, path);
}

/** TMR's per-dimension motion statistics. */
export interface TmrMotionStats {
  mean: Float32Array; // (F)
  std: Float32Array; // (F)
}

/** Reads `mean.pt` and `std.pt` (each a 1-D tensor saved with `torch.save`) from `dir`. */
export async function loadTmrStats(dir: string): Promise<TmrMotionStats> {
  const read = async (name: string): Promise<Float32Array> => {
    const path = `${dir}/${name}`;
    const v = await loadTorchFile(path);
    if (!isTensorData(v) || v.shape.length !== 1) {
      throw new TypeError(`Cannot load TMR statistics "${path}": expected one 1-D tensor`);
    }
    return Float32Array.from(toFloat32(v));
  };
  const mean = await read("mean.pt"), std = await read("std.pt");
  if (mean.length !== std.length) {
    throw new TypeError(
      `Cannot load TMR statistics from "${dir}": mean has ${mean.length} entries, ` +
        `std ${std.length}`,
    );
  }
  return { mean, std };
}
