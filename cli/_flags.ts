/**
 * Shared machinery of the flag tables (`cli/train_grpo_flags.ts`, `cli/eval_humanml_flags.ts`):
 * the typed flag specification, value parsing with one-line errors, device resolution, the
 * commander program built from a table, `--help` text and the `--dry-run` report.
 *
 * Flag names stay snake_case exactly as in the seed, so a seed command line runs after swapping
 * the prefix. Every bad input becomes one {@link FlagError} naming the flag.
 * @module
 */
import { Command, CommanderError, Option } from "commander";

/** Fields every flag has. */
interface FlagBase {
  /** Name without the leading `--`, snake_case as in the seed. */
  readonly name: string;
  /** One-line meaning, shown by `--help`. */
  readonly meaning: string;
  /** Section of `--help` and of the README flag reference. */
  readonly group: string;
  /** Shown instead of the default in `--help` when the default depends on other flags. */
  readonly defaultText?: string;
}

/** A free-form string (`--save_dir`) or a path (`kind: "path"`, checked when not a dry run). */
export interface StringFlagSpec extends FlagBase {
  readonly kind: "string" | "path";
  readonly default: string | null;
  readonly required?: boolean;
  /** Paths only: the file must exist when the command really runs (never checked in a dry run). */
  readonly mustExist?: boolean;
}

/** Bounds of a number; `exclusive` bounds exclude the end point. */
export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  readonly minExclusive?: boolean;
  readonly maxExclusive?: boolean;
}

/** An integer (`--group_size`) or a float (`--learning_rate`). */
export interface NumberFlagSpec extends FlagBase {
  readonly kind: "int" | "float";
  readonly default: number;
  readonly range?: NumberRange;
  /** Integers only: the complete list of allowed values (`--composite_k_segments 3|4|5`). */
  readonly values?: readonly number[];
}

/** One of a fixed list of words. */
export interface EnumFlagSpec extends FlagBase {
  readonly kind: "enum";
  readonly values: readonly string[];
  readonly default: string;
}

/** A store-true switch: present means true; it takes no value. */
export interface BoolFlagSpec extends FlagBase {
  readonly kind: "bool";
  readonly default: false;
}

/** `--device`: a GPU index, `cuda`, `cuda:N`, `mps`, `cpu` or `auto` (see {@link resolveDevice}). */
export interface DeviceFlagSpec extends FlagBase {
  readonly kind: "device";
  readonly default: string;
}

/** One row of a flag table. */
export type FlagSpec =
  | StringFlagSpec
  | NumberFlagSpec
  | EnumFlagSpec
  | BoolFlagSpec
  | DeviceFlagSpec;

/** The TypeScript type of a flag's value. */
export type FlagValue<S extends FlagSpec> = S extends { kind: "enum"; values: readonly (infer V)[] }
  ? V
  : S extends NumberFlagSpec ? number
  : S extends BoolFlagSpec ? boolean
  : S extends DeviceFlagSpec ? string
  : S extends { required: true } ? string
  : S extends { default: string } ? string
  : string | null;

/** The parsed values of a flag table, keyed by flag name. */
export type FlagValues<S extends FlagSpec> = { -readonly [K in S as K["name"]]: FlagValue<K> };

/**
 * Where a value came from: typed on the command line (`flag`), the table's default (`default`),
 * or set by a rule from other flags (`derived`, e.g. `--fps 12.5` for KIT).
 */
export type ValueSource = "flag" | "default" | "derived";

/** Kinds of bad command line; the message always names the flag or word at fault. */
export type FlagErrorCode =
  | "unknown_flag"
  | "unexpected_argument"
  | "missing_value"
  | "bad_value"
  | "missing_flag"
  | "conflict"
  | "missing_file";

/** A bad command line: one clear line naming the flag, for exit code 2. */
export class FlagError extends Error {
  /** What went wrong. */
  readonly code: FlagErrorCode;
  /** The flag at fault (`--group_size`), or null for a stray word. */
  readonly flag: string | null;

  /** Creates the error; `message` is the whole line shown to the user. */
  constructor(code: FlagErrorCode, flag: string | null, message: string) {
    super(message);
    this.name = "FlagError";
    this.code = code;
    this.flag = flag;
  }
}

