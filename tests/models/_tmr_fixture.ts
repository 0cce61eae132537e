/** Helpers for the TMR golden tests (fixtures written by tools/make_golden_tmr.py). */
import { readSafetensors } from "../../models/checkpoint/safetensors.ts";
import { type StateDict, toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { loadStateDictFile } from "../../models/checkpoint/torch_pt.ts";
import type { TmrConfig } from "../../models/tmr/config.ts";

/** Batch size, motion frames and text tokens of the fixture. */
export const TMR_B = 4;
export const TMR_T_MOTION = 10;
export const TMR_T_TEXT = 8;
/** Width of the fixture's sentence embeddings. */
export const TMR_SENT_DIM = 16;

/** The small encoders of the fixture: motion (nfeats 263) and text (nfeats 48). */
export const TMR_FIXTURE_CONFIGS: Readonly<Record<"motion" | "text", TmrConfig>> = {
  motion: { nfeats: 263, latentDim: 32, ffSize: 64, layers: 2, heads: 4, vae: true },
  text: { nfeats: 48, latentDim: 32, ffSize: 64, layers: 2, heads: 4, vae: true },
};

/** Path of a file in tests/golden/tmr/. */
export function tmrGoldenPath(name: string): string {
  return new URL(`../golden/tmr/${name}`, import.meta.url).pathname;
}

/** The fixture's tensors (inputs, outputs, gradients). */
export async function readTmrFixture(): Promise<StateDict> {
  const name = "tmr_golden.safetensors";
  return readSafetensors(await Deno.readFile(tmrGoldenPath(name)), name);
}

/** The weights of one fixture encoder, through the .pt reader. */
export function tmrFixtureWeights(side: "motion" | "text"): Promise<StateDict> {
  return loadStateDictFile(tmrGoldenPath(`tmr_${side}.pt`));
}

/** The float32 values of `key`; throws naming the key when absent. */
export function tf32(sd: StateDict, key: string): Float32Array {
  const t = sd.get(key);
  if (!t) throw new Error(`TMR fixture has no tensor ${key}`);
  return toFloat32(t);
}
