/**
 * Writes `experiments/manifests/*.json` from the seed's usage guide: one manifest per distinct
 * command line of the guide (examples 1–8, the MDM-reward and TMR-normalisation variants,
 * composite construction/training/evaluation, the experiment table's commands and the
 * evaluation commands), plus the mini-profile twins `exp1`..`exp5` of the experiment table.
 *
 * Paths of the guide are relative to the seed repository's root: what a manifest itself writes
 * moves under `$RUN/`, what it reads under `$ASSETS/` (paper) or to the mini profile's files
 * (`$MINI/`). `params` holds the flags the line gives, plus the dataset root, the output folder
 * and the seed; every other flag takes the command's default (pinned by the code commit that a
 * run's lock records, and shown by `deno task exp show`). Writing the defaults out as well would
 * not do: the commands refuse options that do not act (`--noise_scale` without Flow-GRPO).
 *
 * Run: `deno run -A experiments/generate_manifests.ts [GUIDE.md]`, then `deno fmt` the folder.
 * @module
 */
import { extractSeedCommands, type SeedCommand } from "../cli/_seed_commands.ts";
import { type FlagSpec, parseFlagValue } from "../cli/_flags.ts";
import { COMMAND_FLAGS } from "./_command_flags.ts";
import { MANIFEST_DIR } from "./manifest.ts";
import {
  type Manifest,
  type ManifestCommand,
  type ManifestInput,
  type ManifestStage,
  type MiniScale,
  type ParamValue,
  validateManifest,
} from "./schema.ts";

/** The guide's default location, next to the project's spec. */
const DEFAULT_GUIDE = new URL("../../shared/seed/grpo_usage.zh.md", import.meta.url);

/** One manifest to write: the guide line of its main command and the lines of extra stages. */
interface Entry {
  line: number;
  name: string;
  title: string;
  description: string;
  notes?: string;
  assetsLine?: number;
  evalLine?: number;
  fix?: (params: Record<string, ParamValue>) => void;
}

const TABLE_NOTE = "Experiment table of the guide (MDM + TMR rewards, 1000 steps).";
const BETA_P_NOTE = " The guide's line leaves --beta_p at its default 0.1; the table's 0.0 is " +
  "pinned here (physics is off, so the value does not act).";

/** The experiment table's beta_p 0.0 for the rows without physics. */
function tableBetaP(p: Record<string, ParamValue>): void {
  p.beta_p = 0.0;
}