/** Thrown by the parsers when `--help` (or `-h`) is on the command line; `text` is the help. */
export class HelpRequested extends Error {
  /** The help text to print. */
  readonly text: string;

  /** Wraps the generated help text. */
  constructor(text: string) {
    super("Help was requested");
    this.name = "HelpRequested";
    this.text = text;
  }
}

/**
 * The compute device a run asks for. `webgpu` is a WebGPU adapter (the seed's CUDA index or MPS);
 * `auto` (the seed's default) means the first WebGPU adapter if there is one, else the CPU: it is
 * resolved by the runner when it opens the device, which a dry run never does.
 */
export type DeviceRequest = { kind: "webgpu"; index: number } | { kind: "cpu" } | { kind: "auto" };

/**
 * Maps a seed `--device` value to a {@link DeviceRequest}: `0`, `3` (GPU index), `cuda`,
 * `cuda:1`, `mps` (Apple GPU, adapter 0), `webgpu`, `webgpu:1`, `cpu`, `auto`.
 * Returns null for anything else.
 *
 * @example
 * ```ts
 * import { resolveDevice } from "./_flags.ts";
 * console.assert(resolveDevice("cuda:1")?.kind === "webgpu");
 * ```
 */
export function resolveDevice(raw: string): DeviceRequest | null {
  const s = raw.trim().toLowerCase();
  if (s === "cpu") return { kind: "cpu" };
  if (s === "auto") return { kind: "auto" };
  if (s === "cuda" || s === "mps" || s === "webgpu") return { kind: "webgpu", index: 0 };
  const m = /^(?:(?:cuda|webgpu):)?(\d+)$/.exec(s);
  if (m === null) return null;
  const index = Number(m[1]);
  return Number.isSafeInteger(index) ? { kind: "webgpu", index } : null;
}

/** Words describing what a flag accepts, for errors and help: `an integer >= 2`. */
export function expectedText(spec: FlagSpec): string {
  switch (spec.kind) {
    case "bool":
      return "no value (it is a switch)";
    case "enum":
      return `one of ${spec.values.join(", ")}`;
    case "device":
      return "a GPU index, cuda, cuda:N, mps, cpu or auto";
    case "string":
    case "path":
      return spec.kind === "path" ? "a non-empty path" : "a non-empty value";
    case "int":
    case "float": {
      const noun = spec.kind === "int" ? "an integer" : "a number";
      if (spec.values !== undefined) return `one of ${spec.values.join(", ")}`;
      return `${noun}${rangeText(spec.range)}`;
    }
  }
}

function rangeText(r: NumberRange | undefined): string {
  if (r === undefined) return "";
  const { min, max } = r;
  if (min !== undefined && max !== undefined) {
    const open = r.minExclusive ? "(" : "[";
    const close = r.maxExclusive ? ")" : "]";
    return ` in ${open}${min}, ${max}${close}`;
  }
  if (min !== undefined) return ` ${r.minExclusive ? ">" : ">="} ${min}`;
  if (max !== undefined) return ` ${r.maxExclusive ? "<" : "<="} ${max}`;
  return "";
}

// Python's float() and int() accept these forms; hex, "inf" and "nan" are refused on purpose.
const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function inRange(x: number, r: NumberRange | undefined): boolean {
  if (r === undefined) return true;
  if (r.min !== undefined && (r.minExclusive ? x <= r.min : x < r.min)) return false;
  if (r.max !== undefined && (r.maxExclusive ? x >= r.max : x > r.max)) return false;
  return true;
}

/**
 * Parses one raw command-line value for `spec`; throws a {@link FlagError} of code `bad_value`
 * (`Cannot parse --group_size: expected an integer >= 2, got "1"`).
 */
