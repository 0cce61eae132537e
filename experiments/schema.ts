/**
 * The experiment manifest: a small declarative JSON file that pins one seed command line (every
 * flag of the command with its value), the seed, the profile, the inputs by path and SHA-256, the
 * stages a runner replays, and the expected results. Its identity is the SHA-256 of its canonical
 * JSON (`manifestId` in `hash.ts`).
 *
 * Strings may use these variables, expanded by a runner:
 * - `$ASSETS`: the folder that plays the seed repository's root (paper profile, `--assets DIR`):
 *   the guide's `./save/x.pt` is `$ASSETS/save/x.pt`;
 * - `$MINI`: the mini profile's folder (`datasets/mini_cache`, built by the project);
 * - `$MINI_ASSETS`: the small models the project ships (`assets/mini`, committed);
 * - `$RUN`: the run folder `runs/<name>`, where every output goes (the guide's `./save/` for what
 *   the manifest itself trains);
 * - `$PARAMS`: a whole word of a stage's `args`, replaced by the manifest's `params` as flags.
 *
 * `validateManifest` is hand-written so that every error names the file and the JSON path:
 * `Invalid manifest "exp5.json": params.learning_rate must be a number > 0, got "1e-6"`.
 * Unknown keys are errors.
 * @module
 */
import { expectedText, type FlagSpec, resolveDevice } from "../cli/_flags.ts";
import { COMMAND_FLAGS, MANIFEST_COMMANDS, type ManifestCommand } from "./_command_flags.ts";

export { MANIFEST_COMMANDS, type ManifestCommand };

/** Version of the manifest format. */
export const MANIFEST_SCHEMA = 1;

/** Where the inputs come from: the embedded mini profile or the paper's real data and weights. */
export type Profile = "mini" | "paper";

/** Stage names, in the order a runner performs them. */
export const STAGE_NAMES = ["assets", "train", "eval"] as const;

/** Commands a stage may run (`deno task <command>`). */
export const STAGE_COMMANDS = [...MANIFEST_COMMANDS, "make-mini"] as const;

/** Variables a manifest string may use (see the module doc). */
export const MANIFEST_VARIABLES = ["$ASSETS", "$MINI", "$MINI_ASSETS", "$RUN", "$PARAMS"] as const;

/** A flag value: switches are booleans, unset optional paths are null. */
export type ParamValue = string | number | boolean | null;

/** One input file or folder. A null or absent `sha256` means "not locked yet". */
export interface ManifestInput {
  /** Path with `$ASSETS/` (paper) or `$MINI/` (mini) in front. */
  path: string;
  /** SHA-256 in hex (of the bytes; of the listing for a folder, see `lock.ts`), or null. */
  sha256?: string | null;
  /** Size in bytes (a folder: the sum over its files). */
  size?: number;
}

/** One step a runner performs. */
export interface ManifestStage {
  /** What the step is for. */
  name: (typeof STAGE_NAMES)[number];
  /** The `deno task` it runs. */
  command: (typeof STAGE_COMMANDS)[number];
  /** Its argument words; `$PARAMS` stands for the manifest's params as flags. */
  args: string[];
  /** Files or folders it writes (under `$RUN`, or the profile folder for `assets`). */
  outputs: string[];
  /** The guide's command line this stage stands for, if it is not the manifest's own. */
  seed_command?: string;
}

/** One expected metric. */
export interface ExpectedMetric {
  /** The recorded or published value. */
  value: number;
  /** Half-width of its 95% interval, as the evaluation protocol reports it. */
  interval?: number;
  /** Allowed absolute difference when no interval applies. */
  tolerance?: number;
  /** Where the number comes from (a paper table, a recorded run with its device class). */
  provenance: string;
}

/** The expected results; null when none has been recorded yet. */
export interface ManifestExpected {
  metrics: Record<string, ExpectedMetric>;
}

/** The evaluation protocol of a mini-profile run (a smaller `wo_mm`). */
export interface MiniEvalScale {
  replications: number;
  batch_size: number;
  num_samples_limit: number;
  diversity_times: number;
}

