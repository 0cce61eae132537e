/** The progress line: ETA and speed arithmetic, widths, and when the writer prints. */
import assert from "node:assert/strict";
import { formatDuration, formatProgress } from "../../train/metrics/format_progress.ts";
import { ProgressDisplay } from "../../train/metrics/progress.ts";

Deno.test("formatProgress() computes speed and ETA from this process's steps", () => {
  const log = formatProgress({ step: 37, total: 1000, elapsedS: 16, meanReward: 0.41234 }, {
    terminal: false,
  });
  // 37 steps / 16 s = 2.3125 step/s; (1000 - 37) / 2.3125 = 416.4 s = 06:56.
  assert.equal(
    log,
    "step   37/1000 (3.7%) | 2.31 step/s | reward 0.4123 | elapsed 00:16 | ETA 06:56",
  );
  // Resumed at step 900: 10 new steps in 20 s = 0.5 step/s, shown as 2.00 s/step; ETA 90 / 0.5.
  const resumed = formatProgress({ step: 910, total: 1000, startStep: 900, elapsedS: 20 }, {
    terminal: false,
  });
  assert.equal(resumed, "step  910/1000 (91.0%) | 2.00 s/step | elapsed 00:20 | ETA 03:00");
});

Deno.test("formatProgress() shows unknown speed and ETA before the first step", () => {
  const line = formatProgress({ step: 0, total: 5, elapsedS: 0, meanReward: NaN }, {
    terminal: false,
  });
  assert.equal(line, "step 0/5 (0.0%) | -- step/s | reward NaN | elapsed 00:00 | ETA --:--");
});

Deno.test("formatProgress() draws a bar and shrinks it to the terminal width", () => {
  const state = { step: 50, total: 100, elapsedS: 25, meanReward: 0.5 };
  const wide = formatProgress(state, { terminal: true, barWidth: 10 });
  assert.equal(wide, " 50/100 [#####.....]  50.0% | 2.00 step/s | reward 0.5000 | ETA 00:25");
  for (const columns of [40, 60, 70, 200]) {
    const line = formatProgress(state, { terminal: true, columns });
    assert.ok(line.length <= columns - 1, `width ${line.length} fits ${columns} columns`);
  }
  // 70 columns leave room for a shrunken bar; 50 for none (the line is cut instead).
  const narrow = formatProgress(state, { terminal: true, columns: 70 });
  assert.match(narrow, /^ 50\/100 \[#+\.+\] {2}50\.0%/);
  assert.equal(narrow.length, 69);
  assert.ok(!formatProgress(state, { terminal: true, columns: 50 }).includes("["));
  const full = formatProgress({ ...state, step: 100 }, { terminal: true, barWidth: 8 });
  assert.match(full, /\[########\] 100\.0% .* ETA 00:00$/);
});

Deno.test("formatDuration() writes MM:SS below an hour and H:MM:SS above", () => {
  assert.equal(formatDuration(0), "00:00");
  assert.equal(formatDuration(59.6), "01:00");
  assert.equal(formatDuration(3599), "59:59");
  assert.equal(formatDuration(3600), "1:00:00");
  assert.equal(formatDuration(100 * 3600 + 61), "100:01:01");
  assert.equal(formatDuration(Infinity), "--:--");
});

/** A fake output that records what is written. */
function fakeOut(terminal: boolean) {
  let text = "";
  return {
    out: {
      writeSync: (p: Uint8Array) => {
        text += new TextDecoder().decode(p);
        return p.length;
      },
      isTerminal: () => terminal,
    },
    text: () => text,
  };
}

Deno.test("ProgressDisplay prints a plain line for the first, every Nth and the last step", () => {
  const f = fakeOut(false);
  let ms = 0;
  const p = new ProgressDisplay({ total: 25, every: 10, out: f.out, nowMs: () => ms });
  for (let s = 1; s <= 25; s++) {
    ms += 1000;
    p.update(s, 0.5);
  }
  p.finish();
  const lines = f.text().split("\n").filter((l) => l !== "");
  assert.deepEqual(lines.map((l) => l.slice(0, 10)), [
    "step  1/25",
    "step 10/25",
    "step 20/25",
    "step 25/25",
  ]);
  assert.equal(
    lines[3],
    "step 25/25 (100.0%) | 1.00 step/s | reward 0.5000 | elapsed 00:25 | ETA 00:00",
  );
  assert.ok(!f.text().includes("\r"));
});

Deno.test("ProgressDisplay redraws one terminal line, throttled, and keeps messages apart", () => {
  const f = fakeOut(true);
  let ms = 0;
  const p = new ProgressDisplay({
    total: 4,
    out: f.out,
    nowMs: () => ms,
    columns: () => 80,
    minRedrawMs: 100,
  });
  ms = 1000;
  p.update(1);
  ms = 1050; // within 100 ms of the last draw: skipped
  p.update(2);
  p.message("checkpoint saved");
  ms = 1060; // a message lets the next update draw at once
  p.update(3);
  ms = 1070; // the last step is always drawn, and ends the line
  p.update(4);
  const t = f.text();
  const draws = t.split("\r").filter((s) => s.includes("/4"));
  assert.deepEqual(draws.map((s) => s.slice(0, 3)), ["1/4", "3/4", "4/4"]);
  assert.ok(t.includes("\r\x1b[Kcheckpoint saved\n"));
  assert.ok(t.endsWith("\x1b[K\n"));
  for (const d of draws) assert.ok(d.replace("\x1b[K", "").trimEnd().length <= 79);
});