export function parseFlagValue(spec: FlagSpec, raw: string): string | number | boolean {
  const fail = (): never => {
    throw new FlagError(
      "bad_value",
      `--${spec.name}`,
      `Cannot parse --${spec.name}: expected ${expectedText(spec)}, got ${JSON.stringify(raw)}`,
    );
  };
  const s = raw.trim();
  switch (spec.kind) {
    case "bool":
      return fail();
    case "enum":
      return spec.values.includes(s) ? s : fail();
    case "device":
      return resolveDevice(s) === null ? fail() : s;
    case "string":
    case "path":
      return s === "" ? fail() : raw;
    case "int": {
      if (!INT_RE.test(s)) return fail();
      const x = Number(s);
      if (!Number.isSafeInteger(x) || !inRange(x, spec.range)) return fail();
      if (spec.values !== undefined && !spec.values.includes(x)) return fail();
      return x;
    }
    case "float": {
      if (!FLOAT_RE.test(s)) return fail();
      const x = Number(s);
      if (!Number.isFinite(x) || !inRange(x, spec.range)) return fail();
      return x;
    }
  }
}

/** A default as the seed's help prints it: floats keep a decimal point (`20.0`, `5e-07`). */
export function formatDefault(spec: FlagSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  if (d === null) return "none";
  if (spec.kind === "float" && typeof d === "number" && Number.isInteger(d)) return d.toFixed(1);
  return String(d);
}

function placeholder(spec: FlagSpec): string {
  switch (spec.kind) {
    case "bool":
      return "";
    case "enum": {
      const list = spec.values.join("|");
      return list.length <= 24 ? ` <${list}>` : " <name>";
    }
    case "int":
      return spec.values !== undefined ? ` <${spec.values.join("|")}>` : " <int>";
    case "float":
      return " <float>";
    case "path":
      return " <path>";
    case "device":
      return " <device>";
    case "string":
      return " <value>";
  }
}

/** The help line of one flag: meaning, what it accepts, default. */
export function flagDescription(spec: FlagSpec): string {
  const listed = spec.kind === "enum" && spec.values.join("|").length <= 24;
  // Numbers say their range; strings, paths and the device say what they are in their meaning.
  const numeric = spec.kind === "int" || spec.kind === "float";
  const accepts = numeric || (spec.kind === "enum" && !listed) ? `; ${expectedText(spec)}` : "";
  const dflt = "required" in spec && spec.required ? "required" : `default: ${formatDefault(spec)}`;
  return `${spec.meaning}${accepts} (${dflt})`;
}

/** What a command is, for its commander program and help. */
export interface CommandInfo {
  /** As the user types it: `deno task train-grpo`. */
  readonly usageName: string;
  /** One line saying what it does. */
  readonly summary: string;
  /** Paragraph shown under the flag list. */
  readonly epilogue: string;
}

const DRY_RUN_MEANING =
  "Check the flags, print the resolved configuration as JSON and exit without touching files " +
  "or devices";

function buildProgram(info: CommandInfo, table: readonly FlagSpec[]): Command {
  const cmd = new Command()
    .name(info.usageName)
    .description(info.summary)
    .exitOverride()
    .allowExcessArguments(true) // stray words are reported by us, with a suggestion
    .helpOption("-h, --help", "show this help and exit")
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  for (const spec of table) {
    cmd.addOption(new Option(`--${spec.name}${placeholder(spec)}`, flagDescription(spec)));
  }
  cmd.addOption(
    new Option("--dry-run", DRY_RUN_MEANING),
  );
  return cmd;
}

