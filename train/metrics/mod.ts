/**
 * Training metric sinks (JSONL, TensorBoard event files; W&B and ClearML refuse clearly), the
 * platform factory and the progress display.
 * @module
 */
export * from "./sink.ts";
export * from "./metric_names.ts";
export * from "./jsonl.ts";
export * from "./read_jsonl.ts";
export * from "./crc32c.ts";
export * from "./tfrecord.ts";
export * from "./event_proto.ts";
export * from "./read_event_file.ts";
export * from "./tensorboard.ts";
export * from "./platform_error.ts";
export * from "./wandb.ts";
export * from "./clearml.ts";
export * from "./platform.ts";
export * from "./fan_out.ts";
export * from "./format_progress.ts";
export * from "./progress.ts";
