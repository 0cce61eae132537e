/**
 * Builds the mini profile's frozen networks into `<outDir>/<role>/` and checks that a rebuild is
 * bit-exact. Roles (same code, different seeds and data):
 *
 * - `tmr`: the reward model, seed 1, the even half of the train split;
 * - `evaluator`: the independent evaluator, seed 2, the odd half (disjoint from the reward's);
 * - `text`: the conditioning text encoder of the mini MDM, seed 3, the whole train split; only
 *   its text side is shipped.
 *
 * A folder gets the weights (`text_encoder.pt`, and for pairs `motion_encoder.pt` and
 * `stats.safetensors`), `config.json` (architecture, featurizer, training settings, seed, the
 * dataset's manifest key) and `build.json` (steps, losses, wall time, SHA-256 of each weight
 * file, test retrieval). The check retrains from the shipped `config.json` into a temporary
 * folder and compares the SHA-256 of every weight file with the shipped `build.json`.
 * @module
 */
import { createHash } from "node:crypto";
import type { Backend } from "../../kernels/backend.ts";
import { float32Tensor } from "../checkpoint/state_dict.ts";
import { writeSafetensors } from "../checkpoint/safetensors.ts";
import { writeTorchStateDict } from "../checkpoint/torch_pt.ts";
import { writeFileAtomic } from "../checkpoint/write_file_atomic.ts";
import { TmrEncoder } from "../tmr/encoder.ts";
import { readDataKey } from "./_data.ts";
import {
  MINI_ARCHITECTURE,
  MINI_TRAIN_DEFAULTS,
  type MiniArchitecture,
  type MiniBuildRecord,
  type MiniModelConfig,
  miniMotionConfig,
  type MiniSubset,
  miniTextConfig,
  type MiniTrainSettings,
} from "./config.ts";
import { MiniEncoder, readMiniConfig } from "./mini_encoder.ts";
import { retrievalCheck } from "./retrieval_check.ts";
import { trainMiniPair } from "./train_mini_pair.ts";
import { WORD_STREAM, WordFeaturizer } from "./word_featurizer.ts";

/** The three shipped models. */
export type MiniRole = "tmr" | "evaluator" | "text";

/** Every role, in build order. */
export const MINI_ROLES: readonly MiniRole[] = ["tmr", "evaluator", "text"];

/** Per-role seed, data half and whether the motion side is shipped. */
export const MINI_ROLE_DEFAULTS: Readonly<
  Record<MiniRole, { seed: number; subset: MiniSubset; motion: boolean }>
> = {
  tmr: { seed: 1, subset: "even", motion: true },
  evaluator: { seed: 2, subset: "odd", motion: true },
  text: { seed: 3, subset: "all", motion: false },
};

/** The tokenizer rule recorded in `config.json`. */
const TOKENIZER_RULE =
  "lower-case; drop apostrophes; other non-letter/digit characters become spaces; split on " +
  "whitespace; keep the first max_words words; word vector = dim standard normals of Philox(" +
  "seed=fnv1a32(utf8(word)), stream)";

/** Options of {@linkcode buildMiniModel}. */
export interface BuildMiniModelOptions {
  role: MiniRole;
  /** The mini dataset folder. */
  dataDir: string;
  /** The root folder: the model goes to `<outDir>/<role>/`. */
  outDir: string;
  /** Overrides of the role's training settings (steps, seed, ...). */
  settings?: Partial<MiniTrainSettings>;
  architecture?: MiniArchitecture;
  /** Measure test-split retrieval into `build.json` (default true; pairs only). */
  evaluate?: boolean;
  log?: (line: string) => void;
}

/** SHA-256 (hex) of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The full training settings of `role` with `overrides`. */
export function miniRoleSettings(
  role: MiniRole,
  overrides: Partial<MiniTrainSettings> = {},
): MiniTrainSettings {
  const d = MINI_ROLE_DEFAULTS[role];
  return { ...MINI_TRAIN_DEFAULTS, seed: d.seed, subset: d.subset, ...overrides };
}

function jsonBytes(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n");
}

