/**
 * `--train_platform_type WandBPlatform`. Logging to Weights & Biases needs its service on the
 * network and its client protocol, neither of which this build has, so the platform refuses to
 * start (before anything is written) with a line that says what to do instead: train with
 * `TensorboardPlatform` and upload the event files afterwards with `wandb sync <save_dir>`,
 * which imports TensorBoard logs.
 *
 * @module
 */
import { PlatformUnavailableError } from "./platform_error.ts";
import type { MetricSink } from "./sink.ts";

/** Where the platform reads its settings from (`Deno.env` by default). */
export interface EnvReader {
  get(key: string): string | undefined;
}

/**
 * Would open a W&B run; always throws in this build.
 *
 * @param env the environment (`WANDB_API_KEY` is checked first).
 * @throws {PlatformUnavailableError} naming the missing key, or that online logging is absent.
 */
export function createWandbSink(env: EnvReader = Deno.env): MetricSink {
  const flag = "Cannot use --train_platform_type WandBPlatform";
  const key = env.get("WANDB_API_KEY");
  if (key === undefined || key.trim() === "") {
    throw new PlatformUnavailableError(
      `${flag}: WANDB_API_KEY is not set (and online W&B logging is not available in this ` +
        "build); use --train_platform_type TensorboardPlatform and upload with `wandb sync`",
    );
  }
  throw new PlatformUnavailableError(
    `${flag}: online W&B logging is not available in this build; use ` +
      "--train_platform_type TensorboardPlatform and upload the event files in --save_dir " +
      "with `wandb sync <save_dir>`",
  );
}
