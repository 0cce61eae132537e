/**
 * Resumable GRPO checkpoints: `<save_dir>/checkpoint_{step:06d}/` holding
 *
 * | file                    | content                                                        |
 * |-------------------------|----------------------------------------------------------------|
 * | `model.safetensors`     | the trainable tensors: every base weight (full fine-tuning) or only the LoRA adapters (`<prefix>.lora_A.weight`, `.lora_B.weight`) |
 * | `optimizer.safetensors` | AdamW moments `m.<name>`, `v.<name>`; metadata `step`          |
 * | `state.json`            | `format`, `step` (completed steps), prompt sampler / loader position, the resolved config |
 *
 * The folder is written as `.checkpoint_{step:06d}.tmp` and renamed when complete, so a killed run
 * never leaves a half checkpoint under the final name. Every random draw of a step is addressed by
 * (seed, step) or by a saved stream position, so resuming from a checkpoint reproduces the
 * uninterrupted run bit for bit on the same backend.
 * @module
 */
import { join } from "node:path";
import type { MdmDenoiser } from "../../models/mdm/mdm.ts";
import { readSafetensors, saveSafetensors } from "../../models/checkpoint/safetensors.ts";
import { readStateDict, type StateDict, toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { writeFileAtomic } from "../../models/checkpoint/write_file_atomic.ts";
import type { AdamW } from "../adamw.ts";
import type { PromptSamplerState } from "./prompts.ts";

/** `format` of state.json. */
export const GRPO_CHECKPOINT_FORMAT = "motion-grpo/grpo-checkpoint@1";

/** Contents of state.json. */
export interface GrpoCheckpointState {
  format: typeof GRPO_CHECKPOINT_FORMAT;
  /** Completed steps. */
  step: number;
  prompts: PromptSamplerState;
  /** The resolved configuration of the run that wrote it. */
  config: Record<string, unknown>;
}

/** Folder name of the checkpoint after `step` completed steps. */
export function checkpointName(step: number): string {
  return `checkpoint_${String(step).padStart(6, "0")}`;
}

/** Writes the checkpoint of `state.step` into `saveDir`; returns its folder. */
export async function saveGrpoCheckpoint(
  saveDir: string,
  policy: MdmDenoiser,
  optimizer: AdamW,
  state: GrpoCheckpointState,
): Promise<string> {
  const be = policy.backend;
  const final = join(saveDir, checkpointName(state.step));
  const tmp = join(saveDir, `.${checkpointName(state.step)}.tmp`);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  const model = await readStateDict(be, policy.trainable().map((p) => [p.name, p.param] as const));
  await saveSafetensors(join(tmp, "model.safetensors"), model, {
    kind: policy.training === "lora" ? "lora" : "full",
  });
  const opt = await optimizer.state();
  const moments: StateDict = new Map();
  for (const [k, t] of opt.m) moments.set(`m.${k}`, t);
  for (const [k, t] of opt.v) moments.set(`v.${k}`, t);
  await saveSafetensors(join(tmp, "optimizer.safetensors"), moments, { step: String(opt.step) });
  await writeFileAtomic(
    join(tmp, "state.json"),
    new TextEncoder().encode(JSON.stringify(state, null, 2) + "\n"),
  );
  await Deno.remove(final, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, final);
  return final;
}

/** The newest complete checkpoint folder in `saveDir`, or null. */
export async function latestCheckpoint(saveDir: string): Promise<string | null> {
  let best: { step: number; dir: string } | null = null;
  try {
    for await (const e of Deno.readDir(saveDir)) {
      const m = /^checkpoint_(\d{6,})$/.exec(e.name);
      if (!e.isDirectory || m === null) continue;
      const dir = join(saveDir, e.name);
      try {
        await Deno.stat(join(dir, "state.json"));
      } catch {
        continue;
      }
      const step = Number(m[1]);
      if (best === null || step > best.step) best = { step, dir };
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return best?.dir ?? null;
}

/** Restores the policy's trainable tensors and the optimiser from `dir`; returns state.json. */
export async function loadGrpoCheckpoint(
  dir: string,
  policy: MdmDenoiser,
  optimizer: AdamW,
): Promise<GrpoCheckpointState> {
  const be = policy.backend;
  const statePath = join(dir, "state.json");
  const state = JSON.parse(await Deno.readTextFile(statePath)) as GrpoCheckpointState;
  if (state.format !== GRPO_CHECKPOINT_FORMAT) {
    throw new TypeError(
      `Cannot resume from "${statePath}": format ${JSON.stringify(state.format)} is not ` +
        GRPO_CHECKPOINT_FORMAT,
    );
  }
  const modelPath = join(dir, "model.safetensors");
  const model = readSafetensors(await Deno.readFile(modelPath), modelPath);
  for (const p of policy.trainable()) {
    const t = model.get(p.name);
    if (!t || t.shape.join(",") !== p.param.shape.join(",")) {
      throw new TypeError(
        `Cannot resume from "${modelPath}": ${p.name} is missing or has another shape ` +
          `(was the run started with other --use_lora / model flags?)`,
      );
    }
    be.write(p.param, toFloat32(t));
  }
  const optPath = join(dir, "optimizer.safetensors");
  const bytes = await Deno.readFile(optPath);
  const moments = readSafetensors(bytes, optPath);
  const m: StateDict = new Map(), v: StateDict = new Map();
  for (const [k, t] of moments) {
    if (k.startsWith("m.")) m.set(k.slice(2), t);
    else if (k.startsWith("v.")) v.set(k.slice(2), t);
  }
  optimizer.loadState({ step: state.step, m, v }, optPath);
  return state;
}
