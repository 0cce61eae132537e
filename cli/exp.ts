/**
 * `deno task exp <list|show|diff|run|verify>`: the experiment manifests of
 * `experiments/manifests/` (and `deno task exp1`..`exp5`, which are `exp run expN`).
 *
 * - `list`: every manifest with its profile, id (first 12 hex digits), last verification, title;
 * - `show <name>`: the manifest with its params resolved, and its full id;
 * - `diff <a> <b>`: the parameters, inputs and stages that differ;
 * - `run <name>` (`--profile mini|paper`, `--assets DIR`): run the stages into `runs/<name>/`;
 * - `verify <name>` (`--checkpoint FILE`): rerun into a temp folder and compare with `expected`
 *   (exit 2 on a mismatch); it first checks the inputs and the manifest against the last run's
 *   lock and names what changed;
 * - `verify --table FILE [name]`: check a published results table (Markdown or CSV) against the
 *   runs its rows name (`runs/<name>/results.json`); exit 2 on a mismatch or a row without a run
 *   (see `experiments/table_check.ts`);
 * - `record <name>`: copy `runs/<name>/results.json` into the manifest's `expected`.
 *
 * Every subcommand takes `--manifests DIR` (default `experiments/manifests`); `list`, `run`,
 * `verify` and `record` take `--runs DIR` (default `runs/`).
 * Bad flags, unknown experiments and invalid manifests print one line and exit with code 2.
 * @module
 */
import { Command, CommanderError, Option } from "commander";
import {
  findManifest,
  formatDiff,
  formatList,
  formatShow,
  listRows,
  type Manifest,
  MANIFEST_DIR,
  manifestNames,
  RUNS_DIR,
} from "../experiments/mod.ts";
import { writeJsonAtomic } from "../experiments/_atomic.ts";
import { checkTable, formatTableCheck } from "../experiments/table_check.ts";

const COMMAND = "deno task exp";

/** A bad request; its message is the one line to print. */
class UsageError extends Error {}

interface RunOptions {
  profile?: "mini" | "paper";
  assets?: string;
  manifests: string;
  checkpoint?: string;
  table?: string;
  runs?: string;
}

/** The manifest `name` stands for under `--profile` (`exp5` + paper is `exp5-paper`). */
async function pickManifest(name: string, verb: string, opts: RunOptions): Promise<Manifest> {
  const m = await findManifest(name, opts.manifests);
  const want = opts.profile ?? m.profile;
  if (want === m.profile) return m;
  const twin = want === "paper" ? `${name}-paper` : name.replace(/-paper$/, "");
  if (twin === name || !(await manifestNames(opts.manifests)).includes(twin)) {
    throw new UsageError(`Cannot ${verb} ${name} --profile ${want}: there is no ${want} manifest`);
  }
  return await findManifest(twin, opts.manifests);
}

/** `verify --table FILE [name]`: prints the comparison; throws when a row fails. */
async function verifyTable(
  table: string,
  name: string | undefined,
  opts: RunOptions,
  print: (s: string) => void,
): Promise<void> {
  for (const flag of ["checkpoint", "profile", "assets"] as const) {
    if (opts[flag] !== undefined) {
      throw new UsageError(
        `Cannot verify --table "${table}" with --${flag}: a table is checked against the ` +
          `recorded runs (runs/<name>/results.json), nothing is rerun`,
      );
    }
  }
  const c = await checkTable(table, {
    manifestsDir: opts.manifests,
    ...(opts.runs ? { runsDir: opts.runs } : {}),
    ...(name !== undefined ? { only: name } : {}),
  });
  print(formatTableCheck(c));
  if (!c.passed) {
    const n = c.rows.filter((r) => !r.ok).length;
    throw new Error(
      `Verification of table "${table}" failed: ${n} row${n === 1 ? "" : "s"} ` +
        `did not match (see above)`,
    );
  }
}