const ENTRIES: Entry[] = [
  {
    line: 36,
    name: "mdm-reward-matching",
    title: "GRPO with the MDM evaluator reward: matching score",
    description: "Quick start: reward from the T2M evaluator's text-motion distance (default).",
  },
  {
    line: 39,
    name: "mdm-reward-r-precision",
    title: "GRPO with the MDM evaluator reward: R-precision",
    description: "Quick start: reward from the retrieval rank of the true text among 32.",
  },
  {
    line: 42,
    name: "mdm-reward-combined",
    title: "GRPO with the MDM evaluator reward: combined",
    description: "Quick start: 0.5 matching + 0.5 R-precision.",
  },
  {
    line: 50,
    name: "tmr-reward-cosine",
    title: "GRPO with the TMR reward: cosine similarity",
    description: "Quick start: TMR score cos/2 + 0.5 of the text and motion embeddings.",
  },
  {
    line: 57,
    name: "tmr-matching-cosine",
    title: "TMR matching reward: cosine distance, linear normalisation",
    description: "Quick start: TMR matching with distance 1 - cos, normalised linearly.",
  },
  {
    line: 60,
    name: "tmr-norm-linear",
    title: "TMR matching reward: euclidean distance, linear normalisation",
    description: "Quick start: clip(1 - d/10, 0, 1) of the euclidean distance.",
  },
  {
    line: 63,
    name: "tmr-norm-exponential",
    title: "TMR matching reward: euclidean distance, exponential normalisation",
    description: "Quick start: exp(-d/2) of the euclidean distance.",
  },
  {
    line: 67,
    name: "tmr-norm-sigmoid",
    title: "TMR matching reward: euclidean distance, sigmoid normalisation",
    description: "Quick start: 2/(1 + exp(d/2)) of the euclidean distance.",
    notes: "The guide's --save_dir starts with /save/ (no dot); it is read as ./save/ like its " +
      "siblings.",
  },
  {
    line: 178,
    name: "composite-construct-train",
    title: "Build the K=3 composite training set",
    description: "Composite dataset section: 1000 samples of 3 concatenated clips with B matrix.",
  },
  {
    line: 265,
    name: "example1",
    title: "Example 1: basic GRPO with the MDM reward, no LoRA",
    description: "Example 1 of the guide.",
    notes: "The quick start's first command (guide line 23) is the same command on one line.",
  },
  {
    line: 281,
    name: "example2",
    title: "Example 2: GRPO with LoRA",
    description: "Example 2 of the guide: LoRA rank 8, alpha 16, lr 5e-7.",
    notes: "The quick start's LoRA line (guide line 29) is this command with two typos " +
      "(`lora_alpha 16` without dashes, `\\ --reward_type`) that train-grpo rejects; this " +
      "manifest stands for the corrected form of example 2.",
  },
  {
    line: 300,
    name: "example3",
    title: "Example 3: segment-dense reward with physics regularisation",
    description: "Example 3 of the guide: MDM reward, dense K=3, physics terms.",
  },
  {
    line: 324,
    name: "example4",
    title: "Example 4: Flow-GRPO",
    description: "Example 4 of the guide: SDE sampling with noise scale 0.7, 10/40 steps.",
  },
  {
    line: 344,
    name: "example5",
    title: "Example 5: TMR reward, cosine similarity",
    description: "Example 5 of the guide.",
  },
  {
    line: 363,
    name: "example6",
    title: "Example 6: TMR matching reward, segment-dense mode",
    description: "Example 6 of the guide: cosine distance, linear normalisation, K=3, alpha 0.5.",
  },
  {
    line: 398,
    assetsLine: 388,
    name: "example7",
    title: "Example 7: GRPO on the K=3 composite dataset",
    description: "Example 7 of the guide: build the composite training set, then train on it.",
  },
  {
    line: 435,
    assetsLine: 425,
    name: "example8",
    title: "Example 8: evaluation on the K=3 composite dataset",
    description: "Example 8 of the guide: build the composite test set, then evaluate on it.",
    notes: "The composite evaluation section (guide lines 925 and 935) repeats these commands.",
  },
  {
    line: 541,
    evalLine: 871,
    name: "exp1-paper",
    title: "Experiment 1: segment-dense TMR, positive reward only",
    description: "Dense K=3, no physics, alpha 0.0, beta_s 1.0, beta_p 0.0.",
    notes: TABLE_NOTE + BETA_P_NOTE,
    fix: tableBetaP,
  },
  {
    line: 564,
    evalLine: 871,
    name: "exp1-mps",
    title: "Experiment 1 on Apple GPU (--device mps)",
    description: "The guide's second experiment 1 command; only --device differs.",
  },
  {
    line: 588,
    name: "exp1-10000steps",
    title: "Experiment 1 trained for 10000 steps",
    description: "Experiment 1 with --num_steps 10000.",
  },
  {
    line: 610,
    name: "exp1-10000steps-cosine",
    title: "Experiment 1 for 10000 steps with the TMR cosine reward",
    description: "Experiment 1 with --num_steps 10000 and --reward_type cosine.",
    notes: "The guide gives this command twice (lines 610 and 630).",
  },
  {
    line: 654,
    evalLine: 876,
    name: "exp2-paper",
    title: "Experiment 2: global TMR",
    description: "Global mode, no physics, beta_s 1.0, beta_p 0.0.",
    notes: TABLE_NOTE + BETA_P_NOTE + " alpha (table: -) stays at its default; it acts only " +
      "in Segment-Dense mode.",
    fix: tableBetaP,
  },
  {
    line: 677,
    evalLine: 881,
    name: "exp3-paper",
    title: "Experiment 3: segment-dense TMR with physics, positive reward only",
    description: "Dense K=3, physics, alpha 0.0, beta_s 1.0, beta_p 0.1.",
    notes: TABLE_NOTE,
  },
  {
    line: 707,
    evalLine: 885,
    name: "exp4-paper",
    title: "Experiment 4: global TMR with physics",
    description: "Global mode, physics, beta_s 1.0, beta_p 0.1.",
    notes: TABLE_NOTE + " alpha (table: -) stays at its default; it acts only in " +
      "Segment-Dense mode.",
  },
  {
    line: 734,
    evalLine: 889,
    name: "exp5-paper",
    title: "Experiment 5: segment-dense TMR (positive and negative) with physics",
    description: "Dense K=3, physics, alpha 0.5, beta_s 1.0, beta_p 0.1: the full configuration.",
    notes: TABLE_NOTE + " The guide gives this command twice (lines 734 and 761).",
  },
  {
    line: 861,
    name: "eval-humanml-trans-enc-512",
    title: "Evaluate the 50-step MDM (humanml_trans_enc_512)",
    description: "Evaluation section: standard HumanML3D protocol.",
  },
  {
    line: 866,
    name: "eval-lora-attnffn",
    title: "Evaluate the LoRA (attention + FFN) model",
    description: "Evaluation section: standard HumanML3D protocol.",
  },
  {
    line: 895,
    name: "eval-official-50steps",
    title: "Evaluate the official 50-step MDM",
    description: "Evaluation section: the base model of every experiment.",
  },
  {
    line: 900,
    name: "eval-mdm-1000steps",
    title: "Evaluate the 1000-step MDM",
    description: "Evaluation section: standard HumanML3D protocol.",
  },
  {
    line: 906,
    name: "eval-mdm-reward-matching",
    title: "Evaluate the model trained with the MDM matching reward",
    description: "Evaluation section: the model of mdm-reward-matching.",
    notes: "The guide's path ends in model_final.pt/model_final.pt; the doubled file name is " +
      "read as one.",
    fix: (p) => {
      p.model_path = String(p.model_path).replace(
        /model_final\.pt\/model_final\.pt$/,
        "model_final.pt",
      );
    },
  },
  {
    line: 911,
    name: "eval-mdm-reward-r-precision",
    title: "Evaluate the model trained with the MDM R-precision reward",
    description: "Evaluation section: the model of mdm-reward-r-precision.",
  },
  {
    line: 916,
    name: "eval-mdm-reward-combined",
    title: "Evaluate the model trained with the MDM combined reward",
    description: "Evaluation section: the model of mdm-reward-combined.",
  },
];

