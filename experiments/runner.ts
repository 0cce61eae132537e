/**
 * The experiment runner: `runManifest(m, "run")` replays a train-grpo manifest's stages into
 * `runs/<name>/` (assets → train → eval) with a lock of every input and output hash;
 * `runManifest(m, "verify")` reruns into a fresh folder and compares with the expected numbers;
 * `recordRun` copies a run's results into the manifest's `expected`.
 *
 * Stages are skipped DVC-style: a stage whose recorded outputs still hash the same (and whose
 * inputs did not change) is not rerun. A changed input stops the run naming both hashes.
 * @module
 */
import { exists } from "../io/exists.ts";
import { type HeldOutComparison, heldOutLine, readHeldOut } from "./held_out_summary.ts";
import { join } from "node:path";
import type { TrainGrpoOptions } from "../train/grpo/trainer.ts";
import type { EvalProtocol } from "../eval/protocol.ts";
import { writeJsonAtomic, writeTextAtomic } from "./_atomic.ts";
import { manifestId } from "./hash.ts";
import { changesSinceLastRun } from "./last_run.ts";
import { hashPath } from "./lock.ts";
import { expandVars, type ManifestVars, MINI_DIR, stageArgs } from "./manifest.ts";
import { type MetricValue, reportHtml } from "./run_report.ts";
import { RUNS_DIR, type VerifyRecord } from "./run_record.ts";
import type { Manifest } from "./schema.ts";

/** A run or verify that this version cannot perform; the message is the one line to show. */
export class RunnerUnavailableError extends Error {
  /** Creates the error with its whole message. */
  constructor(message: string) {
    super(message);
    this.name = "RunnerUnavailableError";
  }
}

/** An input whose hash differs from the pinned or last locked one. */
export class InputChangedError extends Error {
  /** Creates the error with its whole message. */
  constructor(message: string) {
    super(message);
    this.name = "InputChangedError";
  }
}

/** Where a run reads and writes, and test hooks. */
export interface RunnerOptions {
  /** Folder of `runs/<name>/` (default {@link RUNS_DIR}). */
  runsDir?: string;
  /** Use this run folder instead of `<runsDir>/<name>`. */
  runDir?: string;
  /** `$MINI` (default {@link MINI_DIR}). */
  mini?: string;
  /** `$MINI_ASSETS` (default `assets/mini`). */
  miniAssets?: string;
  /** `$ASSETS` (paper profile). */
  assets?: string;
  /** Extra options of the trainer. */
  trainOptions?: TrainGrpoOptions;
  /** Progress lines (default console.error). */
  log?: (line: string) => void;
  /** `verify --checkpoint FILE`: evaluate this checkpoint instead of training. */
  checkpoint?: string;
}

/** `results.json` of a run. */
export interface RunResults {
  name: string;
  manifest_id: string;
  device_class: string;
  created: string;
  /** SHA-256 of `model_final.pt`. */
  checkpoint_sha256: string;
  reward: {
    steps: number;
    first_mean: number;
    last_mean: number;
    /** Paired held-out comparison (train-grpo `--eval_interval`), when the run made one. */
    held_out?: HeldOutComparison | null;
  };
  metrics: { base: Record<string, MetricValue>; finetuned: Record<string, MetricValue> };
}

/** `lock.json` of a run. */
export interface RunLock {
  manifest_id: string;
  inputs: Record<string, { path: string; sha256: string }>;
  stages: Record<string, Record<string, string>>;
}