/**
 * Mini-profile scale settings that are not command-line flags: what makes `deno task exp5` fit
 * in minutes on two CPU cores. Each value's reason is in the manifest's notes.
 */
export interface MiniScale {
  /** Clips of the generated dataset (null: the generator's default). */
  dataset_clips: number | null;
  /** DDPM transitions trained per GRPO step (null: all). */
  train_steps: number | null;
  /** Checkpoint period in steps. */
  save_interval: number;
  /** The evaluation protocol of the base and the fine-tuned model. */
  eval: MiniEvalScale;
}

/** An experiment manifest (see the module doc). */
export interface Manifest {
  schema: 1;
  /** Same as the file name without `.json`. */
  name: string;
  title: string;
  description: string;
  /** The guide's command line it stands for, verbatim (continuation lines joined). */
  seed_command: string;
  command: ManifestCommand;
  /** Every flag of the command with its value, snake_case as in the guide. */
  params: Record<string, ParamValue>;
  seed: number;
  profile: Profile;
  inputs: Record<string, ManifestInput>;
  stages: ManifestStage[];
  expected: ManifestExpected | null;
  notes: string;
  /** Mini-profile scale settings (mini profile only; optional). */
  mini?: MiniScale;
}

/** A manifest that does not follow the schema; the message names the file and the JSON path. */
export class ManifestError extends Error {
  /** The file's name (or a label for in-memory data). */
  readonly file: string;
  /** JSON path of the fault (`params.learning_rate`), or "" for the whole file. */
  readonly path: string;

  /** `detail` is the part after the colon, starting with the JSON path. */
  constructor(file: string, path: string, detail: string) {
    super(`Invalid manifest "${file}": ${detail}`);
    this.name = "ManifestError";
    this.file = file;
    this.path = path;
  }
}

type Json = Record<string, unknown>;

const TOP_KEYS = [
  "schema",
  "name",
  "title",
  "description",
  "seed_command",
  "command",
  "params",
  "seed",
  "profile",
  "inputs",
  "stages",
  "expected",
  "notes",
] as const;

const HEX64 = /^[0-9a-f]{64}$/;
const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const ROLE_RE = /^[a-z][a-z0-9_]*$/;

function show(v: unknown): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks the manifest data in one pass, throwing at the first fault. */
class Checker {
  constructor(readonly file: string) {}

  fail(path: string, detail: string): never {
    throw new ManifestError(this.file, path, detail);
  }

