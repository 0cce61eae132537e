/**
 * `deno task exp <list|show|diff|run|verify>`: the experiment manifests of
 * `experiments/manifests/` (and `deno task exp1`..`exp5`, which are `exp run expN`).
 *
 * - `list`: every manifest with its profile, id (first 12 hex digits), last verification, title;
 * - `show <name>`: the manifest with its params resolved, and its full id;
 * - `diff <a> <b>`: the parameters, inputs and stages that differ;
 * - `run <name>` (`--profile mini|paper`, `--assets DIR`): run the stages into `runs/<name>/`;
 * - `verify <name>` (`--checkpoint FILE`): rerun into a temp folder and compare with `expected`
 *   (exit 2 on a mismatch); `--table FILE` is not available in this version;
 * - `record <name>`: copy `runs/<name>/results.json` into the manifest's `expected`.
 *
 * Every subcommand takes `--manifests DIR` (default `experiments/manifests`).
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
} from "../experiments/mod.ts";
import { writeJsonAtomic } from "../experiments/_atomic.ts";

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

async function runOrVerify(verb: "run" | "verify", name: string, opts: RunOptions): Promise<void> {
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
  if (opts.table !== undefined) {
    throw new UsageError(`Cannot verify --table "${opts.table}": not available in this version`);
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

function program(print: (s: string) => void): Command {
  const prog = new Command()
    .name(COMMAND)
    .description("Experiment manifests: list, show, diff, run, verify.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => print(s.trimEnd()), writeErr: () => {} });
  prog.command("list").description("List every experiment manifest")
    .option("--manifests <dir>", DIR_HELP, MANIFEST_DIR)
    .action(async (opts: { manifests: string }) => {
      print(formatList(await listRows(opts.manifests)));
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
    const cmd = prog.command(`${verb} <name>`)
      .description(verb === "run" ? "Run an experiment" : "Rerun and compare with the record")
      .addOption(new Option("--profile <profile>", "mini or paper").choices(["mini", "paper"]))
      .option("--assets <dir>", "folder of the paper profile's inputs ($ASSETS)")
      .option("--manifests <dir>", DIR_HELP, MANIFEST_DIR)
      .option("--runs <dir>", "folder of the run folders (default runs/)");
    if (verb === "verify") {
      cmd.option("--checkpoint <file>", "re-evaluate this checkpoint instead of training")
        .option("--table <file>", "check a published table (not available yet)");
    }
    cmd.action((name: string, opts: RunOptions) => runOrVerify(verb, name, opts));
  }
  prog.command("record <name>").description("Copy a run's results into the manifest's expected")
    .option("--manifests <dir>", DIR_HELP, MANIFEST_DIR)
    .option("--runs <dir>", "folder of the run folders (default runs/)")
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
