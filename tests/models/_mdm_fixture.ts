/** Helpers for the MDM golden tests: fixture files, inputs, configs. */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import type { DenoiserInput } from "../../diffusion/denoiser.ts";
import { readSafetensors, readSafetensorsMetadata } from "../../models/checkpoint/safetensors.ts";
import { loadMdmStateDict } from "../../models/checkpoint/mdm_checkpoint.ts";
import { float32Tensor, type StateDict, toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { layerPrefix, type MdmConfig, mdmConfigFromArgs } from "../../models/mdm/config.ts";
import { LORA_TARGETS } from "../../models/mdm/lora.ts";
import { MdmDenoiser, type MdmOptions } from "../../models/mdm/mdm.ts";

/** B and T of every fixture (tools/make_golden.py). */
export const FIXTURE_B = 3;
export const FIXTURE_T = 20;

/** Path of a file in tests/golden/mdm/. */
export function goldenPath(name: string): string {
  return new URL(`../golden/mdm/${name}`, import.meta.url).pathname;
}

/** Reads a fixture .safetensors file. */
export async function readFixture(name: string): Promise<StateDict> {
  return readSafetensors(await Deno.readFile(goldenPath(name)), name);
}

/** The float32 values of `key`; throws naming the key when absent. */
export function f32(sd: StateDict, key: string): Float32Array {
  const t = sd.get(key);
  if (!t) throw new Error(`Fixture has no tensor ${key}`);
  return toFloat32(t);
}

/** The config written beside fixture `id` ("a" or "b"). */
export async function fixtureConfig(id: string): Promise<MdmConfig> {
  const file = goldenPath(`mdm_${id}_args.json`);
  return mdmConfigFromArgs(JSON.parse(await Deno.readTextFile(file)), file);
}

/** Denoiser input from a fixture's `input.*` tensors, on `be`. */
export function fixtureInput(be: Backend, sd: StateDict, nfeats: number): DenoiserInput {
  const B = FIXTURE_B, T = FIXTURE_T;
  const lengths = Int32Array.from(f32(sd, "input.lengths"));
  return {
    x: be.tensor([B, T, nfeats], f32(sd, "input.x")),
    timesteps: Int32Array.from(f32(sd, "input.timesteps")),
    text: be.tensor([B, 512], f32(sd, "input.text")),
    condMask: Float32Array.from(f32(sd, "input.cond_mask")),
    frameMask: null,
    lengths,
  };
}

/** Frees the tensors of a fixture input. */
export function freeInput(be: Backend, input: DenoiserInput): void {
  for (const t of [input.x, input.text, input.frameMask]) if (t) be.free(t as Tensor);
}

/**
 * The weights of fixture `id` from its .pt file through the checkpoint loader: `model_avg` of
 * an EMA checkpoint (what MDM evaluates, and what the golden outputs use), else the plain state
 * dict; the pe buffers are dropped, so the model computes its own table.
 */
export function fixtureWeights(id: string): Promise<StateDict> {
  return loadMdmStateDict(goldenPath(`mdm_${id}.pt`));
}

/** Asserts two arrays are bit-identical (same length, same values), naming the first mismatch. */
export function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string) {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} != ${expected.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Linear names of the LoRA fixture for each adapted linear. */
const FIXTURE_LINEAR: Record<(typeof LORA_TARGETS)[number], string> = {
  "self_attn.in_proj": "in_proj",
  "self_attn.out_proj": "out_proj",
  linear1: "linear1",
  linear2: "linear2",
};

/**
 * Model adapter name `<layer>.<target>.lora_<A|B>.weight` → fixture name
 * `<prefix>.<i>.<linear>.<A|B>` (prefix "lora" for values, "grad.lora" for gradients).
 */
export function fixtureAdapterNames(layers: number, prefix = "lora"): Map<string, string> {
  const names = new Map<string, string>();
  for (let i = 0; i < layers; i++) {
    for (const target of LORA_TARGETS) {
      for (const m of ["A", "B"]) {
        names.set(
          `${layerPrefix(i)}.${target}.lora_${m}.weight`,
          `${prefix}.${i}.${FIXTURE_LINEAR[target]}.${m}`,
        );
      }
    }
  }
  return names;
}

/**
 * Fixture A's weights with the adapters of mdm_a_lora.safetensors loaded (rank and alpha from
 * its metadata), trained as "lora", with that fixture's input.
 */
export async function loraFixtureModel(be: Backend, opts: MdmOptions) {
  const cfg = await fixtureConfig("a");
  const bytes = await Deno.readFile(goldenPath("mdm_a_lora.safetensors"));
  const fx = readSafetensors(bytes), meta = readSafetensorsMetadata(bytes);
  const model = MdmDenoiser.fromStateDict(be, await fixtureWeights("a"), cfg, {
    ...opts,
    training: "lora",
    lora: { rank: Number(meta.rank), alpha: Number(meta.alpha), seed: 1 },
  });
  const sd: StateDict = new Map();
  for (const [name, fixName] of fixtureAdapterNames(cfg.layers)) {
    sd.set(name, float32Tensor(f32(fx, fixName), fx.get(fixName)!.shape));
  }
  model.loadLoraStateDict(sd);
  return { cfg, fx, model, input: fixtureInput(be, fx, cfg.nfeats) };
}
