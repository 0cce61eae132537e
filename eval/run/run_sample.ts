/**
 * What `deno task sample` does after its flags are validated: load the model and its text
 * featurizer, the dataset's Mean/Std (to un-normalise), open the device, generate and save
 * (`sample.ts`).
 * @module
 */
import { dirname, join } from "node:path";
import type { DeviceRequest } from "../../cli/_flags.ts";
import { type DatasetName, datasetOptions } from "../../datasets/humanml/options.ts";
import { loadNpy, npyToFloat32 } from "../../datasets/npy.ts";
import { ddpmPlan } from "../../diffusion/plan.ts";
import { cosineTables } from "../../diffusion/schedule.ts";
import { checkModelConditioning, loadDenoiser, loadFeaturizer } from "./load_assets.ts";
import { openBackend } from "./open_backend.ts";
import { type SampleResult, sampleToFiles } from "./sample.ts";

/** The validated flags of a sampling run. */
export interface SampleRun {
  model_path: string;
  texts: string[];
  length: number;
  num_repetitions: number;
  /** Null: `<model dir>/samples_seed<seed>`. */
  output_dir: string | null;
  seed: number;
  guidance_param: number;
  dataset: DatasetName;
  data_dir: string | null;
  device: DeviceRequest;
}

/** Runs the sampling; returns the files written and the device used. */
export async function runSample(
  f: SampleRun,
  log: (line: string) => void = console.log,
): Promise<SampleResult & { outputDir: string }> {
  const args = await checkModelConditioning(f.model_path);
  const root = datasetOptions(f.dataset, f.data_dir ?? undefined).dataRoot.replace(/\/+$/, "");
  const mean = npyToFloat32(await loadNpy(`${root}/Mean.npy`), `${root}/Mean.npy`);
  const std = npyToFloat32(await loadNpy(`${root}/Std.npy`), `${root}/Std.npy`);
  const { backend, description } = await openBackend(f.device);
  log(`device: ${description}`);
  const featurizer = await loadFeaturizer(args, backend);
  const model = await loadDenoiser(backend, f.model_path, args, featurizer, {
    maxBatch: 2 * f.texts.length,
    maxFrames: f.length,
  });
  if (mean.length !== model.nfeats || std.length !== model.nfeats) {
    throw new RangeError(
      `Cannot un-normalise with "${root}": Mean/Std have ${mean.length}/${std.length} values, ` +
        `the model has ${model.nfeats} features`,
    );
  }
  const outputDir = f.output_dir ?? join(dirname(f.model_path), `samples_seed${f.seed}`);
  const result = await sampleToFiles({
    model,
    featurizer,
    texts: f.texts,
    length: f.length,
    repetitions: f.num_repetitions,
    seed: f.seed,
    guidance: f.guidance_param,
    mean,
    std,
    outputDir,
    plan: ddpmPlan(cosineTables(args.diffusion_steps)),
  });
  return { ...result, outputDir };
}