  object(v: unknown, path: string, keys: readonly string[], required: readonly string[]): Json {
    if (!isObject(v)) this.fail(path, `${path || "the file"} must be an object, got ${show(v)}`);
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) {
        this.fail(join(path, k), `${join(path, k)} is not a known key (known: ${keys.join(", ")})`);
      }
    }
    for (const k of required) {
      if (!(k in v)) this.fail(join(path, k), `${join(path, k)} is missing`);
    }
    return v;
  }

  /** Prose (titles, notes): any string; variables are not expanded there. */
  text(v: unknown, path: string, nonEmpty = true): string {
    if (typeof v !== "string" || (nonEmpty && v.trim() === "")) {
      this.fail(path, `${path} must be a ${nonEmpty ? "non-empty " : ""}string, got ${show(v)}`);
    }
    return v;
  }

  /** A path or argument word: a non-empty string whose variables are checked. */
  string(v: unknown, path: string): string {
    const s = this.text(v, path);
    this.variables(s, path);
    return s;
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== "string" || !values.includes(v as T)) {
      this.fail(path, `${path} must be one of ${values.join(", ")}, got ${show(v)}`);
    }
    return v as T;
  }

  strings(v: unknown, path: string): string[] {
    if (!Array.isArray(v)) this.fail(path, `${path} must be an array of strings, got ${show(v)}`);
    return v.map((s, i) => this.string(s, join(path, i)));
  }

  /** Only the known `$NAME` variables, at the start; `$PARAMS` only as a whole word. */
  variables(s: string, path: string): void {
    for (const m of s.matchAll(/\$[A-Za-z_]+/g)) {
      if (!(MANIFEST_VARIABLES as readonly string[]).includes(m[0])) {
        this.fail(path, `${path} uses ${m[0]}: use one of ${MANIFEST_VARIABLES.join(", ")}`);
      }
      if (m.index !== 0) {
        this.fail(path, `${path} may use ${m[0]} only at its start, got ${show(s)}`);
      }
      if (m[0] === "$PARAMS" && s !== "$PARAMS") {
        this.fail(path, `${path} must be exactly "$PARAMS" to use $PARAMS, got ${show(s)}`);
      }
    }
  }

  nonNegative(v: unknown, path: string, integer: boolean): number {
    if (
      typeof v !== "number" || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))
    ) {
      const noun = integer ? "an integer" : "a number";
      this.fail(path, `${path} must be ${noun} >= 0, got ${show(v)}`);
    }
    return v;
  }

  param(spec: FlagSpec, v: unknown, path: string): ParamValue {
    const bad = (): never =>
      this.fail(path, `${path} must be ${expectedText(spec)}, got ${show(v)}`);
    switch (spec.kind) {
      case "bool":
        if (typeof v !== "boolean") {
          this.fail(path, `${path} must be true or false, got ${show(v)}`);
        }
        return v;
      case "enum":
        return spec.values.includes(v as string) ? v as string : bad();
      case "device":
        return typeof v === "string" && resolveDevice(v) !== null ? v : bad();
      case "string":
      case "path":
        if (v === null && spec.default === null && spec.required !== true) return null;
        if (typeof v !== "string" || v.trim() === "") return bad();
        this.variables(v, path);
        return v;
      case "int":
      case "float": {
        if (typeof v !== "number" || !Number.isFinite(v)) return bad();
        if (spec.kind === "int" && !Number.isInteger(v)) return bad();
        if (spec.values !== undefined && !spec.values.includes(v)) return bad();
        const r = spec.range;
        if (r?.min !== undefined && (r.minExclusive ? v <= r.min : v < r.min)) return bad();
        if (r?.max !== undefined && (r.maxExclusive ? v >= r.max : v > r.max)) return bad();
        return v;
      }
    }
  }
}

function checkParams(
  c: Checker,
  command: ManifestCommand,
  raw: unknown,
): Record<string, ParamValue> {
  const table = COMMAND_FLAGS[command];
  if (!isObject(raw)) c.fail("params", `params must be an object, got ${show(raw)}`);
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(raw)) {
    const spec = table.find((s) => s.name === k);
    if (spec === undefined) {
      c.fail(join("params", k), `params.${k} is not a flag of ${command}`);
    }
    out[k] = c.param(spec, v, join("params", k));
  }
  for (const spec of table) {
    if ("required" in spec && spec.required === true && (out[spec.name] ?? null) === null) {
      c.fail(join("params", spec.name), `params.${spec.name} is missing: ${command} requires it`);
    }
  }
  return out;
}

function checkInputs(c: Checker, raw: unknown, profile: Profile): Record<string, ManifestInput> {
  if (!isObject(raw)) c.fail("inputs", `inputs must be an object, got ${show(raw)}`);
  const root = profile === "paper" ? "$ASSETS/" : "$MINI/";
  const root2 = profile === "paper" ? "$ASSETS/" : "$MINI_ASSETS/";
  const out: Record<string, ManifestInput> = {};
  for (const [role, v] of Object.entries(raw)) {
    const p = join("inputs", role);
    if (!ROLE_RE.test(role)) c.fail(p, `${p}: a role name must be snake_case`);
    const o = c.object(v, p, ["path", "sha256", "size"], ["path"]);
    const path = c.string(o.path, join(p, "path"));
    if (!path.startsWith(root) && !path.startsWith(root2)) {
      const roots = root === root2 ? root : `${root} or ${root2}`;
      c.fail(join(p, "path"), `${p}.path must start with ${roots} in the ${profile} profile`);
    }
    const input: ManifestInput = { path };
    if ("sha256" in o) {
      if (o.sha256 !== null && (typeof o.sha256 !== "string" || !HEX64.test(o.sha256))) {
        c.fail(join(p, "sha256"), `${p}.sha256 must be 64 lowercase hex digits or null`);
      }
      input.sha256 = o.sha256 as string | null;
    }
    if ("size" in o) input.size = c.nonNegative(o.size, join(p, "size"), true);
    out[role] = input;
  }
  return out;
}

