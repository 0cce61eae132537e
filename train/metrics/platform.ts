/**
 * `createSinks()`: the metric sinks of a `--train_platform_type`.
 *
 * | platform              | sinks                                                     |
 * |-----------------------|-----------------------------------------------------------|
 * | `NoPlatform`          | `<save_dir>/metrics.jsonl`                                |
 * | `TensorboardPlatform` | `metrics.jsonl` + `<save_dir>/events.out.tfevents.*`      |
 * | `WandBPlatform`       | refused: online logging is not in this build (`wandb.ts`) |
 * | `ClearmlPlatform`     | refused: not in this build (`clearml.ts`)                 |
 *
 * The JSONL file is always written: it is what experiment records and `verify` read. Event
 * files go straight into `--save_dir`, so `tensorboard --logdir <save_dir>` works as in the seed.
 * A refused platform throws before any file is created.
 *
 * @module
 */
import { createClearmlSink } from "./clearml.ts";
import { JsonlSink } from "./jsonl.ts";
import type { MetricSink } from "./sink.ts";
import { TensorboardSink } from "./tensorboard.ts";
import { createWandbSink, type EnvReader } from "./wandb.ts";

/** Values of `--train_platform_type`, as in the seed. */
export const TRAIN_PLATFORM_TYPES = [
  "NoPlatform",
  "TensorboardPlatform",
  "WandBPlatform",
  "ClearmlPlatform",
] as const;

/** One of `TRAIN_PLATFORM_TYPES`. */
export type TrainPlatformType = (typeof TRAIN_PLATFORM_TYPES)[number];

/** Name of the metrics file in `--save_dir`. */
export const METRICS_JSONL = "metrics.jsonl";

/** Options of `createSinks()`. */
export interface CreateSinksOptions {
  /** Environment for the platform keys; default `Deno.env`. */
  env?: EnvReader;
  /** Wall clock in seconds since the epoch, for every sink; default `Date.now() / 1000`. */
  now?: () => number;
  /** Host name for event file names; default `Deno.hostname()`. */
  hostname?: string;
}

/**
 * Opens the sinks of a platform in `saveDir` (created if missing).
 *
 * @param platform the `--train_platform_type` value.
 * @param saveDir the `--save_dir` folder.
 * @returns the sinks, JSONL first; log to each, close each.
 * @throws {TypeError} for an unknown platform; {PlatformUnavailableError} for W&B and ClearML.
 */
export function createSinks(
  platform: TrainPlatformType | string,
  saveDir: string,
  options: CreateSinksOptions = {},
): MetricSink[] {
  const env = options.env ?? Deno.env;
  // Refusals come first, so that nothing is written for a command that will not run.
  switch (platform) {
    case "NoPlatform":
    case "TensorboardPlatform":
      break;
    case "WandBPlatform":
      return [createWandbSink(env)];
    case "ClearmlPlatform":
      return [createClearmlSink(env)];
    default:
      throw new TypeError(
        `Cannot use --train_platform_type ${platform}: expected one of ` +
          TRAIN_PLATFORM_TYPES.join(", "),
      );
  }
  Deno.mkdirSync(saveDir, { recursive: true });
  const sinks: MetricSink[] = [new JsonlSink(`${saveDir}/${METRICS_JSONL}`, options)];
  if (platform === "TensorboardPlatform") sinks.push(new TensorboardSink(saveDir, options));
  return sinks;
}
