/**
 * Resumable pretraining checkpoints in a save folder, after `s` completed steps:
 *
 * - `model{s:09d}.pt`: `{'model': sd, 'model_avg': ema_sd}` as MDM saves with `--use_ema` (a
 *   plain state dict without EMA); loads with `loadMdmStateDict` and `torch.load`.
 * - `opt{s:09d}.pt`: `{'exp_avg': m, 'exp_avg_sq': v}` AdamW moments by parameter name.
 * - `train_state{s:09d}.json`: step, loader position, random-stream positions. Written last, so
 *   its presence marks a complete checkpoint.
 *
 * Every file is written atomically (temp file + rename).
 * @module
 */
import { join } from "node:path";
import type { StateDict } from "../../models/checkpoint/state_dict.ts";
import {
  loadTorchFile,
  nestedStateDict,
  saveTorchStateDict,
} from "../../models/checkpoint/torch_pt.ts";
import { selectMdmStateDict } from "../../models/checkpoint/mdm_checkpoint.ts";
import { writeFileAtomic } from "../../models/checkpoint/write_file_atomic.ts";
import type { LoaderState } from "../../datasets/humanml/loader.ts";
import type { AdamWState } from "../adamw.ts";
import { saveTorchNested } from "./_torch_nested.ts";
import type { StepperRngState } from "./pretrain_step.ts";

/** Contents of `train_state{s:09d}.json`. */
export interface TrainState {
  step: number;
  loader: LoaderState;
  rng: StepperRngState;
}

/** Everything a checkpoint holds, on the host. */
export interface TrainCheckpoint {
  model: StateDict;
  /** EMA weights, or null without EMA. */
  modelAvg: StateDict | null;
  opt: AdamWState;
  state: TrainState;
}

const pad9 = (s: number) => String(s).padStart(9, "0");

/** `model{step:09d}.pt` in `dir`. */
export function modelPath(dir: string, step: number): string {
  return join(dir, `model${pad9(step)}.pt`);
}

/** Writes the three files of a checkpoint (state file last). */
export async function saveTrainCheckpoint(dir: string, c: TrainCheckpoint): Promise<void> {
  const s = c.state.step;
  if (c.opt.step !== s) {
    throw new RangeError(`Cannot save checkpoint: optimiser step ${c.opt.step} is not ${s}`);
  }
  const model = new Map([["model", c.model], ["model_avg", c.modelAvg ?? c.model]]);
  if (c.modelAvg) await saveTorchNested(modelPath(dir, s), model);
  else await saveTorchStateDict(modelPath(dir, s), c.model);
  await saveTorchNested(
    join(dir, `opt${pad9(s)}.pt`),
    new Map([["exp_avg", c.opt.m], ["exp_avg_sq", c.opt.v]]),
  );
  const json = JSON.stringify(c.state, null, 2) + "\n";
  await writeFileAtomic(join(dir, `train_state${pad9(s)}.json`), new TextEncoder().encode(json));
}

/** The step of the newest complete checkpoint in `dir`, or null (also when `dir` is missing). */
export async function latestCheckpointStep(dir: string): Promise<number | null> {
  let best: number | null = null;
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^train_state(\d{9})\.json$/.exec(e.name);
      if (m && e.isFile) best = Math.max(best ?? 0, Number(m[1]));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return best;
}

/** Reads the checkpoint after `step` completed steps. */
export async function loadTrainCheckpoint(dir: string, step: number): Promise<TrainCheckpoint> {
  const statePath = join(dir, `train_state${pad9(step)}.json`);
  const state = JSON.parse(await Deno.readTextFile(statePath)) as TrainState;
  if (state.step !== step || !state.loader || !state.rng) {
    throw new TypeError(`Cannot resume from "${statePath}": step, loader or rng is missing`);
  }
  const mPath = modelPath(dir, step);
  const raw = await loadTorchFile(mPath);
  const hasAvg = raw instanceof Map && raw.has("model_avg");
  const model = selectMdmStateDict(raw, mPath, { useAvg: false });
  const modelAvg = hasAvg ? selectMdmStateDict(raw, mPath, { useAvg: true }) : null;
  const oPath = join(dir, `opt${pad9(step)}.pt`);
  const optRaw = await loadTorchFile(oPath);
  const opt: AdamWState = {
    step,
    m: nestedStateDict(optRaw, "exp_avg", oPath),
    v: nestedStateDict(optRaw, "exp_avg_sq", oPath),
  };
  return { model, modelAvg, opt, state };
}