function checkStages(c: Checker, raw: unknown, command: ManifestCommand): ManifestStage[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    c.fail("stages", `stages must be a non-empty array, got ${show(raw)}`);
  }
  const stages = raw.map((v, i): ManifestStage => {
    const p = join("stages", i);
    const o = c.object(v, p, ["name", "command", "args", "outputs", "seed_command"], [
      "name",
      "command",
      "args",
      "outputs",
    ]);
    const stage: ManifestStage = {
      name: c.oneOf(o.name, join(p, "name"), STAGE_NAMES),
      command: c.oneOf(o.command, join(p, "command"), STAGE_COMMANDS),
      args: c.strings(o.args, join(p, "args")),
      outputs: c.strings(o.outputs, join(p, "outputs")),
    };
    if ("seed_command" in o) stage.seed_command = c.text(o.seed_command, join(p, "seed_command"));
    if (stage.args.includes("$PARAMS") && stage.command !== command) {
      c.fail(join(p, "args"), `${p}.args uses $PARAMS but the stage runs ${stage.command}`);
    }
    return stage;
  });
  if (!stages.some((s) => s.args.includes("$PARAMS"))) {
    c.fail("stages", `stages must include one ${command} stage whose args are ["$PARAMS"]`);
  }
  return stages;
}

function checkExpected(c: Checker, raw: unknown): ManifestExpected | null {
  if (raw === null) return null;
  const o = c.object(raw, "expected", ["metrics"], ["metrics"]);
  if (!isObject(o.metrics)) {
    c.fail("expected.metrics", `expected.metrics must be an object, got ${show(o.metrics)}`);
  }
  const metrics: Record<string, ExpectedMetric> = {};
  for (const [name, v] of Object.entries(o.metrics)) {
    const p = join("expected.metrics", name);
    const m = c.object(v, p, ["value", "interval", "tolerance", "provenance"], [
      "value",
      "provenance",
    ]);
    if (typeof m.value !== "number" || !Number.isFinite(m.value)) {
      c.fail(join(p, "value"), `${p}.value must be a finite number, got ${show(m.value)}`);
    }
    const metric: ExpectedMetric = {
      value: m.value,
      provenance: c.text(m.provenance, join(p, "provenance")),
    };
    if ("interval" in m) metric.interval = c.nonNegative(m.interval, join(p, "interval"), false);
    if ("tolerance" in m) {
      metric.tolerance = c.nonNegative(m.tolerance, join(p, "tolerance"), false);
    }
    metrics[name] = metric;
  }
  return { metrics };
}

/**
 * Checks that `data` (parsed JSON) is a manifest and returns it typed. `file` names it in errors
 * (`exp5.json`); when it ends in `.json`, the manifest's `name` must match the file name.
 * Throws a {@link ManifestError} naming the file and the JSON path of the first fault.
 */
