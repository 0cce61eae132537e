import assert from "node:assert/strict";
import { runOverlapped } from "../../diffusion/overlap.ts";

/** Steps that record their calls: "queue j", "host j", "read j", "finish j=<result>". */
function recording(failHostAt = -1) {
  const calls: string[] = [];
  const steps = {
    queue: (j: number) => {
      calls.push(`queue ${j}`);
      return Promise.resolve({
        read: () => (calls.push(`read ${j}`), Promise.resolve(10 * j)),
      });
    },
    host: (j: number) => {
      calls.push(`host ${j}`);
      if (j === failHostAt) throw new Error(`host ${j} failed`);
    },
    finish: (j: number, result: number) => void calls.push(`finish ${j}=${result}`),
  };
  return { calls, steps };
}

Deno.test("runOverlapped() queues each job before it finishes the one before, in job order", async () => {
  const { calls, steps } = recording();
  await runOverlapped([0, 1, 2], steps);
  assert.deepEqual(calls, [
    "queue 0",
    "host 0",
    "read 0",
    "queue 1",
    "finish 0=0",
    "host 1",
    "read 1",
    "queue 2",
    "finish 1=10",
    "host 2",
    "read 2",
    "finish 2=20",
  ]);
  const empty = recording();
  await runOverlapped([], empty.steps);
  assert.deepEqual(empty.calls, []);
});

Deno.test("runOverlapped() still reads (frees) a queued job whose host work failed", async () => {
  const { calls, steps } = recording(1);
  await assert.rejects(() => runOverlapped([0, 1, 2], steps), /host 1 failed/);
  assert.deepEqual(calls.slice(-3), ["finish 0=0", "host 1", "read 1"]);
  assert.ok(!calls.includes("queue 2"));
});
