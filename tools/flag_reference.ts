/**
 * The README's flag reference, generated from the command-line definitions:
 *
 *   deno run -A tools/flag_reference.ts           # rewrite README.md between the markers
 *   deno run -A tools/flag_reference.ts --check   # exit 1 when README.md is out of date
 *   deno run -A tools/flag_reference.ts --readme FILE [--check]   # another copy
 *
 * Commands built on a flag table (`train-grpo`, `eval-humanml`, `sample`) are rendered with
 * `flagReferenceMarkdown` from that table, the same one their commander parser and `--help` use.
 * Commands that declare their options on a commander program (`construct-composite`,
 * `pretrain-mdm`, `make-mini`, `build-mini-models`, `draw`, `export-onnx`, `exp`) are rendered from that program:
 * `exp` exports it; for the others the program their own `main` builds is read at its parse step,
 * which is stopped before it parses anything (see {@link captureProgram}).
 *
 * The text goes between `<!-- flags:begin -->` and `<!-- flags:end -->` in README.md; nothing
 * else in the file is touched.
 * @module
 */
import { fileURLToPath } from "node:url";
import { Command, CommanderError, type Option } from "commander";
import { flagReferenceMarkdown, type FlagSpec, HelpRequested } from "../cli/_flags.ts";
import { TRAIN_GRPO_FLAGS } from "../cli/train_grpo_flags.ts";
import { EVAL_HUMANML_FLAGS } from "../cli/eval_humanml_flags.ts";

/** Marker lines around the generated section. */
export const BEGIN = "<!-- flags:begin -->";
/** See {@link BEGIN}. */
export const END = "<!-- flags:end -->";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The README the reference lives in. */
export const README_PATH = `${REPO_ROOT}README.md`;

/** A command's `main`, as every module under `cli/` exports it. */
type Main = (args: string[]) => Promise<number>;

/**
 * The commander program `main` builds: `Command.prototype.parse` is replaced for the call by a
 * function that keeps the program and throws commander's own "help displayed" error, which every
 * `main` answers by returning 0 without printing. Nothing is parsed, read or written.
 */
export async function captureProgram(label: string, main: Main): Promise<Command> {
  const proto = Command.prototype;
  const parse = proto.parse;
  const parseAsync = proto.parseAsync;
  let captured: Command | null = null;
  const stop = (cmd: Command): never => {
    captured = cmd;
    throw new CommanderError(0, "commander.helpDisplayed", "(flag reference)");
  };
  proto.parse = function (this: Command) {
    return stop(this);
  };
  proto.parseAsync = function (this: Command) {
    try {
      return stop(this);
    } catch (e) {
      return Promise.reject(e);
    }
  };
  try {
    await main([]);
  } finally {
    proto.parse = parse;
    proto.parseAsync = parseAsync;
  }
  if (captured === null) {
    throw new Error(
      `Cannot read the flags of ${label}: its main did not build a commander program`,
    );
  }
  return captured;
}

/** A default value as the reference shows it (repository paths relative to the root). */
function defaultText(o: Option): string {
  if (o.mandatory) return "required";
  if (o.defaultValueDescription !== undefined) return o.defaultValueDescription;
  const d: unknown = o.defaultValue;
  if (d === undefined || d === null) return "none";
  if (Array.isArray(d)) return d.length === 0 ? "none" : d.join(", ");
  if (typeof d === "string") return d === "" ? '""' : d.replace(REPO_ROOT, "");
  return String(d);
}

/** The value a flag takes, as its declaration spells it (`<n>`), or `switch`. */
function typeText(o: Option): string {
  if (!o.required && !o.optional) return "switch";
  if (o.argChoices !== undefined) return `\`<${o.argChoices.join("|")}>\``;
  return `\`${o.flags.split(/[ ,]+/).filter((w) => /^[<[]/.test(w)).join(" ")}\``;
}

/**
 * Puts the type and default cells of `flagReferenceMarkdown` rows that hold `<...>` (`<int>`,
 * `<model dir>/samples`) in code spans, and escapes `<` in the meaning: Markdown would otherwise
 * read them as HTML tags and hide them.
 */
function codeTypes(markdown: string): string {
  return markdown.split("\n").map((line) => {
    if (!line.startsWith("| `--")) return line;
    // Cells split at bars that are not escaped (`<humanml\|kit>` stays one cell).
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    if (cells.length !== 4) return line;
    for (const c of [1, 2]) {
      if (cells[c].includes("<") && !cells[c].startsWith("`")) cells[c] = `\`${cells[c]}\``;
    }
    cells[3] = cells[3].replace(/(?<!\\)</g, "\\<");
    return `| ${cells.join(" | ")} |`;
  }).join("\n");
}

const cell = (t: string): string => t.replaceAll("|", "\\|").replaceAll("\n", " ");
/** Prose with `<` escaped, so that `<data_root>` is shown and not read as an HTML tag. */
const prose = (t: string): string => cell(t).replace(/(?<!\\)</g, "\\<");

/** A commander command's options as a Markdown table (help and version options left out). */
export function optionsMarkdown(cmd: Command): string {
  const rows = cmd.options.filter((o) => o.long !== "--help" && o.long !== "--version");
  if (rows.length === 0) return "No flags.\n";
  const out = ["| flag | type | default | meaning |", "|---|---|---|---|"];
  for (const o of rows) {
    out.push(
      `| \`${o.long ?? o.short}\` | ${cell(typeText(o))} | ${cell(defaultText(o))} | ${
        prose(o.description)
      } |`,
    );
  }
  return out.join("\n") + "\n";
}

