/**
 * Text → motion sampling to files (`deno task sample`): for every repetition one batch holding
 * all texts is generated (noise stream `(seed, 0, 0, repetition)`), and every motion is saved as
 *
 * - `sample{i}_rep{r}.npy`: raw (un-normalised) features `(length, F)` float32, HumanML3D/KIT layout;
 * - `sample{i}_rep{r}_joints.npy`: joint positions `(length, J, 3)` float32 (`recoverFromRic`);
 *
 * with `i` the text's index and `r` the repetition (two digits), plus one page `samples.html`
 * drawing every motion side by side (rows of one text's repetitions, in text order) and
 * `samples.json` listing texts, settings and files. Every file is written atomically.
 * @module
 */
import type { Denoiser } from "../../diffusion/denoiser.ts";
import type { SamplingPlan } from "../../diffusion/plan.ts";
import { saveNpy } from "../../datasets/npy.ts";
import { recoverFromRic } from "../../datasets/motion/recover.ts";
import { specForFeatures } from "../../datasets/motion/skeleton.ts";
import { writeFileAtomic } from "../../models/checkpoint/write_file_atomic.ts";
import { panelFromFeatures } from "../../viz/motion_file.ts";
import { saveMotionAnimation } from "../../viz/motion_page.ts";
import type { MotionPanel } from "../../viz/motion_svg.ts";
import { type Featurizer, generateMotions } from "./generate.ts";
import { defaultEvalPlan } from "./evaluate_model.ts";
import { noiseStream } from "./_streams.ts";

/** Inputs of {@linkcode sampleToFiles}. */
export interface SampleOptions {
  model: Denoiser;
  featurizer: Featurizer;
  texts: readonly string[];
  /** Frames per motion. */
  length: number;
  /** Motions per text. */
  repetitions: number;
  seed: number;
  /** Classifier-free guidance scale. */
  guidance: number;
  /** Dataset statistics (F) of the model's normalised features. */
  mean: Float32Array;
  std: Float32Array;
  /** Folder to write into (created). */
  outputDir: string;
  /** Default DDPM over the 50-step cosine schedule. */
  plan?: SamplingPlan;
}

/** One saved motion. */
export interface SampledMotion {
  text: string;
  textIndex: number;
  repetition: number;
  /** `(length, F)` raw features. */
  features: string;
  /** `(length, J, 3)` joint positions. */
  joints: string;
}

/** What {@linkcode sampleToFiles} wrote. */
export interface SampleResult {
  motions: SampledMotion[];
  /** The HTML page drawing every motion. */
  page: string;
  /** The JSON index of the run. */
  index: string;
}

/** Generates and saves the motions; see the module doc. */
export async function sampleToFiles(o: SampleOptions): Promise<SampleResult> {
  const N = o.texts.length, T = o.length, F = o.model.nfeats;
  if (N === 0) throw new RangeError("Cannot sample: no --text given");
  if (!Number.isInteger(o.repetitions) || o.repetitions < 1 || o.repetitions > 256) {
    throw new RangeError(
      `Cannot sample: --num_repetitions ${o.repetitions} is not an integer in [1, 256]`,
    );
  }
  const spec = specForFeatures(F);
  const plan = o.plan ?? defaultEvalPlan();
  await Deno.mkdir(o.outputDir, { recursive: true });
  const dir = o.outputDir.replace(/\/+$/, "");
  const lengths = new Int32Array(N).fill(T); // (N)
  const byText: SampledMotion[][] = Array.from({ length: N }, () => []);
  const panels: MotionPanel[][] = Array.from({ length: N }, () => []);
  for (let r = 0; r < o.repetitions; r++) {
    const raw = await generateMotions(o.model, o.featurizer, o.texts, lengths, T, {
      plan,
      guidance: o.guidance,
      seed: o.seed,
      stream: noiseStream(0, 0, r),
      mean: o.mean,
      std: o.std,
    }); // (N, T, F)
    for (let i = 0; i < N; i++) {
      const features = raw.slice(i * T * F, (i + 1) * T * F); // (T, F)
      const joints = recoverFromRic(features, T, spec); // (T, J, 3)
      const stem = `${dir}/sample${pad2(i)}_rep${pad2(r)}`;
      await saveNpy(`${stem}.npy`, { dtype: "<f4", shape: [T, F], data: features });
      await saveNpy(`${stem}_joints.npy`, {
        dtype: "<f4",
        shape: [T, spec.joints, 3],
        data: joints,
      });
      byText[i].push({
        text: o.texts[i],
        textIndex: i,
        repetition: r,
        features: `${stem}.npy`,
        joints: `${stem}_joints.npy`,
      });
      const { panel } = panelFromFeatures(features, T, F, o.texts[i]);
      panels[i].push({ ...panel, label: `repetition ${r}` });
    }
  }
  const page = `${dir}/samples.html`;
  await saveMotionAnimation(page, panels.flat(), {
    fps: spec.fps,
    title: `${N} text(s) x ${o.repetitions} repetition(s), seed ${o.seed}`,
  });
  const motions = byText.flat();
  const index = `${dir}/samples.json`;
  const json = {
    texts: [...o.texts],
    length: T,
    fps: spec.fps,
    num_repetitions: o.repetitions,
    seed: o.seed,
    guidance_param: o.guidance,
    plan: { kind: plan.kind, steps: plan.steps.length },
    text_featurizer: o.featurizer.name,
    page: "samples.html",
    motions: motions.map((m) => ({
      text_index: m.textIndex,
      repetition: m.repetition,
      features: basename(m.features),
      joints: basename(m.joints),
    })),
  };
  await writeFileAtomic(index, new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n"));
  return { motions, page, index };
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
