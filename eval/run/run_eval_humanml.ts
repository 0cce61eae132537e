/**
 * What `deno task eval-humanml` does after its flags are validated: find the encoders, open the
 * device, load the test split (or the composite file), the model, run the protocol, print the
 * table and write the result JSON (`<model dir>/eval_<mode>.json`, or
 * `eval_<mode>_composite_k<K>.json` with a composite dataset).
 *
 * Networks: the model's text features and the evaluator follow its `args.json`
 * (load_assets.ts): a CLIP-conditioned (official MDM) model needs CLIP from
 * `$MOTION_GRPO_ASSETS/clip/` and is scored by the official T2M evaluator
 * (`$MOTION_GRPO_ASSETS/t2m/text_mot_match/model/finest.tar`, `glove/`,
 * `dataset/t2m_mean.npy`, `t2m_std.npy`; `kit...` for KIT-ML); a mini-profile model uses the
 * mini text encoder and evaluator. Whatever is missing is reported in one line, naming the
 * variable and the paths expected, before any device is opened or data is read.
 *
 * The official evaluator reads `word/POS` tokens: on the test split it embeds the tokens the
 * dataset's `texts/` files give each caption (`encodeTokens`, the exact protocol); with a
 * composite dataset it looks each sub-text up in the tokens stored in the composite file, and a
 * joined text ("A then B") gets the sub-texts' tokens joined by `then/ADV` (the tag a tagger
 * gives "then" there; an approximation, as the captions were tagged one by one).
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
import type { CompositeSample } from "../../datasets/composite/layout.ts";
import { evaluateComposite, joinSubTexts } from "./evaluate_composite.ts";
import { evaluateModel } from "./evaluate_model.ts";
import {
  conditioningProblem,
  findEvaluator,
  loadDenoiser,
  type LoadedEvaluator,
  loadEvaluator,
  loadFeaturizer,
  UnavailableError,
} from "./load_assets.ts";
import { openBackend } from "./open_backend.ts";
import { evaluationJson, evaluationTable, writeEvaluationJson } from "./result_json.ts";
import { type MdmArgs, readArgsJson } from "../../models/checkpoint/mdm_checkpoint.ts";
import type { Backend } from "../../kernels/backend.ts";
import type { TextMotionEncoder } from "../../rewards/encoder.ts";
import type { Featurizer } from "./generate.ts";

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
 * encoder or the evaluator cannot be found.
 */
export async function runEvalHumanml(
  f: EvalHumanmlRun,
  log: (line: string) => void = console.log,
): Promise<EvalHumanmlOutcome> {
  const args = await readArgsJson(f.model_path);
  const problems: string[] = [];
  const conditioning = conditioningProblem(args);
  if (conditioning !== null) {
    // CLIP's files can be missing; any other problem is a text encoder this code does not know.
    problems.push(
      `${conditioning} ${args.text_encoder_type === "clip" ? "was not found" : "is not supported"}`,
    );
  }
  const found = await findEvaluator(args, f.dataset);
  if ("problem" in found) problems.push(`${found.problem} was not found`);
  if (problems.length > 0 || "problem" in found) {
    throw new UnavailableError(`Cannot evaluate "${f.model_path}": ${problems.join("; ")}`);
  }
  if (args.noise_schedule !== "cosine") {
    throw new RangeError(
      `Cannot evaluate "${f.model_path}": noise_schedule "${args.noise_schedule}" in args.json ` +
        "is not supported (only cosine)",
    );
  }
  const where = found.location;
  const protocol = f.protocol ?? resolveProtocol(f.eval_mode);
  // Read before the device opens: a malformed file should not cost a backend.
  const samples = f.use_composite_dataset ? await readComposite(f.composite_data_path!) : null;
  const { backend, description } = await openBackend(f.device);
  log(`device: ${description}`);
  let featurizer: Featurizer | null = null;
  let evaluator: LoadedEvaluator | null = null;
  try {
    featurizer = await loadFeaturizer(args, backend);
    evaluator = await loadEvaluator(
      where,
      backend,
      samples === null ? undefined : compositeCaptionTokens(samples),
    );
    const from = where.profile === "official" ? where.files.evaluatorPath : where.dir;
    log(`text features: ${featurizer.name}; evaluator: ${evaluator.name} (${from})`);
    return await evaluate(
      f,
      args,
      protocol,
      backend,
      featurizer,
      evaluator,
      samples,
      description,
      log,
    );
  } finally {
    await evaluator?.release?.();
    await (featurizer as { release?: () => Promise<void> } | null)?.release?.();
  }
}

/**
 * Caption → `word/POS` tokens of a composite file: every sub-text with its stored tokens, and
 * every joined text with the sub-texts' tokens joined by `then/ADV` (see the module doc).
 */
export function compositeCaptionTokens(
  samples: readonly CompositeSample[],
): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const s of samples) {
    s.texts.forEach((t, k) => {
      if (!map.has(t)) map.set(t, s.tokens[k]);
    });
    const joined = joinSubTexts(s.texts);
    if (!map.has(joined)) {
      map.set(joined, s.tokens.flatMap((t, k) => k === 0 ? t : ["then/ADV", ...t]));
    }
  }
  return map;
}

async function evaluate(
  f: EvalHumanmlRun,
  args: MdmArgs,
  protocol: EvalProtocol,
  backend: Backend,
  featurizer: Featurizer,
  evaluator: TextMotionEncoder,
  samples: CompositeSample[] | null,
  description: string,
  log: (line: string) => void,
): Promise<EvalHumanmlOutcome> {
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
  if (samples !== null) {
    const path = f.composite_data_path!;
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