/** The usage words of a subcommand: `verify [name]`. */
function usageOf(cmd: Command): string {
  const args = cmd.registeredArguments.map((a) => a.required ? `<${a.name()}>` : `[${a.name()}]`);
  return [cmd.name(), ...args].join(" ");
}

/** The summary line of a flag-table command's `--help`. */
function summaryOf(parse: (argv: string[]) => unknown): string {
  try {
    parse(["--help"]);
  } catch (e) {
    if (e instanceof HelpRequested) return e.text.split("\n")[2] ?? "";
    throw e;
  }
  throw new Error("Cannot read a summary: --help did not stop the parser");
}

function tableSection(task: string, summary: string, table: readonly FlagSpec[]): string {
  return [
    `### \`deno task ${task}\``,
    "",
    summary,
    "",
    codeTypes(flagReferenceMarkdown(table)).trimEnd(),
    "",
    "Also `--dry-run` (check the flags, print the resolved configuration as JSON and exit) and " +
    "`-h, --help`.",
    "",
  ].join("\n");
}

function programSection(task: string, cmd: Command): string {
  const out = [`### \`deno task ${task}\``, "", cmd.description(), ""];
  if (cmd.commands.length === 0) {
    out.push(optionsMarkdown(cmd));
    return out.join("\n");
  }
  for (const sub of cmd.commands) {
    out.push(`#### \`${task} ${usageOf(sub)}\``, "", sub.description(), "", optionsMarkdown(sub));
  }
  return out.join("\n");
}

/** The generated Markdown between the markers (without them). */
export async function flagReference(): Promise<string> {
  const { parseTrainGrpoArgs } = await import("../cli/train_grpo.ts");
  const { parseEvalHumanmlArgs } = await import("../cli/eval_humanml.ts");
  const { parseSampleArgs, SAMPLE_FLAGS } = await import("../cli/sample.ts");
  const sections = [
    tableSection("train-grpo", summaryOf(parseTrainGrpoArgs), TRAIN_GRPO_FLAGS),
    tableSection("eval-humanml", summaryOf(parseEvalHumanmlArgs), EVAL_HUMANML_FLAGS),
    tableSection("sample", summaryOf(parseSampleArgs), SAMPLE_FLAGS),
  ];
  const programs: [string, () => Promise<{ main: Main }>][] = [
    ["construct-composite", () => import("../cli/construct_composite.ts")],
    ["pretrain-mdm", () => import("../cli/pretrain_mdm.ts")],
    ["make-mini", () => import("../cli/make_mini.ts")],
    ["build-mini-models", () => import("../cli/build_mini_models.ts")],
    ["draw", () => import("../cli/draw.ts")],
    ["export-onnx", () => import("../cli/export_onnx.ts")],
  ];
  for (const [task, load] of programs) {
    sections.push(programSection(task, await captureProgram(task, (await load()).main)));
  }
  const { program } = await import("../cli/exp.ts");
  sections.push(programSection("exp", program(() => {})));
  return [
    "<!-- Generated from the command-line definitions by `deno run -A tools/flag_reference.ts`; " +
    "edit the flag tables in cli/, not this text. -->",
    "",
    ...sections,
  ].join("\n");
}

/**
 * `readme` with the text between the markers replaced by `reference`. Throws a RangeError when
 * the markers are missing, repeated or out of order.
 */
export function spliceReadme(readme: string, reference: string): string {
  const b = readme.indexOf(BEGIN);
  const e = readme.indexOf(END);
  if (b < 0 || e < 0 || e < b || readme.indexOf(BEGIN, b + 1) >= 0) {
    throw new RangeError(
      `Cannot update README.md: it needs one "${BEGIN}" line followed by one "${END}" line ` +
        `(in its "## Flag reference" section)`,
    );
  }
  return `${readme.slice(0, b + BEGIN.length)}\n${reference.trimEnd()}\n${readme.slice(e)}`;
}

/** `text` as `deno fmt` writes Markdown with the project's settings (tables aligned). */
export async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`Cannot format the flag reference: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Writes README.md (or with `--check`, only compares); `--readme FILE` works on another copy.
 * Returns the exit code: 0, 1 when `--check` finds it out of date, 2 for a bad command line.
 */
export async function main(args: string[]): Promise<number> {
  let check = false;
  let path = README_PATH;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--check") check = true;
    else if (args[i] === "--readme" && args[i + 1] !== undefined) path = args[++i];
    else {
      console.error(
        `Cannot run tools/flag_reference.ts: unknown argument "${args[i]}" ` +
          `(use --check, --readme FILE)`,
      );
      return 2;
    }
  }
  const readme = await Deno.readTextFile(path);
  let next: string;
  try {
    // Formatted as `deno fmt` would, so that `deno fmt --check` and `--check` agree.
    next = await formatMarkdown(spliceReadme(readme, await flagReference()));
  } catch (e) {
    if (e instanceof RangeError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  if (check) {
    if (next === readme) {
      console.log(`${path}: the flag reference is up to date`);
      return 0;
    }
    const a = readme.split("\n"), b = next.split("\n");
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    console.error(
      `${path}: the flag reference is out of date (first difference at line ${i + 1}): ` +
        `run deno run -A tools/flag_reference.ts`,
    );
    return 1;
  }
  if (next !== readme) await Deno.writeTextFile(path, next);
  console.log(next === readme ? `${path}: flag reference unchanged` : `Updated ${path}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