async function runOrVerify(
  verb: "run" | "verify",
  name: string | undefined,
  opts: RunOptions,
  print: (s: string) => void,
): Promise<void> {
  if (opts.table !== undefined) return await verifyTable(opts.table, name, opts, print);
  if (name === undefined) {
    throw new UsageError(`Cannot ${verb}: name an experiment (deno task exp list shows them)`);
  }
  const m = await pickManifest(name, verb, opts);
  if (m.profile === "paper") {
    if (opts.assets === undefined) {
      throw new UsageError(`Cannot ${verb} ${m.name}: the paper profile needs --assets DIR`);
    }
    const info = await Deno.stat(opts.assets).catch(() => null);
    if (info === null || !info.isDirectory) {
      throw new UsageError(`Cannot ${verb} ${m.name}: --assets "${opts.assets}" is not a folder`);
    }
  }
  // Loaded on demand: the trainer and the evaluation are not needed by list, show and diff.
  const { runManifest } = await import("../experiments/runner.ts");
  await runManifest(m, verb, {
    assets: opts.assets,
    checkpoint: opts.checkpoint,
    ...(opts.runs ? { runsDir: opts.runs } : {}),
  });
}

const DIR_HELP = "folder of the manifests";
const RUNS_HELP = "folder of the run folders";

/**
 * The commander program of `deno task exp`, every subcommand with its options; `print` receives
 * the output (help and the subcommands' text).
 */
export function program(print: (s: string) => void = (s) => console.log(s)): Command {
  const prog = new Command()
    .name(COMMAND)
    .description("Experiment manifests: list, show, diff, run, verify.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => print(s.trimEnd()), writeErr: () => {} });
  prog.command("list").description("List every manifest with its id and last verification")
    .option("--manifests <dir>", DIR_HELP, MANIFEST_DIR)
    .option("--runs <dir>", RUNS_HELP, RUNS_DIR)
    .action(async (opts: { manifests: string; runs?: string }) => {
      print(formatList(await listRows(opts.manifests, opts.runs)));
    });
  prog.command("show <name>").description("Show a manifest and its id")
    .option("--manifests <dir>", DIR_HELP, MANIFEST_DIR)
    .action(async (name: string, opts: { manifests: string }) => {
      print(await formatShow(await findManifest(name, opts.manifests)));
    });
  prog.command("diff <a> <b>").description("Show the parameter-level differences")
    .option("--manifests <dir>", DIR_HELP, MANIFEST_DIR)
    .action(async (a: string, b: string, opts: { manifests: string }) => {
      const [ma, mb] = [
        await findManifest(a, opts.manifests),
        await findManifest(b, opts.manifests),
      ];
      print(formatDiff(ma, mb));
    });
  for (const verb of ["run", "verify"] as const) {
    const cmd = prog.command(verb === "run" ? "run <name>" : "verify [name]")
      .description(
        verb === "run"
          ? "Run an experiment"
          : "Rerun and compare with the record, or check a published table (--table)",
      )
      .addOption(new Option("--profile <profile>", "mini or paper").choices(["mini", "paper"]))
      .option("--assets <dir>", "folder of the paper profile's inputs ($ASSETS)")
      .option("--manifests <dir>", DIR_HELP, MANIFEST_DIR)
      .option("--runs <dir>", RUNS_HELP, RUNS_DIR);
    if (verb === "verify") {
      cmd.option("--checkpoint <file>", "re-evaluate this checkpoint instead of training")
        .option(
          "--table <file>",
          "check a published results table (Markdown or CSV) against the recorded runs",
        );
    }
    cmd.action((name: string | undefined, opts: RunOptions) =>
      runOrVerify(verb, name, opts, print)
    );
  }
  prog.command("record <name>").description("Copy a run's results into the manifest's expected")
    .option("--manifests <dir>", DIR_HELP, MANIFEST_DIR)
    .option("--runs <dir>", RUNS_HELP, RUNS_DIR)
    .action(async (name: string, opts: { manifests: string; runs?: string }) => {
      const m = await findManifest(name, opts.manifests);
      const { recordedManifest } = await import("../experiments/runner.ts");
      const r = await recordedManifest(m, opts.runs ? { runsDir: opts.runs } : {});
      await writeJsonAtomic(`${opts.manifests.replace(/\/$/, "")}/${name}.json`, r);
      print(`Recorded ${Object.keys(r.expected!.metrics).length} expected metrics in ${name}`);
    });
  return prog;
}

/** Runs the command line `args`; returns the exit code (0, or 2 after one error line). */
export async function main(args: string[]): Promise<number> {
  try {
    await program((s) => console.log(s)).parseAsync(args, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      console.error(`Invalid command line: ${err.message.replace(/^error: /, "")}`);
      return 2;
    }
    if (err instanceof Error) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