/** Input roles of the path flags. */
const ROLES: Record<string, string> = {
  model_path: "checkpoint",
  ref_model_path: "ref_checkpoint",
  tmr_text_encoder_path: "tmr_text_encoder",
  tmr_motion_encoder_path: "tmr_motion_encoder",
  tmr_movement_encoder_path: "tmr_movement_encoder",
  composite_data_path: "composite_data",
  data_dir: "dataset",
  data_root: "dataset",
};

/** Flags that name what the command writes. */
const OUTPUT_FLAGS = ["save_dir", "output_dir"];

/** The mini profile's files standing for the paper's inputs. */
const MINI_INPUTS: Record<string, string> = {
  checkpoint: "$MINI_ASSETS/mdm/model.pt",
  tmr_text_encoder: "$MINI_ASSETS/tmr/text_encoder.pt",
  tmr_motion_encoder: "$MINI_ASSETS/tmr/motion_encoder.pt",
  // The mini TMR has no decoder: the flag is required for tmr, and the movement encoder of the
  // mini architecture lives inside motion_encoder.pt, so it names that file again.
  tmr_movement_encoder: "$MINI_ASSETS/tmr/motion_encoder.pt",
  dataset: "$MINI/humanml",
  evaluator: "$MINI_ASSETS/evaluator",
};

