/**
 * What `deno task eval-humanml` does after its flags are validated: find the encoders, open the
 * device, load the test split (or the composite file), the model, run the protocol, print the
 * table and write the result JSON (`<model dir>/eval_<mode>.json`, or
 * `eval_<mode>_composite_k<K>.json` with a composite dataset).
 *
 * Order matters for the user: what this version cannot do (CLIP conditioning, the official
 * evaluator) is reported before any device is opened or data is read.
 * @module
 */
import { dirname, join } from "node:path";
import type { DeviceRequest } from "../../cli/_flags.ts";
import { readComposite } from "../../datasets/composite/layout.ts";
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import { type DatasetName, datasetOptions } from "../../datasets/humanml/options.ts";
import { loadNpy, npyToFloat32 } from "../../datasets/npy.ts";
import { ddpmPlan } from "../../diffusion/plan.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { type EvalMode, type EvalProtocol, resolveProtocol } from "../protocol.ts";
import { evaluateComposite } from "./evaluate_composite.ts";
import { evaluateModel } from "./evaluate_model.ts";
import {
  conditioningProblem,
  loadDenoiser,
  loadEvaluator,
  loadFeaturizer,
  locateEvaluator,
  T2M_EVALUATOR_MISSING,
  UnavailableError,
} from "./load_assets.ts";
import { openBackend } from "./open_backend.ts";
import { evaluationJson, evaluationTable, writeEvaluationJson } from "./result_json.ts";
import { readArgsJson } from "../../models/checkpoint/mdm_checkpoint.ts";

/** The validated flags the evaluation uses. */
export interface EvalHumanmlRun {
  model_path: string;
  dataset: DatasetName;
  data_dir: string | null;
  eval_mode: EvalMode;
  guidance_param: number;
  use_composite_dataset: boolean;
  composite_data_path: string | null;
  composite_k_segments: number;
  seed: number;
  device: DeviceRequest;
  /** Result file; default beside the model (see the module doc). */
  output?: string;
  /** Replaces the protocol of `eval_mode` (smaller runs in tests); the mode's name is kept. */
  protocol?: EvalProtocol;
}

/** Where the run wrote its result, and the printed table. */
export interface EvalHumanmlOutcome {
  output: string;
  table: string;
}

/**
 * Runs the evaluation. Throws {@linkcode UnavailableError} (one line) when the model's text
 * encoder or the evaluator is not available in this version.
 */
export async function runEvalHumanml(
  f: EvalHumanmlRun,
  log: (line: string) => void = console.log,
): Promise<EvalHumanmlOutcome> {
  const args = await readArgsJson(f.model_path);
  const missing: string[] = [];
  const conditioning = conditioningProblem(args);
  if (conditioning !== null) missing.push(conditioning);
  const evaluatorDir = await locateEvaluator().catch((err) => {
    if (!(err instanceof UnavailableError)) throw err;
    missing.push(T2M_EVALUATOR_MISSING);
    return null;
  });
  if (missing.length > 0 || evaluatorDir === null) {
    throw new UnavailableError(
      `Cannot evaluate "${f.model_path}": ${missing.join(" and ")} ` +
        `${missing.length > 1 ? "are" : "is"} not available in this version ` +
        "(the mini profile's models run end to end)",
    );
  }
  if (args.noise_schedule !== "cosine") {
    throw new RangeError(
      `Cannot evaluate "${f.model_path}": noise_schedule "${args.noise_schedule}" in args.json ` +
        "is not supported (only cosine)",
    );
  }
  const protocol = f.protocol ?? resolveProtocol(f.eval_mode);
  const { backend, description } = await openBackend(f.device);
  log(`device: ${description}`);
  const featurizer = await loadFeaturizer(args, backend);
  const evaluator = await loadEvaluator(evaluatorDir, backend);
  log(`text features: ${featurizer.name}; evaluator: ${evaluator.name} (${evaluatorDir})`);
  const dataRoot = datasetOptions(f.dataset, f.data_dir ?? undefined).dataRoot;
  const model = await loadDenoiser(backend, f.model_path, args, featurizer, {
    maxBatch: 2 * protocol.batchSize,
    maxFrames: 196,
  });
  const plan = ddpmPlan(cosineTables(args.diffusion_steps));
  const common = {
    model,
    featurizer,
    evaluator,
    protocol,
    guidance: f.guidance_param,
    seed: f.seed,
    plan,
    log,
  };
  const meta = {
    model_path: f.model_path,
    dataset: f.dataset,
    data_dir: dataRoot,
    eval_mode: f.eval_mode,
    composite_data_path: f.use_composite_dataset ? f.composite_data_path : null,
    device: description,
  };
  let result;
  let output = f.output;
  if (f.use_composite_dataset) {
    const path = f.composite_data_path!;
    const samples = await readComposite(path);
    const bad = samples.findIndex((s) => s.lengths.length !== f.composite_k_segments);
    if (bad >= 0) {
      throw new RangeError(
        `Cannot use --composite_k_segments ${f.composite_k_segments}: sample ${bad} of "${path}" ` +
          `has ${samples[bad].lengths.length} segments`,
      );
    }
    const mean = await stat(`${dataRoot}/Mean.npy`, model.nfeats);
    const std = await stat(`${dataRoot}/Std.npy`, model.nfeats);
    log(`composite: ${samples.length} samples of K = ${f.composite_k_segments} from ${path}`);
    result = await evaluateComposite({ ...common, samples, mean, std });
    output ??= join(
      dirname(f.model_path),
      `eval_${f.eval_mode}_composite_k${f.composite_k_segments}.json`,
    );
  } else {
    const dataset = await HumanMLDataset.load({
      dataset: f.dataset,
      dataRoot,
      split: "test",
      seed: f.seed,
    });
    if (dataset.mean.length !== model.nfeats) {
      throw new RangeError(
        `Cannot evaluate "${f.model_path}" on ${dataRoot}: the model has ${model.nfeats} ` +
          `features, the dataset ${dataset.mean.length}`,
      );
    }
    log(`test split: ${dataset.length} items from ${dataRoot}`);
    result = await evaluateModel({ ...common, dataset });
    output ??= join(dirname(f.model_path), `eval_${f.eval_mode}.json`);
  }
  const table = evaluationTable(result);
  await writeEvaluationJson(output, evaluationJson(result, meta));
  return { output, table };
}

async function stat(path: string, F: number): Promise<Float32Array> {
  const v = npyToFloat32(await loadNpy(path), path);
  if (v.length !== F) {
    throw new RangeError(`Cannot use "${path}": ${v.length} values, the model has ${F} features`);
  }
  return v;
}
