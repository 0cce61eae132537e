/**
 * `deno task sample`: text → motion with a trained model. Every `--text` (repeatable) is generated
 * `--num_repetitions` times with `--length` frames; each motion is saved as raw features
 * `(T, 263|251)` and joint positions `(T, J, 3)` `.npy`, all are drawn side by side in one
 * `samples.html`, and `samples.json` indexes them (see `eval/run/sample.ts`). The paths are
 * printed.
 *
 * Bad flags print ONE line naming the flag and exit 2; `--dry-run` prints the configuration;
 * `--help` lists the flags. A model conditioned on CLIP (every official MDM checkpoint) reads CLIP
 * from the ONNX export in `$MOTION_GRPO_ASSETS/clip/` (models/text/assets.ts); without those files
 * it stops with exit code 2 and one line naming the variable and the path expected.
 * @module
 */
import {
  checkInputFiles,
  type CommandInfo,
  type DeviceRequest,
  dryRunReport,
  FlagError,
  type FlagSpec,
  type FlagValues,
  HelpRequested,
  parseFlagTable,
  pickFlags,
  resolveDevice,
  type ValueSource,
} from "./_flags.ts";
import { TRAIN_GRPO_FLAGS } from "./train_grpo_flags.ts";
import { runSample } from "../eval/run/run_sample.ts";
import { UnavailableError } from "../eval/run/load_assets.ts";

const INFO: CommandInfo = {
  usageName: "deno task sample",
  summary: "Generate motions for texts with a trained model; save .npy files and an HTML page.",
  epilogue: "--text may be given several times; every text gets --num_repetitions motions.\n" +
    "--dry-run never touches files or devices.",
};

const OWN_FLAGS = [
  {
    name: "model_path",
    kind: "path",
    default: null,
    required: true,
    mustExist: true,
    group: "core",
    meaning: "Model checkpoint (model####.pt or model_final.pt, args.json beside it)",
  },
  {
    name: "text",
    kind: "string",
    default: null,
    group: "core",
    meaning: "A text to generate for; repeat the flag for several texts (at least one)",
  },
  {
    name: "length",
    kind: "int",
    default: 120,
    range: { min: 1, max: 196 },
    group: "core",
    meaning: "Frames per motion (20 fps for HumanML3D: 120 = 6 s)",
  },
  {
    name: "num_repetitions",
    kind: "int",
    default: 3,
    range: { min: 1, max: 256 },
    group: "core",
    meaning: "Motions generated per text",
  },
  {
    name: "output_dir",
    kind: "string",
    default: null,
    defaultText: "<model dir>/samples_seed<seed>",
    group: "core",
    meaning: "Folder for the .npy files, samples.html and samples.json",
  },
  {
    name: "guidance_param",
    kind: "float",
    default: 2.5,
    range: { min: 0 },
    group: "core",
    meaning: "Classifier-free guidance scale s (1 means no guidance)",
  },
] as const satisfies readonly FlagSpec[];

/** Every flag of `sample`, in `--help` order. */
export const SAMPLE_FLAGS = [
  ...OWN_FLAGS,
  ...pickFlags(TRAIN_GRPO_FLAGS, ["dataset", "data_dir", "seed", "device"]),
];

type SampleFlagSpec = (typeof SAMPLE_FLAGS)[number];

/** A checked sample command line. */
export interface SampleConfig {
  flags: FlagValues<SampleFlagSpec>;
  /** Every `--text`, in order. */
  texts: string[];
  sources: Record<SampleFlagSpec["name"], ValueSource>;
  device: DeviceRequest;
  dryRun: boolean;
}

/**
 * Parses a sample command line. `--text` may repeat (`--text a --text b`, or `--text=a`).
 * Throws {@link FlagError} with one line on bad input, {@link HelpRequested} for `--help`.
 */
export function parseSampleArgs(argv: readonly string[]): SampleConfig {
  const texts: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--text") {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) {
        throw new FlagError(
          "missing_value",
          "--text",
          "Cannot parse --text: expected a text, got nothing",
        );
      }
      texts.push(v);
      i++;
    } else if (a.startsWith("--text=")) texts.push(a.slice("--text=".length));
    else rest.push(a);
  }
  const { values, sources, dryRun } = parseFlagTable(INFO, SAMPLE_FLAGS, rest);
  const blank = texts.findIndex((t) => t.trim() === "");
  if (blank >= 0) {
    throw new FlagError(
      "bad_value",
      "--text",
      `Cannot use --text number ${blank + 1}: it is empty`,
    );
  }
  if (texts.length === 0 && !dryRun) {
    throw new FlagError(
      "missing_flag",
      "--text",
      `Cannot run ${INFO.usageName}: --text is required (give it once per text)`,
    );
  }
  if (texts.length > 0) sources.text = "flag";
  const device = resolveDevice(values.device);
  if (device === null) throw new Error("unreachable: --device was validated by the table");
  return { flags: values, texts, sources, device, dryRun };
}

/** Runs the command on `argv`; returns the exit code (0 ok, 1 bad data, 2 bad flags, missing input or unavailable). */
export async function main(argv: string[]): Promise<number> {
  try {
    const config = parseSampleArgs(argv);
    if (config.dryRun) {
      console.log(dryRunReport("sample", { ...config.flags, text: config.texts }, config.sources, {
        device: config.device,
        files_checked: false,
      }));
      return 0;
    }
    await checkInputFiles(SAMPLE_FLAGS, config.flags);
    const f = config.flags;
    const result = await runSample({
      model_path: f.model_path,
      texts: config.texts,
      length: f.length,
      num_repetitions: f.num_repetitions,
      output_dir: f.output_dir,
      seed: f.seed,
      guidance_param: f.guidance_param,
      dataset: f.dataset,
      data_dir: f.data_dir,
      device: config.device,
    });
    for (const m of result.motions) console.log(`${m.features}\t${m.joints}\t${m.text}`);
    console.log(`Wrote ${result.page}`);
    console.log(`Wrote ${result.index}`);
    return 0;
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(err.text);
      return 0;
    }
    if (
      err instanceof FlagError || err instanceof UnavailableError ||
      err instanceof Deno.errors.NotFound
    ) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof RangeError || err instanceof SyntaxError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
