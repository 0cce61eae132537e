/**
 * `--train_platform_type ClearmlPlatform`. ClearML logging needs its server and its Python SDK,
 * which this build does not have, so the platform refuses to start (before anything is written)
 * and points to `TensorboardPlatform`: the event files and `metrics.jsonl` in `--save_dir` can be
 * reported to ClearML afterwards from its SDK.
 *
 * @module
 */
import { PlatformUnavailableError } from "./platform_error.ts";
import type { MetricSink } from "./sink.ts";
import type { EnvReader } from "./wandb.ts";

/**
 * Would open a ClearML task; always throws in this build.
 *
 * @param env the environment (`CLEARML_API_ACCESS_KEY` is named when missing).
 * @throws {PlatformUnavailableError} explaining why and what to use instead.
 */
export function createClearmlSink(env: EnvReader = Deno.env): MetricSink {
  const configured = (env.get("CLEARML_API_ACCESS_KEY") ?? "").trim() !== "";
  throw new PlatformUnavailableError(
    "Cannot use --train_platform_type ClearmlPlatform: ClearML logging is not available in this " +
      "build" + (configured ? "" : " (and CLEARML_API_ACCESS_KEY is not set)") +
      "; use --train_platform_type TensorboardPlatform and report the event files in " +
      "--save_dir with ClearML's SDK",
  );
}