export function validateManifest(data: unknown, file: string): Manifest {
  const c: Checker = new Checker(file);
  const o = c.object(data, "", [...TOP_KEYS, "mini"], TOP_KEYS);
  if (o.schema !== MANIFEST_SCHEMA) {
    c.fail("schema", `schema must be ${MANIFEST_SCHEMA}, got ${show(o.schema)}`);
  }
  const name = c.text(o.name, "name");
  if (!NAME_RE.test(name)) {
    c.fail("name", `name must be lowercase letters, digits and dashes, got ${show(name)}`);
  }
  const base = file.split(/[\\/]/).pop() ?? file;
  if (base.endsWith(".json") && base !== `${name}.json`) {
    c.fail("name", `name must match the file name "${base}", got ${show(name)}`);
  }
  const command = c.oneOf(o.command, "command", MANIFEST_COMMANDS);
  const profile = c.oneOf(o.profile, "profile", ["mini", "paper"] as const);
  const seedCommand = c.text(o.seed_command, "seed_command");
  if (!seedCommand.startsWith("python ")) {
    c.fail("seed_command", `seed_command must quote the guide's python command line`);
  }
  const seed = o.seed;
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    c.fail("seed", `seed must be an integer in [0, 4294967295], got ${show(seed)}`);
  }
  const params = checkParams(c, command, o.params);
  if ("seed" in params && params.seed !== seed) {
    c.fail("params.seed", `params.seed must equal seed (${seed}), got ${show(params.seed)}`);
  }
  const inputs = checkInputs(c, o.inputs, profile);
  const stages = checkStages(c, o.stages, command);
  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    name,
    title: c.text(o.title, "title"),
    description: c.text(o.description, "description", false),
    seed_command: seedCommand,
    command,
    params,
    seed,
    profile,
    inputs,
    stages,
    expected: checkExpected(c, o.expected),
    notes: c.text(o.notes, "notes", false),
  };
  if ("mini" in o) {
    if (profile !== "mini") c.fail("mini", `mini is only allowed in the mini profile`);
    manifest.mini = checkMini(c, o.mini);
  }
  checkPaths(c, manifest);
  return manifest;
}

/** Every path the command reads must be an input or an output of one of the stages. */
function checkPaths(c: Checker, m: Manifest): void {
  const known = new Set<string>(Object.values(m.inputs).map((i) => i.path));
  for (const s of m.stages) for (const out of s.outputs) known.add(out);
  const other = m.profile === "paper" ? "$MINI" : "$ASSETS";
  for (const spec of COMMAND_FLAGS[m.command]) {
    const v = m.params[spec.name];
    if (typeof v !== "string") continue;
    if (v.includes(other)) {
      c.fail(
        `params.${spec.name}`,
        `params.${spec.name} uses ${other} in the ${m.profile} profile`,
      );
    }
    if (spec.kind === "path" && !known.has(v) && !isUnder(v, known)) {
      c.fail(
        `params.${spec.name}`,
        `params.${spec.name} ${show(v)} must be an input's path or a stage's output`,
      );
    }
  }
}

/** Whether `path` lies inside one of the folders in `dirs`. */
function isUnder(path: string, dirs: Set<string>): boolean {
  for (const d of dirs) if (path.startsWith(d.endsWith("/") ? d : d + "/")) return true;
  return false;
}

function checkMini(c: Checker, raw: unknown): MiniScale {
  const keys = ["dataset_clips", "train_steps", "save_interval", "eval"];
  const o = c.object(raw, "mini", keys, keys);
  const positive = (v: unknown, p: string): number => {
    const n = c.nonNegative(v, p, true);
    if (n < 1) c.fail(p, `${p} must be an integer >= 1, got ${show(v)}`);
    return n;
  };
  const ekeys = ["replications", "batch_size", "num_samples_limit", "diversity_times"];
  const e = c.object(o.eval, "mini.eval", ekeys, ekeys);
  return {
    dataset_clips: o.dataset_clips === null
      ? null
      : positive(o.dataset_clips, "mini.dataset_clips"),
    train_steps: o.train_steps === null ? null : positive(o.train_steps, "mini.train_steps"),
    save_interval: positive(o.save_interval, "mini.save_interval"),
    eval: {
      replications: positive(e.replications, "mini.eval.replications"),
      batch_size: positive(e.batch_size, "mini.eval.batch_size"),
      num_samples_limit: positive(e.num_samples_limit, "mini.eval.num_samples_limit"),
      diversity_times: positive(e.diversity_times, "mini.eval.diversity_times"),
    },
  };
}