/** The `--help` text of a command, generated from its flag table, grouped by section. */
export function helpText(info: CommandInfo, table: readonly FlagSpec[]): string {
  const width = 100;
  const termWidth = 34;
  const entry = (term: string, text: string): string[] => {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
      if (line !== "" && termWidth + line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    lines.push(line);
    const head = `  ${term}`;
    const first = head.length < termWidth
      ? head.padEnd(termWidth)
      : `${head}\n${" ".repeat(termWidth)}`;
    return [first + lines[0], ...lines.slice(1).map((l) => " ".repeat(termWidth) + l)];
  };
  const out = [`Usage: ${info.usageName} [flags]`, "", info.summary];
  const groups = [...new Set(table.map((s) => s.group))];
  for (const group of groups) {
    out.push("", `${group}:`);
    for (const spec of table.filter((s) => s.group === group)) {
      out.push(...entry(`--${spec.name}${placeholder(spec)}`, flagDescription(spec)));
    }
  }
  out.push("", "other:");
  out.push(...entry("--dry-run", DRY_RUN_MEANING));
  out.push(...entry("-h, --help", "Show this help and exit"));
  out.push("", info.epilogue, "");
  return out.join("\n");
}

/**
 * The flag reference of a command as a Markdown table per group (for the README): flag, type,
 * default and meaning, generated from the same table as the parser and `--help`.
 */
export function flagReferenceMarkdown(table: readonly FlagSpec[]): string {
  const out: string[] = [];
  for (const group of [...new Set(table.map((s) => s.group))]) {
    out.push(`#### ${group}`, "", "| flag | type | default | meaning |", "|---|---|---|---|");
    for (const spec of table.filter((s) => s.group === group)) {
      const type = spec.kind === "bool" ? "switch" : placeholder(spec).trim();
      const dflt = "required" in spec && spec.required ? "required" : formatDefault(spec);
      const cell = (t: string) => t.replaceAll("|", "\\|");
      out.push(`| \`--${spec.name}\` | ${cell(type)} | ${cell(dflt)} | ${cell(spec.meaning)} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** The flag name closest to `word` (ignoring leading dashes and spaces), if it is close. */
export function suggestFlag(table: readonly FlagSpec[], word: string): string | null {
  const w = word.trim().replace(/^-+/, "").split("=")[0];
  let best: string | null = null;
  let bestD = Infinity;
  for (const spec of table) {
    const d = editDistance(w, spec.name);
    if (d < bestD) [best, bestD] = [spec.name, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(w.length / 4)) ? best : null;
}

function strayMessage(table: readonly FlagSpec[], argv: readonly string[], word: string): string {
  const head = `Cannot parse command line: unexpected argument ${JSON.stringify(word)}`;
  const trimmed = word.trim();
  const known = table.find((s) => `--${s.name}` === trimmed.split("=")[0]);
  if (trimmed.startsWith("--") && known !== undefined && trimmed !== word) {
    return `${head}: did you mean --${known.name}? (a backslash before a space glues the space ` +
      `to the next word; a line continuation needs the backslash last on the line)`;
  }
  const at = argv.indexOf(word);
  const before = at > 0 ? argv[at - 1] : "";
  const sw = table.find((s) => s.kind === "bool" && `--${s.name}` === before);
  if (sw !== undefined) return `${head}: --${sw.name} is a switch and takes no value`;
  if (trimmed === "...") return `${head}: "..." stands for omitted flags; write them out`;
  const near = suggestFlag(table, word);
  if (near !== null) return `${head}: did you mean --${near}?`;
  return `${head}: every flag starts with -- and takes at most one value`;
}

function commanderMessage(table: readonly FlagSpec[], err: CommanderError): FlagError {
  const quoted = /'(-[^']*)'/.exec(err.message)?.[1] ?? "";
  if (err.code === "commander.unknownOption") {
    const [name, value] = quoted.split(/=(.*)/s);
    const sw = table.find((s) => s.kind === "bool" && `--${s.name}` === name);
    if (sw !== undefined && value !== undefined) {
      return new FlagError(
        "bad_value",
        name,
        `Cannot parse ${name}: it is a switch and takes no value, got ${JSON.stringify(value)}`,
      );
    }
    const near = suggestFlag(table, quoted);
    const hint = near !== null ? `: did you mean --${near}?` : ": see --help for the flags";
    return new FlagError(
      "unknown_flag",
      name,
      `Cannot parse command line: unknown flag ${name}${hint}`,
    );
  }
  if (err.code === "commander.optionMissingArgument") {
    const name = quoted.split(" ")[0];
    const spec = table.find((s) => `--${s.name}` === name);
    const want = spec !== undefined ? expectedText(spec) : "a value";
    return new FlagError(
      "missing_value",
      name,
      `Cannot parse ${name}: expected ${want}, got nothing`,
    );
  }
  return new FlagError(
    "unknown_flag",
    null,
    `Cannot parse command line: ${err.message.replace(/^error:\s*/, "")}`,
  );
}

/** Result of {@link parseFlagTable}. */
export interface ParsedFlags<S extends FlagSpec> {
  /** Every flag's value (defaults filled in). */
  values: FlagValues<S>;
  /** Where each value came from. */
  sources: Record<S["name"], ValueSource>;
  /** `--dry-run` was given. */
  dryRun: boolean;
}

/**
 * Parses `argv` (the words after the command) against `table` with commander: unknown flags,
 * stray words, missing and malformed values and missing required flags throw a
 * {@link FlagError}; `--help` throws {@link HelpRequested}. Combination rules are the caller's.
 */
export function parseFlagTable<S extends FlagSpec>(
  info: CommandInfo,
  table: readonly S[],
  argv: readonly string[],
): ParsedFlags<S> {
  const cmd = buildProgram(info, table);
  try {
    cmd.parse([...argv], { from: "user" });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === "commander.helpDisplayed" || err.code === "commander.help") {
      throw new HelpRequested(helpText(info, table));
    }
    throw commanderMessage(table, err);
  }
  const raw = cmd.opts<Record<string, string | boolean | undefined>>();
  for (const spec of table) {
    const given = raw[spec.name];
    if (typeof given === "string" && given.startsWith("--")) {
      // commander hands the next word to a flag that needs a value, even when it is a flag.
      throw new FlagError(
        "missing_value",
        `--${spec.name}`,
        `Cannot parse --${spec.name}: expected ${expectedText(spec)}, got the flag ${
          JSON.stringify(given)
        }`,
      );
    }
  }
  if (cmd.args.length > 0) {
    throw new FlagError("unexpected_argument", null, strayMessage(table, argv, cmd.args[0]));
  }
  const values: Record<string, string | number | boolean | null> = {};
  const sources: Record<string, ValueSource> = {};
  for (const spec of table) {
    const given = raw[spec.name];
    if (given === undefined) {
      if ("required" in spec && spec.required) {
        throw new FlagError(
          "missing_flag",
          `--${spec.name}`,
          `Cannot run ${info.usageName}: --${spec.name} is required (${spec.meaning.toLowerCase()})`,
        );
      }
      values[spec.name] = spec.default;
      sources[spec.name] = "default";
      continue;
    }
    values[spec.name] = typeof given === "boolean" ? given : parseFlagValue(spec, given);
    sources[spec.name] = "flag";
  }
  return {
    values: values as FlagValues<S>,
    sources: sources as Record<S["name"], ValueSource>,
    dryRun: raw.dryRun === true,
  };
}

/**
 * Throws a `missing_file` {@link FlagError} for the first `mustExist` path flag whose file is
 * absent. Only run for a real run: a dry run never touches files.
 * `active(name)` says whether a flag is in use (the TMR paths only with `--reward_model_type tmr`).
 */
export async function checkInputFiles(
  table: readonly FlagSpec[],
  values: Readonly<Record<string, unknown>>,
  active: (name: string) => boolean = () => true,
): Promise<void> {
  for (const spec of table) {
    if (spec.kind !== "path" || !spec.mustExist || !active(spec.name)) continue;
    const path = values[spec.name];
    if (typeof path !== "string") continue;
    const stat = await Deno.stat(path).catch(() => null);
    if (stat === null || !stat.isFile) {
      throw new FlagError(
        "missing_file",
        `--${spec.name}`,
        `Cannot read --${spec.name} ${JSON.stringify(path)}: no such file`,
      );
    }
  }
}

/** The `--dry-run` report: every flag with its value, whether it was defaulted and its source. */
export function dryRunReport(
  command: string,
  values: Readonly<Record<string, unknown>>,
  sources: Readonly<Record<string, ValueSource>>,
  extra: Readonly<Record<string, unknown>>,
): string {
  const flags: Record<string, { value: unknown; defaulted: boolean; source: ValueSource }> = {};
  for (const [name, value] of Object.entries(values)) {
    const source = sources[name];
    flags[name] = { value, defaulted: source !== "flag", source };
  }
  return JSON.stringify({ command, dry_run: true, flags, ...extra }, null, 2);
}

/**
 * The rows of `table` named in `names`, in that order, keeping their literal types: lets a
 * command share rows with another command's table.
 */
export function pickFlags<T extends FlagSpec, N extends T["name"]>(
  table: readonly T[],
  names: readonly N[],
): Extract<T, { name: N }>[] {
  return names.map((name) => {
    const spec = table.find((s) => s.name === name);
    if (spec === undefined) {
      throw new RangeError(`Cannot pick flag --${name}: it is not in the table`);
    }
    return spec as Extract<T, { name: N }>;
  });
}