function defaultProtocol(m: Manifest): EvalProtocol {
  const e = m.mini?.eval ?? {
    replications: 20,
    batch_size: 32,
    num_samples_limit: 1000,
    diversity_times: 300,
  };
  return {
    replications: e.replications,
    numSamplesLimit: e.num_samples_limit,
    batchSize: e.batch_size,
    diversityTimes: e.diversity_times,
    runMultimodality: false,
    mmNumSamples: 0,
    mmNumRepeats: 0,
    mmNumTimes: 0,
  };
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function hashOrNull(path: string): Promise<string | null> {
  try {
    return (await hashPath(path)).sha256;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** The dataset's identity: the `key` of its generator manifest (null when not generated). */
async function datasetKey(dir: string): Promise<string | null> {
  const j = await readJson<{ key?: string }>(join(dir, "manifest.json"));
  return typeof j?.key === "string" ? j.key : null;
}

function summaryOf(json: Record<string, unknown>): Record<string, MetricValue> {
  const model = (json.summary as Record<string, Record<string, { mean: number; interval: number }>>)
    .model;
  const out: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(model)) out[k] = { mean: v.mean, interval: v.interval };
  return out;
}

/** Runs the stages of `m` into its run folder; returns the results. */
export async function runExperiment(m: Manifest, o: RunnerOptions = {}): Promise<RunResults> {
  if (m.command !== "train-grpo") {
    throw new RunnerUnavailableError(
      `Cannot run ${m.name}: only train-grpo manifests run in this version (${m.command})`,
    );
  }
  const log = o.log ?? ((s: string) => console.error(s));
  // Loaded on demand: importing the trainer and the evaluation probes for WebGPU, which
  // `exp list|show|diff` (and this module's importers) must not do.
  const { makeMiniDataset } = await import("../datasets/mini/make_mini_dataset.ts");
  const { parseTrainGrpoArgs } = await import("../cli/train_grpo.ts");
  const { trainGrpo, resumeProblem } = await import("../train/grpo/trainer.ts");
  const { readMetricsJsonl } = await import("../train/metrics/read_jsonl.ts");
  const { runEvalHumanml } = await import("../eval/run/run_eval_humanml.ts");
  const runDir = o.runDir ?? join(o.runsDir ?? RUNS_DIR, m.name);
  await Deno.mkdir(runDir, { recursive: true });
  const vars: ManifestVars = {
    mini: o.mini ?? MINI_DIR,
    miniAssets: o.miniAssets,
    assets: o.assets,
    run: runDir,
  };
  const id = await manifestId(m);
  const lockPath = join(runDir, "lock.json");
  const old = await readJson<RunLock>(lockPath);
  const prev = old?.manifest_id === id ? old : null;
  await writeJsonAtomic(join(runDir, "manifest.json"), m);
  const lock: RunLock = { manifest_id: id, inputs: {}, stages: {} };
  const assetsStage = m.stages.find((s) => s.name === "assets");
  const generated = new Set(assetsStage?.outputs ?? []);

  // Inputs: pinned hashes (or the last lock's) must match; the generated dataset is hashed by
  // its generator key after the assets stage.
  for (const [role, input] of Object.entries(m.inputs)) {
    if (generated.has(input.path)) continue;
    const path = expandVars(input.path, vars);
    const found = await hashOrNull(path);
    if (found === null) {
      throw new Deno.errors.NotFound(`Cannot run ${m.name}: input ${role} "${path}" is missing`);
    }
    const want = input.sha256 ?? prev?.inputs[role]?.sha256 ?? null;
    if (want !== null && want !== found) {
      const where = input.sha256 ? "the manifest pins" : `the last run (${lockPath}) used`;
      throw new InputChangedError(
        `Cannot run ${m.name}: input ${role} "${path}" changed: ${where} sha256 ${want}, ` +
          `found ${found}`,
      );
    }
    lock.inputs[role] = { path: input.path, sha256: found };
  }

  // Stage assets: the generated dataset.
  for (const out of assetsStage?.outputs ?? []) {
    const dir = expandVars(out, vars);
    const before = await datasetKey(dir);
    const recorded = prev?.stages.assets?.[out];
    if (before !== null && recorded === before) {
      log(`assets: ${dir} unchanged (key ${before.slice(0, 12)}), skipped`);
    } else {
      log(`assets: generating ${dir}`);
      await makeMiniDataset({
        outputDir: dir,
        ...(m.mini?.dataset_clips ? { numClips: m.mini.dataset_clips } : {}),
        log: () => {},
      });
    }
    const key = await datasetKey(dir);
    if (key === null) throw new Error(`Cannot run ${m.name}: "${dir}" has no manifest.json`);
    lock.stages.assets = { ...lock.stages.assets, [out]: key };
    const role = Object.entries(m.inputs).find(([, i]) => i.path === out)?.[0];
    if (role !== undefined) {
      const want = m.inputs[role].sha256 ?? null;
      if (want !== null && want !== key) {
        throw new InputChangedError(
          `Cannot run ${m.name}: input ${role} "${dir}" changed: the manifest pins key ${want}, ` +
            `found ${key}`,
        );
      }
      lock.inputs[role] = { path: out, sha256: key };
    }
  }
  await writeJsonAtomic(lockPath, lock);

  // Stage train.
  const trainIndex = m.stages.findIndex((s) => s.args.includes("$PARAMS"));
  const cfg = parseTrainGrpoArgs(stageArgs(m, trainIndex, vars));
  const saveDir = cfg.flags.save_dir!;
  const finalPath = join(saveDir, "model_final.pt");
  let modelPath = finalPath;
  if (o.checkpoint !== undefined) {
    modelPath = o.checkpoint;
    log(`train: skipped, evaluating ${modelPath}`);
  } else {
    const recorded = prev?.stages.train?.[finalPath];
    const inputsSame = prev !== null &&
      JSON.stringify(prev.inputs) === JSON.stringify(lock.inputs);
    if (inputsSame && recorded !== undefined && recorded === await hashOrNull(finalPath)) {
      log(`train: ${finalPath} unchanged, skipped`);
    } else {
      // Checkpoints left by a run of another manifest (or other inputs) cannot be resumed:
      // start over. A killed run of this manifest with these inputs resumes from its last one.
      const problem = await resumeProblem(saveDir, cfg.flags);
      if ((!inputsSame || problem !== null) && await exists(saveDir)) {
        log(`train: starting over in ${saveDir}: ${problem ?? "its inputs changed"}`);
        await Deno.remove(saveDir, { recursive: true });
      }
      await trainGrpo(cfg, {
        saveInterval: m.mini?.save_interval,
        trainSteps: m.mini?.train_steps ?? null,
        log,
        progress: true,
        ...o.trainOptions,
      });
    }
  }
  const checkpointSha = (await hashPath(modelPath)).sha256;
  lock.stages.train = { [modelPath]: checkpointSha };
  await writeJsonAtomic(lockPath, lock);

  // Stage eval: base and fine-tuned, same protocol and seed.
  const protocol = defaultProtocol(m);
  const common = {
    dataset: cfg.flags.dataset,
    data_dir: cfg.flags.data_dir ?? null,
    eval_mode: "wo_mm" as const,
    guidance_param: 2.5,
    use_composite_dataset: false,
    composite_data_path: null,
    composite_k_segments: 3,
    seed: m.seed,
    device: cfg.device,
    protocol,
  };
  const evals: Record<string, Record<string, MetricValue>> = {};
  const tables: string[] = [];
  const trainSame = prev !== null &&
    JSON.stringify(prev.inputs) === JSON.stringify(lock.inputs) &&
    JSON.stringify(prev.stages.train) === JSON.stringify(lock.stages.train);
  for (const [which, path] of [["base", cfg.flags.model_path!], ["finetuned", modelPath]]) {
    const output = join(runDir, `eval_${which}.json`);
    const recorded = prev?.stages.eval?.[output];
    if (trainSame && recorded !== undefined && recorded === await hashOrNull(output)) {
      log(`eval: ${output} unchanged, skipped`);
    } else {
      const r = await runEvalHumanml({ ...common, model_path: path, output }, log);
      tables.push(`${which}:\n${r.table}`);
    }
    evals[which] = summaryOf(JSON.parse(await Deno.readTextFile(output)));
    lock.stages.eval = { ...lock.stages.eval, [output]: (await hashPath(output)).sha256 };
  }

  // Drawn samples: base vs fine-tuned for two test texts, same seed.
  const texts = await testTexts(cfg.flags.data_dir ?? "", 2);
  const panels = [];
  const { runSample } = await import("../eval/run/run_sample.ts");
  const { loadMotionPanel } = await import("../viz/motion_file.ts");
  const { renderMotionSvg } = await import("../viz/motion_svg.ts");
  for (const [which, path] of [["base", cfg.flags.model_path!], ["fine-tuned", modelPath]]) {
    const s = await runSample({
      model_path: path,
      texts,
      length: SAMPLE_FRAMES,
      num_repetitions: 1,
      output_dir: join(runDir, `samples_${which}`),
      seed: m.seed,
      guidance_param: 2.5,
      dataset: cfg.flags.dataset,
      data_dir: cfg.flags.data_dir ?? null,
      device: cfg.device,
    }, () => {});
    for (const mo of s.motions) {
      panels.push((await loadMotionPanel(mo.features, `${which}: ${mo.text}`)).panel);
    }
  }
  const samplesSvg = renderMotionSvg(panels, { fps: cfg.flags.fps, title: "samples" });

  // Reward curve.
  const records = await readMetricsJsonl(join(saveDir, "metrics.jsonl")).catch(() => []);
  const rewards = records.map((r) => r.metrics.mean_reward).filter((v) => v !== undefined);
  const tenth = Math.max(1, Math.round(rewards.length / 10));
  const mean = (a: number[]) => a.length ? a.reduce((s, v) => s + v, 0) / a.length : NaN;
  const heldOut = await readHeldOut(join(saveDir, "held_out.jsonl"));
  const results: RunResults = {
    name: m.name,
    manifest_id: id,
    device_class: cfg.device.kind === "cpu" ? "cpu" : cfg.device.kind,
    created: new Date().toISOString(),
    checkpoint_sha256: checkpointSha,
    reward: {
      steps: rewards.length,
      first_mean: mean(rewards.slice(0, tenth)),
      last_mean: mean(rewards.slice(-tenth)),
      held_out: heldOut,
    },
    metrics: { base: evals.base, finetuned: evals.finetuned },
  };
  const resultsPath = join(runDir, "results.json");
  await writeJsonAtomic(resultsPath, results);
  const reportPath = join(runDir, "report.html");
  await writeTextAtomic(
    reportPath,
    reportHtml({
      name: m.name,
      title: m.title,
      manifestId: id,
      rewards,
      base: evals.base,
      finetuned: evals.finetuned,
      samplesSvg,
      heldOut: heldOut === null ? undefined : heldOutLine(heldOut),
    }),
  );
  lock.stages.report = {
    [resultsPath]: (await hashPath(resultsPath)).sha256,
    [reportPath]: (await hashPath(reportPath)).sha256,
  };
  await writeJsonAtomic(lockPath, lock);
  if (tables.length > 0) console.log(tables.join("\n\n"));
  console.log(metricTable(evals.base, evals.finetuned));
  console.log(
    `reward: first 10% ${results.reward.first_mean.toFixed(4)}, last 10% ` +
      `${results.reward.last_mean.toFixed(4)} over ${rewards.length} steps`,
  );
  if (heldOut !== null) console.log(heldOutLine(heldOut));
  return results;
}

/** Base vs fine-tuned, one metric a row, mean ± 95% interval. */
export function metricTable(
  base: Record<string, MetricValue>,
  tuned: Record<string, MetricValue>,
): string {
  const f = (v: MetricValue | undefined) =>
    v === undefined ? "–" : `${v.mean.toFixed(4)} ± ${v.interval.toFixed(4)}`;
  const rows = Object.keys(base).map((k) => [k, f(base[k]), f(tuned[k])]);
  const all = [["metric", "base", "fine-tuned"], ...rows];
  const w = [0, 1, 2].map((i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => c.padEnd(w[i])).join("  ")).join("\n");
}

/** Frames of each drawn sample in the report. */
const SAMPLE_FRAMES = 60;

/** The first caption of the first `n` test items of the dataset (fixed texts as a fallback). */
async function testTexts(dataDir: string, n: number): Promise<string[]> {
  const fallback = ["a person walks forward", "a person jumps in place"].slice(0, n);
  try {
    const ids = (await Deno.readTextFile(join(dataDir, "test.txt"))).split("\n")
      .map((l) => l.trim()).filter((l) => l !== "").slice(0, n);
    const out: string[] = [];
    for (const id of ids) {
      const line = (await Deno.readTextFile(join(dataDir, "texts", `${id}.txt`))).split("\n")[0];
      out.push(line.split("#")[0].trim());
    }
    return out.length === n ? out : fallback;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return fallback;
    throw e;
  }
}

/** One row of the verify table. */
export interface VerifyRow {
  metric: string;
  published: number;
  rerun: number;
  difference: number;
  ok: boolean;
}

/**
 * Compares `rerun` with the expected values: exactly when `exact`, else within the recorded
 * 95% interval (or tolerance).
 */
export function compareResults(
  expected: Record<string, { value: number; interval?: number; tolerance?: number }>,
  rerun: Record<string, number>,
  exact: boolean,
): VerifyRow[] {
  return Object.entries(expected).map(([metric, e]) => {
    const r = rerun[metric] ?? NaN;
    const diff = r - e.value;
    const allowed = exact ? 0 : (e.interval ?? e.tolerance ?? 0);
    return {
      metric,
      published: e.value,
      rerun: r,
      difference: diff,
      ok: Math.abs(diff) <= allowed,
    };
  });
}

/** Flattens results into the metric names `expected` uses (`finetuned.fid`, `checkpoint`...). */
export function flatMetrics(r: RunResults): Record<string, number> {
  const out: Record<string, number> = {};
  for (const which of ["base", "finetuned"] as const) {
    for (const [k, v] of Object.entries(r.metrics[which])) out[`${which}.${k}`] = v.mean;
  }
  out["reward.first_mean"] = r.reward.first_mean;
  out["reward.last_mean"] = r.reward.last_mean;
  const h = r.reward.held_out;
  if (h) {
    out["reward.held_out_base"] = h.base;
    out["reward.held_out_finetuned"] = h.finetuned;
    out["reward.held_out_diff"] = h.diff;
  }
  return out;
}

/** The side-by-side table of `verify`. */
export function formatVerify(rows: VerifyRow[]): string {
  const head = ["metric", "published", "rerun", "difference", "verdict"];
  const body = rows.map((r) => [
    r.metric,
    String(r.published),
    String(r.rerun),
    r.difference.toExponential(3),
    r.ok ? "ok" : "MISMATCH",
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(w[i])).join("  ")).join("\n");
}

/**
 * Reruns `m` into a fresh temporary folder and compares with `expected` (and the last run's
 * checkpoint hash). Writes `verify.json`; returns whether it passed.
 */
export async function verifyExperiment(m: Manifest, o: RunnerOptions = {}): Promise<boolean> {
  const runsDir = o.runsDir ?? RUNS_DIR;
  const last = await readJson<RunResults>(join(runsDir, m.name, "results.json"));
  const expected: Record<string, { value: number; interval?: number; tolerance?: number }> = {};
  for (const [k, v] of Object.entries(m.expected?.metrics ?? {})) expected[k] = v;
  if (Object.keys(expected).length === 0 && last !== null) {
    for (const [k, v] of Object.entries(flatMetrics(last))) {
      expected[k] = { value: v };
    }
  }
  if (Object.keys(expected).length === 0) {
    throw new RunnerUnavailableError(
      `Cannot verify ${m.name}: nothing to compare with: record expected numbers first ` +
        `(deno task exp run ${m.name}, then deno task exp record ${m.name})`,
    );
  }
  // A changed parameter or input byte would only show up as a metric mismatch after the whole
  // rerun: name it first (the rerun goes to a fresh folder, which has no lock to check against).
  const since = await changesSinceLastRun(m, o);
  if (since.changes.length > 0) {
    throw new InputChangedError(
      `Cannot verify ${m.name}: ${since.changes.length} difference${
        since.changes.length === 1 ? "" : "s"
      } from the last run (${since.lockPath}):\n` +
        since.changes.map((c) => `  ${c}`).join("\n") +
        `\nrun it again to accept them (deno task exp run ${m.name}; for a changed input, delete ` +
        `${since.lockPath} first), then record (deno task exp record ${m.name})`,
    );
  }
  const tmp = await Deno.makeTempDir({ prefix: `verify-${m.name}-` });
  try {
    const r = await runExperiment(m, { ...o, runDir: tmp });
    const recordedClass = last?.device_class ?? "cpu";
    const exact = recordedClass === r.device_class;
    const flat = flatMetrics(r);
    // `--checkpoint` evaluates a given model without training: the training's reward metrics
    // are not rerun, so they are left out of the comparison (and said to be).
    const compared = o.checkpoint === undefined
      ? expected
      : Object.fromEntries(Object.entries(expected).filter(([k]) => !k.startsWith("reward.")));
    const rows = compareResults(compared, flat, exact);
    if (last !== null && o.checkpoint === undefined && exact) {
      rows.push({
        metric: "checkpoint_sha256 (equal = 1)",
        published: 1,
        rerun: last.checkpoint_sha256 === r.checkpoint_sha256 ? 1 : 0,
        difference: last.checkpoint_sha256 === r.checkpoint_sha256 ? 0 : -1,
        ok: last.checkpoint_sha256 === r.checkpoint_sha256,
      });
    }
    const passed = rows.every((x) => x.ok);
    console.log(formatVerify(rows));
    const skipped = Object.keys(expected).length - Object.keys(compared).length;
    if (skipped > 0) {
      console.log(`${skipped} training reward metrics not rerun (--checkpoint evaluates only)`);
    }
    console.log(
      `${passed ? "PASSED" : "FAILED"} (${
        exact ? "exact, same device class" : "within 95% interval"
      })`,
    );
    const record: VerifyRecord = {
      manifest_id: r.manifest_id,
      passed,
      mode: exact ? "exact" : "interval",
      device_class: r.device_class,
      created: new Date().toISOString(),
    };
    await Deno.mkdir(join(runsDir, m.name), { recursive: true });
    await writeJsonAtomic(join(runsDir, m.name, "verify.json"), record);
    return passed;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * `exp record`: the manifest with `expected` set from the last run's results (value and 95%
 * interval of each metric), with provenance (commit, device class, date).
 */
export async function recordedManifest(m: Manifest, o: RunnerOptions = {}): Promise<Manifest> {
  const runsDir = o.runsDir ?? RUNS_DIR;
  const r = await readJson<RunResults>(join(runsDir, m.name, "results.json"));
  if (r === null) {
    throw new Deno.errors.NotFound(
      `Cannot record ${m.name}: no results.json in ${join(runsDir, m.name)}: run it first`,
    );
  }
  const out = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], stderr: "null" })
    .output().catch(() => null);
  const commit = out?.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  const provenance = `recorded run: commit ${commit}, device ${r.device_class}, ${r.created}`;
  const metrics: Record<string, { value: number; interval?: number; provenance: string }> = {};
  for (const which of ["base", "finetuned"] as const) {
    for (const [k, v] of Object.entries(r.metrics[which])) {
      metrics[`${which}.${k}`] = { value: v.mean, interval: v.interval, provenance };
    }
  }
  metrics["reward.first_mean"] = { value: r.reward.first_mean, provenance };
  metrics["reward.last_mean"] = { value: r.reward.last_mean, provenance };
  const h = r.reward.held_out;
  if (h) {
    metrics["reward.held_out_base"] = { value: h.base, provenance };
    metrics["reward.held_out_finetuned"] = { value: h.finetuned, provenance };
    metrics["reward.held_out_diff"] = { value: h.diff, interval: h.interval, provenance };
  }
  return { ...m, expected: { metrics } };
}

/** Dispatch of `exp run` / `exp verify`; verify throws when it fails. */
export async function runManifest(
  m: Manifest,
  verb: "run" | "verify",
  o: RunnerOptions = {},
): Promise<void> {
  if (verb === "run") {
    await runExperiment(m, o);
    return;
  }
  if (!(await verifyExperiment(m, o))) {
    throw new Error(`Verification of ${m.name} failed: see the table above`);
  }
}