/** Trains `role` and writes its folder; returns the build record. */
export async function buildMiniModel(
  be: Backend,
  opts: BuildMiniModelOptions,
): Promise<MiniBuildRecord> {
  const arch = opts.architecture ?? { ...MINI_ARCHITECTURE };
  const settings = miniRoleSettings(opts.role, opts.settings);
  const withMotion = MINI_ROLE_DEFAULTS[opts.role].motion;
  const dir = `${opts.outDir}/${opts.role}`;
  const log = opts.log ?? (() => {});
  log(
    `Training mini ${opts.role} (seed ${settings.seed}, ${settings.subset} train clips, ` +
      `${settings.steps} steps)`,
  );
  const r = await trainMiniPair(be, {
    dataDir: opts.dataDir,
    architecture: arch,
    settings,
    log: (l) => log(`  ${opts.role}: ${l}`),
  });
  const files = new Map<string, Uint8Array>();
  files.set("text_encoder.pt", writeTorchStateDict(r.text, "text_encoder"));
  if (withMotion) {
    files.set("motion_encoder.pt", writeTorchStateDict(r.motion, "motion_encoder"));
    files.set(
      "stats.safetensors",
      writeSafetensors(
        new Map([
          ["mean", float32Tensor(r.mean, [r.mean.length])],
          ["std", float32Tensor(r.std, [r.std.length])],
        ]),
      ),
    );
  }
  const config: MiniModelConfig = {
    role: opts.role,
    motion: withMotion,
    architecture: arch,
    text_encoder: miniTextConfig(arch),
    motion_encoder: withMotion ? miniMotionConfig(arch) : null,
    featurizer: {
      kind: "fnv1a32-philox-words",
      dim: arch.wordDim,
      max_words: arch.maxWords,
      stream: WORD_STREAM,
      tokenizer: TOKENIZER_RULE,
    },
    training: settings,
    data: { dataset: "mini-humanml", split: "train", key: r.dataKey },
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const record: MiniBuildRecord = {
    steps: settings.steps,
    initial_loss: mean(r.losses.slice(0, 50)),
    final_loss: mean(r.losses.slice(-50)),
    wall_seconds: Math.round(r.wallSeconds * 10) / 10,
    sha256: Object.fromEntries([...files].map(([name, b]) => [name, sha256Hex(b)])),
  };
  if (withMotion && (opts.evaluate ?? true)) {
    const words = new WordFeaturizer(arch.wordDim, arch.maxWords);
    const text = TmrEncoder.fromStateDict(be, r.text, config.text_encoder, { maxBatch: 32 });
    const motion = TmrEncoder.fromStateDict(be, r.motion, config.motion_encoder!, { maxBatch: 32 });
    try {
      const enc = new MiniEncoder(`mini-${opts.role}`, text, motion, words, r);
      const q = await retrievalCheck(enc, opts.dataDir, "test", 0);
      record.test_r_precision = q;
      log(
        `  ${opts.role}: test R-precision top-1/2/3 matched ${fmt(q.matched)}, ` +
          `shuffled ${fmt(q.shuffled)} (${q.samples} samples)`,
      );
    } finally {
      text.destroy();
      motion.destroy();
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFileAtomic(`${dir}/${name}`, bytes);
  await writeFileAtomic(`${dir}/config.json`, jsonBytes(config));
  await writeFileAtomic(`${dir}/build.json`, jsonBytes(record));
  log(
    `Wrote ${dir}: loss ${record.initial_loss.toFixed(3)} -> ${record.final_loss.toFixed(3)} ` +
      `in ${record.wall_seconds} s`,
  );
  return record;
}

function fmt(v: number[]): string {
  return v.map((x) => x.toFixed(3)).join("/");
}

/** Outcome of {@linkcode checkMiniModel}. */
export interface MiniCheckResult {
  role: MiniRole;
  ok: boolean;
  /** One line per problem (file, expected and found hash). */
  problems: string[];
}

/**
 * Rebuilds `role` from the shipped `<outDir>/<role>/config.json` into a temporary folder and
 * compares the SHA-256 of every weight file with the shipped `build.json` (and the shipped files
 * with their recorded hashes).
 */
export async function checkMiniModel(
  be: Backend,
  opts: { role: MiniRole; dataDir: string; outDir: string; log?: (line: string) => void },
): Promise<MiniCheckResult> {
  const dir = `${opts.outDir}/${opts.role}`;
  const cfg = await readMiniConfig(dir);
  const buildPath = `${dir}/build.json`;
  let shipped: MiniBuildRecord;
  try {
    shipped = JSON.parse(await Deno.readTextFile(buildPath)) as MiniBuildRecord;
  } catch (err) {
    throw new Deno.errors.NotFound(
      `Cannot check mini ${opts.role}: cannot read ${buildPath} (${(err as Error).message})`,
    );
  }
  const problems: string[] = [];
  const key = await readDataKey(opts.dataDir);
  if (key !== cfg.data.key) {
    problems.push(
      `dataset key ${key} of "${opts.dataDir}" differs from the shipped ${cfg.data.key}`,
    );
  }
  for (const [name, want] of Object.entries(shipped.sha256)) {
    const got = sha256Hex(await Deno.readFile(`${dir}/${name}`));
    if (got !== want) problems.push(`shipped ${name} has SHA-256 ${got}, build.json says ${want}`);
  }
  const tmp = await Deno.makeTempDir({ prefix: "mini_models_check_" });
  try {
    const rebuilt = await buildMiniModel(be, {
      role: opts.role,
      dataDir: opts.dataDir,
      outDir: tmp,
      settings: cfg.training,
      architecture: cfg.architecture,
      evaluate: false,
      log: opts.log,
    });
    const names = new Set([...Object.keys(shipped.sha256), ...Object.keys(rebuilt.sha256)]);
    for (const name of names) {
      const want = shipped.sha256[name], got = rebuilt.sha256[name];
      if (want !== got) {
        problems.push(
          `rebuilt ${name} has SHA-256 ${got ?? "(missing)"}, shipped ${want ?? "(none)"}`,
        );
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return { role: opts.role, ok: problems.length === 0, problems };
}