/** The T2M evaluator and word vectors, where MDM's evaluation expects them. */
const EVALUATOR_INPUTS: Record<string, string> = {
  evaluator: "$ASSETS/t2m/text_mot_match/model/finest.tar",
  glove: "$ASSETS/glove",
};

function relative(p: string): string {
  return p.replace(/^\.?\//, "");
}

/** The flags a seed line gives, typed, in the line's order. */
function explicitParams(cmd: SeedCommand): Record<string, ParamValue> {
  const table = COMMAND_FLAGS[cmd.program];
  const out: Record<string, ParamValue> = {};
  for (let i = 0; i < cmd.args.length; i++) {
    const word = cmd.args[i];
    const spec: FlagSpec | undefined = table.find((s) => `--${s.name}` === word);
    if (spec === undefined) {
      throw new SyntaxError(`Cannot read guide line ${cmd.line}: unknown word "${word}"`);
    }
    out[spec.name] = spec.kind === "bool" ? true : parseFlagValue(spec, cmd.args[++i]);
  }
  return out;
}

/** Rewrites the guide's relative paths: outputs and what earlier stages wrote under `$RUN`. */
function mapPaths(
  command: ManifestCommand,
  params: Record<string, ParamValue>,
  written: string[],
): void {
  for (const spec of COMMAND_FLAGS[command]) {
    const v = params[spec.name];
    if (typeof v !== "string" || v.startsWith("$")) continue; // already mapped
    if (OUTPUT_FLAGS.includes(spec.name)) {
      params[spec.name] = `$RUN/${relative(v)}`;
    } else if (spec.kind === "path") {
      const rel = relative(v);
      const inRun = written.some((w) => rel === w || rel.startsWith(w + "/"));
      params[spec.name] = `${inRun ? "$RUN" : "$ASSETS"}/${rel}`;
    }
  }
}

function dataRoot(dataset: ParamValue): string {
  return dataset === "kit" ? "$ASSETS/dataset/KIT-ML" : "$ASSETS/dataset/HumanML3D";
}

/** What a command with these (mapped) params writes. */
function outputsOf(command: ManifestCommand, p: Record<string, ParamValue>): string[] {
  if (command === "train-grpo") return [`${p.save_dir}/model_final.pt`];
  if (command === "construct-composite") {
    return [`${p.output_dir}/composite_k${p.k_segments ?? 3}_${p.split ?? "train"}.npy`];
  }
  return [];
}

/** A stage for an extra guide line (its own flags only, data root made explicit). */
function extraStage(
  cmd: SeedCommand,
  name: ManifestStage["name"],
  written: string[],
): ManifestStage {
  const params = explicitParams(cmd);
  const rootFlag = cmd.program === "construct-composite" ? "data_root" : "data_dir";
  params[rootFlag] ??= dataRoot(params.dataset ?? "humanml");
  if (cmd.program === "construct-composite") params.output_dir ??= "dataset/HumanML3D/composite";
  mapPaths(cmd.program, params, written);
  const args: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === false) continue;
    args.push(`--${k}`);
    if (v !== true) args.push(String(v));
  }
  return {
    name,
    command: cmd.program,
    args,
    outputs: outputsOf(cmd.program, params),
    seed_command: cmd.text,
  };
}

function inputsOf(
  command: ManifestCommand,
  params: Record<string, ParamValue>,
  stages: ManifestStage[],
): Record<string, ManifestInput> {
  const inputs: Record<string, ManifestInput> = {};
  const add = (role: string, path: string) => {
    if (path.startsWith("$ASSETS/")) inputs[role] ??= { path, sha256: null };
  };
  for (const [flag, role] of Object.entries(ROLES)) {
    const v = params[flag];
    if (typeof v === "string") add(role, v);
  }
  // Stage arguments that read assets (the evaluation's checkpoint, a construction's dataset).
  for (const s of stages) {
    for (let i = 0; i + 1 < s.args.length; i++) {
      const role = ROLES[s.args[i].slice(2)];
      if (role !== undefined) add(role === "checkpoint" ? "eval_checkpoint" : role, s.args[i + 1]);
    }
  }
  const evaluates = command === "eval-humanml" || stages.some((s) => s.command === "eval-humanml");
  if (evaluates || params.reward_model_type === "mdm") {
    for (const [role, path] of Object.entries(EVALUATOR_INPUTS)) add(role, path);
  }
  return inputs;
}

