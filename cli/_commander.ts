/**
 * Shared commander plumbing for the commands built on it (make-mini, pretrain-mdm,
 * construct-composite, build-mini-models, export-onnx): a usage error class and an integer
 * parser for value parsers, and one parse step that turns
 * every commander failure into the project's one-line message and exit code 2.
 * @module
 */
import { type Command, CommanderError } from "commander";

/** A bad flag value, thrown by a command's value parsers; shown as one line, exit code 2. */
export class UsageError extends Error {}

/** A commander value parser for an integer in [min, max], naming `flag` when it is not one. */
export function intFlag(flag: string, min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\+?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new UsageError(`Invalid ${flag} "${value}": use an integer in [${min}, ${max}]`);
    }
    return n;
  };
}

/**
 * The first word of `args` that is neither a flag nor a flag's value. Which flags take no value
 * is read from the program's own option table, so it cannot drift from it.
 */
export function strayWord(cmd: Command, args: readonly string[]): string {
  const switches = new Set(
    cmd.options.filter((o) => !o.required && !o.optional).map((o) => o.long),
  );
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--")) {
      if (!a.includes("=") && !switches.has(a)) i++;
      continue;
    }
    return a;
  }
  return args[args.length - 1] ?? "";
}

/**
 * Parses `args` into `cmd` (built with `exitOverride()`); returns null on success, else the exit
 * code after printing one line `Cannot run <command>: ...` (0 for --help).
 */
export function parseOrReport(cmd: Command, args: string[], command: string): number | null {
  try {
    cmd.parse(args, { from: "user" });
    return null;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help") return 0;
      const detail = err.code === "commander.excessArguments"
        ? `unexpected word "${strayWord(cmd, args)}" (every flag starts with --)`
        : err.message.replace(/^error:\s*/, "");
      console.error(`Cannot run ${command}: ${detail}`);
      return 2;
    }
    if (err instanceof UsageError) {
      console.error(`Cannot run ${command}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
