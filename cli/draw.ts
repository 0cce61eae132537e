/**
 * `deno task draw`: draws motions as an animated stick figure, several side by side.
 *
 *   deno task draw --input a.npy --input b.npy --caption "a person waves" \
 *     --label base --label fine-tuned --output out.html
 *
 * Inputs are `.npy` features `(T, 263|251)` or joints `(T, 22|21, 3)`; with `--mean`/`--std`
 * the features are de-normalised first. `.html` output has play/pause and a frame slider;
 * `.svg` is the animation alone. Bad flags print one line and exit with code 2.
 * @module
 */
import { Command, CommanderError } from "commander";
import { loadNpy, npyToFloat32 } from "../datasets/npy.ts";
import { saveMotionAnimation } from "../viz/motion_page.ts";
import { type Denormalise, loadMotionPanel } from "../viz/motion_file.ts";

const COMMAND = "deno task draw";

interface Flags {
  input: string[];
  caption: string;
  label: string[];
  output: string;
  fps?: number;
  mean?: string;
  std?: string;
  title?: string;
}

function program(): Command {
  const collect = (v: string, prev: string[]) => [...prev, v];
  return new Command()
    .name(COMMAND)
    .description("Draw motions (.npy features or joints) as an animated stick figure.")
    .requiredOption("--input <file>", "motion .npy, repeat for side-by-side panels", collect, [])
    .option("--caption <text>", "text shown above every panel", "")
    .option("--label <text>", "label per panel, in --input order", collect, [])
    .requiredOption("--output <file>", "output .html (with controls) or .svg")
    .option("--fps <n>", "frames per second (default 20, KIT 12.5)", (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new RangeError(`Cannot parse --fps: expected a number > 0, got "${v}"`);
      return n;
    })
    .option("--mean <file>", "Mean.npy: the inputs are normalised features")
    .option("--std <file>", "Std.npy, with --mean")
    .option("--title <text>", "title above the panels")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}

/** Runs the command on `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const cmd = program();
  try {
    cmd.parse(args, { from: "user" });
    const f = cmd.opts<Flags>();
    if (f.label.length > f.input.length) {
      throw new RangeError(
        `Cannot parse --label: ${f.label.length} labels for ${f.input.length} inputs`,
      );
    }
    if (!!f.mean !== !!f.std) {
      throw new RangeError("Cannot parse --mean/--std: give both or neither");
    }
    let denorm: Denormalise | undefined;
    if (f.mean && f.std) {
      denorm = {
        mean: npyToFloat32(await loadNpy(f.mean), f.mean),
        std: npyToFloat32(await loadNpy(f.std), f.std),
      };
    }
    const loaded = await Promise.all(f.input.map((p) => loadMotionPanel(p, f.caption, denorm)));
    const panels = loaded.map((l, i) => ({ ...l.panel, label: f.label[i] }));
    await saveMotionAnimation(f.output, panels, {
      fps: f.fps ?? loaded[0].spec.fps,
      title: f.title,
    });
    console.log(`Wrote ${f.output} (${panels.length} motion${panels.length > 1 ? "s" : ""})`);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help") return 0;
      console.error(`Cannot run ${COMMAND}: ${err.message.replace(/^error:\s*/, "")}`);
      return 2;
    }
    if (err instanceof Error && !(err instanceof Deno.errors.PermissionDenied)) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
