/** Helpers for the text-model golden tests (fixtures written by tools/make_text_fixtures.py). */
import type { TextModelFiles } from "../../models/text/assets.ts";

/** tests/golden/text/, laid out like a `$MOTION_GRPO_ASSETS` folder. */
export const TEXT_GOLDEN_DIR = new URL("../golden/text", import.meta.url).pathname;

/** One case of golden.json. */
export interface TextCase {
  text: string;
  ids: number[];
}

/** The contents of golden.json. */
export interface TextGolden {
  clip: {
    dim: number;
    context_length: number;
    cases: (TextCase & { text_embeds: number[] })[];
  };
  distilbert: {
    dim: number;
    max_length: number;
    cases: (TextCase & { last_hidden_state: number[] })[];
  };
  tmr: {
    text_mu: number[];
    motion_raw: number[];
    motion_lengths: number[];
    motion_frames: number;
    motion_mu: number[];
  };
}

/** Parses golden.json. */
export async function readTextGolden(): Promise<TextGolden> {
  return JSON.parse(await Deno.readTextFile(`${TEXT_GOLDEN_DIR}/golden.json`)) as TextGolden;
}

/** The fixture files of one model. */
export function goldenFiles(kind: "clip" | "distilbert"): TextModelFiles {
  const dir = `${TEXT_GOLDEN_DIR}/${kind}`;
  const model = kind === "clip" ? "text_model.onnx" : "model.onnx";
  return { kind, dir, model: `${dir}/${model}`, tokenizer: `${dir}/tokenizer.json` };
}
