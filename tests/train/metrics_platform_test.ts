/** createSinks(): which files each --train_platform_type writes, and the clear refusals. */
import assert from "node:assert/strict";
import { fanOut } from "../../train/metrics/fan_out.ts";
import { createSinks, METRICS_JSONL } from "../../train/metrics/platform.ts";
import { PlatformUnavailableError } from "../../train/metrics/platform_error.ts";
import { readEventFile } from "../../train/metrics/read_event_file.ts";
import { readMetricsJsonl } from "../../train/metrics/read_jsonl.ts";
import { tempDir } from "../_util.ts";

/** An environment holding only `vars`. */
const envOf = (vars: Record<string, string>) => ({ get: (k: string) => vars[k] });

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) names.push(e.name);
  return names.sort();
}

Deno.test("createSinks() with NoPlatform writes only metrics.jsonl", async () => {
  const dir = await tempDir();
  try {
    const save = `${dir.path}/run`; // created on demand
    const sink = fanOut(createSinks("NoPlatform", save));
    await sink.log(1, { loss: 0.5 });
    await sink.close();
    assert.deepEqual(await listDir(save), [METRICS_JSONL]);
    assert.equal((await readMetricsJsonl(`${save}/${METRICS_JSONL}`))[0].metrics.loss, 0.5);
  } finally {
    await dir.remove();
  }
});

Deno.test("createSinks() with TensorboardPlatform writes metrics.jsonl and an event file", async () => {
  const dir = await tempDir();
  try {
    const sinks = createSinks("TensorboardPlatform", dir.path, { now: () => 42.5, hostname: "h" });
    assert.equal(sinks.length, 2);
    const sink = fanOut(sinks);
    await sink.log(7, { mean_reward: 0.25 });
    await sink.close();
    const tfevents = "events.out.tfevents.42.h";
    assert.deepEqual(await listDir(dir.path), [tfevents, METRICS_JSONL]);
    const events = await readEventFile(`${dir.path}/${tfevents}`);
    assert.deepEqual(events[1], {
      wallTime: 42.5,
      step: 7,
      values: [{ tag: "mean_reward", value: 0.25 }],
    });
  } finally {
    await dir.remove();
  }
});

Deno.test("createSinks() refuses WandBPlatform and ClearmlPlatform before writing anything", async () => {
  const dir = await tempDir();
  try {
    const save = `${dir.path}/run`;
    assert.throws(
      () => createSinks("WandBPlatform", save, { env: envOf({}) }),
      (e: unknown) =>
        e instanceof PlatformUnavailableError &&
        e.message.startsWith(
          "Cannot use --train_platform_type WandBPlatform: WANDB_API_KEY is not set",
        ),
    );
    assert.throws(
      () => createSinks("WandBPlatform", save, { env: envOf({ WANDB_API_KEY: "k" }) }),
      /WandBPlatform: online W&B logging is not available in this build; use --train_platform_type TensorboardPlatform/,
    );
    assert.throws(
      () => createSinks("ClearmlPlatform", save, { env: envOf({}) }),
      /Cannot use --train_platform_type ClearmlPlatform: ClearML logging is not available/,
    );
    assert.throws(
      () => createSinks("Tensorboard", save),
      (e: unknown) =>
        e instanceof TypeError &&
        e.message === "Cannot use --train_platform_type Tensorboard: expected one of " +
            "NoPlatform, TensorboardPlatform, WandBPlatform, ClearmlPlatform",
    );
    assert.deepEqual(await listDir(dir.path), [], "nothing was created");
  } finally {
    await dir.remove();
  }
});

Deno.test("fanOut() closes every sink even when one fails, then rethrows", async () => {
  const closed: string[] = [];
  const ok = (name: string) => ({
    log: () => Promise.resolve(),
    close: () => {
      closed.push(name);
      return Promise.resolve();
    },
  });
  const bad = { log: () => Promise.resolve(), close: () => Promise.reject(new Error("disk")) };
  await assert.rejects(fanOut([ok("a"), bad, ok("b")]).close(), /disk/);
  assert.deepEqual(closed, ["a", "b"]);
});
