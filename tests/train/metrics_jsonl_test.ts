/** The JSONL metrics file: round trip with non-finite values, appending, a cut-off last line. */
import assert from "node:assert/strict";
import { JsonlSink } from "../../train/metrics/jsonl.ts";
import { parseMetricsJsonl, readMetricsJsonl } from "../../train/metrics/read_jsonl.ts";
import { tempDir } from "../_util.ts";

/** A clock that returns 100, 101, 102, ... seconds. */
function fakeClock(): () => number {
  let t = 100;
  return () => t++;
}

Deno.test("JsonlSink writes one object per line and non-finite values as strings", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/metrics.jsonl`;
    const sink = new JsonlSink(path, { now: fakeClock() });
    await sink.log(1, { loss: 0.25, mean_reward: NaN });
    await sink.log(2, { loss: Infinity, mean_reward: -Infinity, grad_norm: 1e-12 });
    await sink.close();
    const text = await Deno.readTextFile(path);
    assert.equal(
      text,
      '{"step":1,"time":100,"loss":0.25,"mean_reward":"NaN"}\n' +
        '{"step":2,"time":101,"loss":"Infinity","mean_reward":"-Infinity","grad_norm":1e-12}\n',
    );
    const records = await readMetricsJsonl(path);
    assert.equal(records.length, 2);
    assert.deepEqual(records[0], { step: 1, time: 100, metrics: { loss: 0.25, mean_reward: NaN } });
    assert.deepEqual(records[1].metrics, {
      loss: Infinity,
      mean_reward: -Infinity,
      grad_norm: 1e-12,
    });
  } finally {
    await dir.remove();
  }
});

Deno.test("JsonlSink appends when reopened and drops a line cut off by a kill", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/metrics.jsonl`;
    const first = new JsonlSink(path, { now: fakeClock() });
    await first.log(1, { loss: 1 });
    await first.close();
    // A run killed in the middle of a write leaves a partial line behind.
    await Deno.writeTextFile(path, '{"step":2,"time":1', { append: true });
    const resumed = new JsonlSink(path, { now: fakeClock() });
    await resumed.log(2, { loss: 0.5 });
    await resumed.close();
    const records = await readMetricsJsonl(path);
    assert.deepEqual(records.map((r) => [r.step, r.metrics.loss]), [[1, 1], [2, 0.5]]);
  } finally {
    await dir.remove();
  }
});

Deno.test("JsonlSink rejects reserved names, non-numbers, fractional steps and use after close", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/m.jsonl`;
    const sink = new JsonlSink(path);
    await assert.rejects(sink.log(1, { step: 3 }), /metric name "step" is reserved/);
    await assert.rejects(
      sink.log(1, { loss: "0.1" as unknown as number }),
      /metric "loss" is a string, expected a number/,
    );
    await assert.rejects(sink.log(1.5, { loss: 1 }), RangeError);
    await sink.close();
    await sink.close(); // harmless
    await assert.rejects(sink.log(2, { loss: 1 }), /the sink is closed/);
    assert.equal(await Deno.readTextFile(path), "", "nothing written by rejected calls");
  } finally {
    await dir.remove();
  }
});

Deno.test("parseMetricsJsonl() names the bad line", () => {
  assert.throws(
    () => parseMetricsJsonl('{"step":1,"time":2,"a":1}\n\n{"step":2,"time":3,"a":"oops"}\n', "m"),
    /Cannot read "m" line 3: metric "a" is "oops", expected a number/,
  );
  assert.throws(() => parseMetricsJsonl("[1]\n", "m"), /line 1: expected a JSON object/);
  assert.throws(() => parseMetricsJsonl('{"time":1}\n', "m"), /numeric "step" and "time"/);
});
