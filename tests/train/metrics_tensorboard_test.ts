/**
 * TensorBoard event files: exact protobuf bytes, a sink's file parsed back with every CRC
 * checked, corruption detected, and a cross-check with the independent Python reader.
 */
import assert from "node:assert/strict";
import { decodeEvent, encodeEvent } from "../../train/metrics/event_proto.ts";
import { parseEventFile, readEventFile } from "../../train/metrics/read_event_file.ts";
import { TensorboardSink } from "../../train/metrics/tensorboard.ts";
import { assertClose, PYTHON, runPython, tempDir } from "../_util.ts";

/** Whether PYTHON runs at all (the cross-check needs only its standard library). */
const hasPython = (() => {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", "0"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

const TOOL = new URL("../../tools/read_tfevents.py", import.meta.url).pathname;

/** A clock that starts at 1764100000.25 s and advances 0.5 s per call. */
function fakeClock(): () => number {
  let t = 1764100000.25;
  return () => (t += 0.5) - 0.5;
}

Deno.test("encodeEvent() writes the Event/Summary/Value wire format by field number", () => {
  const bytes = encodeEvent({ wallTime: 1.5, step: 3, values: [{ tag: "a", value: 1 }] });
  const want = [
    [0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f], // wall_time = 1 (fixed64): 1.5
    [0x10, 0x03], // step = 2 (varint): 3
    [0x2a, 0x0a], // summary = 5 (length-delimited), 10 bytes
    [0x0a, 0x08], // value = 1 (length-delimited), 8 bytes
    [0x0a, 0x01, 0x61], // tag = 1: "a"
    [0x15, 0, 0, 0x80, 0x3f], // simple_value = 2 (fixed32): 1.0f
  ].flat();
  assert.deepEqual([...bytes], want);
  const version = encodeEvent({ wallTime: 0, step: 0, fileVersion: "brain.Event:2" });
  // Step 0 is the proto3 default and is left out; file_version = 3 follows wall_time.
  assert.deepEqual([...version.subarray(9, 11)], [0x1a, 13]);
});

Deno.test("decodeEvent() reads back negative and large steps and zero values", () => {
  for (const step of [-1, 0, 1, 300, 2 ** 40 + 7, Number.MIN_SAFE_INTEGER]) {
    const e = decodeEvent(encodeEvent({ wallTime: 2.25, step, values: [{ tag: "z", value: 0 }] }));
    assert.equal(e.step, step);
    assert.equal(e.wallTime, 2.25);
    assert.deepEqual(e.values, [{ tag: "z", value: 0 }]);
  }
  assert.throws(() => encodeEvent({ wallTime: 0, step: 0.5, values: [] }), RangeError);
});

/** Writes three steps with a fixed clock and host; returns the sink's path. */
async function writeSample(dir: string): Promise<string> {
  const sink = new TensorboardSink(dir, { now: fakeClock(), hostname: "testhost" });
  await sink.log(1, { loss: 0.125, mean_reward: 0.3, "grpo/kl": 1e-3 });
  await sink.log(2, { loss: -2.5, mean_reward: NaN, "grpo/kl": Infinity });
  await sink.log(10, { loss: 0, mean_reward: 0.7, "grpo/kl": 2 });
  await sink.close();
  return sink.path;
}

Deno.test("TensorboardSink writes an event file that parses back with every CRC valid", async () => {
  const dir = await tempDir();
  try {
    const path = await writeSample(dir.path);
    assert.equal(path, `${dir.path}/events.out.tfevents.1764100000.testhost`);
    const events = await readEventFile(path);
    assert.equal(events.length, 4);
    assert.equal(events[0].fileVersion, "brain.Event:2");
    assert.equal(events[0].wallTime, 1764100000.25);
    assert.deepEqual(events.slice(1).map((e) => e.step), [1, 2, 10]);
    assert.deepEqual(events.slice(1).map((e) => e.wallTime), [
      1764100000.75,
      1764100001.25,
      1764100001.75,
    ]);
    for (const e of events.slice(1)) {
      assert.deepEqual(e.values?.map((v) => v.tag), ["loss", "mean_reward", "grpo/kl"]);
    }
    // simple_value is float32: exact after Math.fround (atol 0, rtol 0).
    const want = [0.125, 0.3, 1e-3, -2.5, NaN, Infinity, 0, 0.7, 2].map(Math.fround);
    const got = events.slice(1).flatMap((e) => e.values!.map((v) => v.value));
    assert.ok(Number.isNaN(got[4]));
    assertClose(got.filter((_, i) => i !== 4), want.filter((_, i) => i !== 4), 0, 0, "values");
    // A second sink in the same second gets its own file.
    const again = new TensorboardSink(dir.path, { now: fakeClock(), hostname: "testhost" });
    await again.close();
    assert.equal(again.path, `${path}.1`);
  } finally {
    await dir.remove();
  }
});

Deno.test("parseEventFile() detects a corrupted byte in the data and in the length", async () => {
  const dir = await tempDir();
  try {
    const bytes = await Deno.readFile(await writeSample(dir.path));
    const firstLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const second = firstLen + 16; // start of record 1
    const dataByte = bytes.slice();
    dataByte[second + 12 + 5] ^= 0x20;
    assert.throws(
      () => parseEventFile(dataByte, "ev"),
      new RegExp(`data CRC mismatch in the record at byte ${second}`),
    );
    const lengthByte = bytes.slice();
    lengthByte[second] ^= 0x01;
    assert.throws(
      () => parseEventFile(lengthByte, "ev"),
      new RegExp(`length CRC mismatch in the record at byte ${second}`),
    );
  } finally {
    await dir.remove();
  }
});

Deno.test({
  name: "TensorboardSink files read the same with the independent Python reader",
  ignore: !hasPython,
  fn: async () => {
    const dir = await tempDir();
    try {
      const path = await writeSample(dir.path);
      const lines = (await runPython([TOOL, path])).trim().split("\n").map((l) => JSON.parse(l));
      const ours = await readEventFile(path);
      assert.equal(lines.length, ours.length);
      assert.equal(lines[0].file_version, "brain.Event:2");
      for (let i = 0; i < ours.length; i++) {
        assert.equal(lines[i].step, ours[i].step);
        assert.equal(lines[i].wall_time, ours[i].wallTime);
        const theirs = (lines[i].values ?? []) as { tag: string; value: number | string }[];
        assert.deepEqual(
          theirs.map((v) => [v.tag, String(v.value)]),
          (ours[i].values ?? []).map((v) => [v.tag, String(v.value)]),
        );
      }
      // A flipped data byte makes the Python reader fail too.
      const bytes = await Deno.readFile(path);
      bytes[bytes.length - 6] ^= 0x01;
      await Deno.writeFile(path, bytes);
      await assert.rejects(runPython([TOOL, path]), /data CRC mismatch/);
    } finally {
      await dir.remove();
    }
  },
});