function build(entry: Entry, byLine: Map<number, SeedCommand>): Manifest {
  const get = (line: number) => {
    const cmd = byLine.get(line);
    if (cmd === undefined) throw new RangeError(`Cannot find a command at guide line ${line}`);
    return cmd;
  };
  const cmd = get(entry.line);
  const command = cmd.program;
  const stages: ManifestStage[] = [];
  const written: string[] = [];
  if (entry.assetsLine !== undefined) {
    const s = extraStage(get(entry.assetsLine), "assets", written);
    stages.push(s);
    written.push(...s.outputs.map((o) => o.replace(/^\$RUN\//, "")));
  }
  const given = explicitParams(cmd);
  entry.fix?.(given);
  // The line's own flags, plus what must not be left to where the command happens to run: the
  // dataset root (under $ASSETS), the output folder, and the seed.
  const params: Record<string, ParamValue> = { ...given };
  if (command === "construct-composite") {
    params.data_root ??= dataRoot(params.dataset ?? "humanml");
    params.output_dir ??= "dataset/HumanML3D/composite";
  } else {
    params.data_dir ??= dataRoot(params.dataset ?? "humanml");
  }
  params.seed ??= 10;
  mapPaths(command, params, written);
  const main: ManifestStage = {
    name: command === "train-grpo" ? "train" : command === "eval-humanml" ? "eval" : "assets",
    command,
    args: ["$PARAMS"],
    outputs: outputsOf(command, params),
  };
  stages.push(main);
  written.push(...main.outputs.map((o) => o.replace(/^\$RUN\//, "")));
  if (entry.evalLine !== undefined) stages.push(extraStage(get(entry.evalLine), "eval", written));
  const seed = Number(params.seed ?? 10);
  return {
    schema: 1,
    name: entry.name,
    title: entry.title,
    description: entry.description,
    seed_command: cmd.text,
    command,
    profile: "paper",
    seed,
    params,
    inputs: inputsOf(command, params, stages),
    stages,
    expected: null,
    notes: entry.notes ?? "",
  } as Manifest;
}

function toMini(paper: Manifest): Manifest {
  const name = paper.name.replace(/-paper$/, "");
  const swap = (s: string): string => {
    for (const [role, input] of Object.entries(paper.inputs)) {
      if (s === input.path && MINI_INPUTS[role] !== undefined) return MINI_INPUTS[role];
    }
    return s;
  };
  const params: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(paper.params)) {
    params[k] = typeof v === "string" ? swap(v) : v;
  }
  params.device = "cpu";
  Object.assign(params, MINI_PARAMS);
  const inputs: Record<string, ManifestInput> = {};
  for (const role of Object.keys(paper.inputs)) {
    const path = MINI_INPUTS[role];
    if (path !== undefined) inputs[role] = { path, sha256: null };
  }
  const stages: ManifestStage[] = [
    { name: "assets", command: "make-mini", args: [], outputs: ["$MINI/humanml"] },
  ];
  for (const s of paper.stages) {
    const args = s.args.map((a) => a.startsWith("$ASSETS/dataset/") ? "$MINI/humanml" : a);
    const i = args.indexOf("--device");
    if (i >= 0) args[i + 1] = "cpu";
    else if (s.command === "eval-humanml") args.push("--device", "cpu");
    stages.push({ ...s, args });
  }
  return {
    ...paper,
    name,
    title: paper.title + " (mini profile)",
    profile: "mini",
    params,
    inputs,
    stages,
    expected: null,
    mini: MINI_SCALE,
    notes: "Mini profile: the same flags on the embedded mini dataset ($MINI/humanml, generated) " +
      "and the project's shipped small models ($MINI_ASSETS = assets/mini), on the CPU so the " +
      "numbers are bit-exact anywhere. The mini TMR has no decoder: --tmr_movement_encoder_path " +
      "names its motion_encoder.pt. Mini-scale departures, so that the run fits in about 10 " +
      `minutes on two CPU cores and still moves the policy measurably: num_steps ` +
      `${MINI_PARAMS.num_steps} instead of 1000 (a GRPO step of the mini MDM, 10 diffusion ` +
      "steps, takes seconds on the CPU; at 60 steps the held-out reward's change stayed within " +
      `seed noise); group_size ${MINI_PARAMS.group_size}, learning_rate ` +
      `${MINI_PARAMS.learning_rate} and kl_penalty ${MINI_PARAMS.kl_penalty} instead of the ` +
      "seed's values (at lr 1e-6 nothing moves in so few steps; with 4 samples per prompt the " +
      "advantages are mostly noise; the KL term, a mean over ~15k elements of " +
      "(mean - mean_ref)^2 / 2 std^2, outweighs the policy gradient after a tiny drift); " +
      `a held-out reward evaluation at the start and the end (eval_interval ` +
      `${MINI_PARAMS.eval_interval}, ${MINI_PARAMS.eval_prompts} test prompts, fixed noise); ` +
      "every stochastic transition trained; " +
      `evaluation ${MINI_SCALE.eval.replications} replications of ` +
      `${MINI_SCALE.eval.num_samples_limit} samples in batches of ` +
      `${MINI_SCALE.eval.batch_size} instead of 20 x 1000 (the mini test split is small), ` +
      `diversity over ${MINI_SCALE.eval.diversity_times} pairs instead of 300. ` +
      "Expected results: in `expected` once recorded (`deno task exp run`, then " +
      "`deno task exp record`)." +
      (name === "exp5" ? " This is what `deno task exp5` runs by default." : ""),
  };
}

/** Flags a mini-profile run sets over the paper command's (see the notes `toMini` writes). */
const MINI_PARAMS = {
  num_steps: 200,
  group_size: 8,
  learning_rate: 3e-4,
  kl_penalty: 0,
  eval_interval: 200,
  eval_prompts: 32,
} as const;

/** Mini-profile scale of the non-flag settings (see the notes `toMini` writes). */
const MINI_SCALE: MiniScale = {
  dataset_clips: null,
  train_steps: null,
  save_interval: 20,
  eval: { replications: 3, batch_size: 32, num_samples_limit: 128, diversity_times: 100 },
};

async function main(): Promise<void> {
  const guide = Deno.args[0] ?? DEFAULT_GUIDE;
  const cmds = extractSeedCommands(await Deno.readTextFile(guide));
  const byLine = new Map(cmds.map((c) => [c.line, c]));
  const manifests: Manifest[] = [];
  for (const e of ENTRIES) {
    const m = build(e, byLine);
    manifests.push(m);
    if (/^exp[1-5]-paper$/.test(m.name)) manifests.push(toMini(m));
  }
  for (const m of manifests) {
    validateManifest(m, `${m.name}.json`);
    const path = `${MANIFEST_DIR}${m.name}.json`;
    // Recorded results (`exp record`) belong to the manifest they were recorded for: keep them
    // when nothing else changed, drop them (and say so) otherwise.
    const old = await Deno.readTextFile(path).then((t) => JSON.parse(t) as Manifest, () => null);
    if (old?.expected) {
      if (JSON.stringify({ ...old, expected: null }) === JSON.stringify(m)) {
        m.expected = old.expected;
      } else {
        console.log(`${m.name}: manifest changed, its recorded results were dropped`);
      }
    }
    const tmp = `${path}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(m, null, 2) + "\n");
    await Deno.rename(tmp, path);
  }
  console.log(`Wrote ${manifests.length} manifests to ${MANIFEST_DIR}`);
}

if (import.meta.main) await main();
