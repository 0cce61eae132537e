/**
 * Loads an MDM checkpoint (`model*.pt` with its `args.json`) into a denoiser on a backend.
 * @module
 */
import type { Backend } from "../../kernels/backend.ts";
import { loadMdmStateDict, readArgsJson } from "../checkpoint/mdm_checkpoint.ts";
import { mdmConfigFromArgs } from "./config.ts";
import { MdmDenoiser, type MdmOptions } from "./mdm.ts";

/** Options of {@linkcode loadMdm}. */
export interface LoadMdmModelOptions extends MdmOptions {
  /** The args.json to read (default: `args.json` beside the checkpoint). */
  argsPath?: string;
  /** Use the EMA weights `model_avg` when present (default true, as MDM evaluates). */
  useAvg?: boolean;
}

/** Reads `args.json` and the checkpoint at `path`, and builds the denoiser on `be`. */
export async function loadMdm(
  be: Backend,
  path: string,
  options: LoadMdmModelOptions = {},
): Promise<MdmDenoiser> {
  const args = await readArgsJson(options.argsPath ?? path);
  const config = mdmConfigFromArgs(args.raw, options.argsPath ?? path);
  const sd = await loadMdmStateDict(path, { useAvg: options.useAvg ?? true });
  return MdmDenoiser.fromStateDict(be, sd, config, options, path);
}
