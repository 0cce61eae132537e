import assert from "node:assert/strict";
import { HumanMLDataset } from "../../datasets/humanml/loader.ts";
import {
  type CompositeOptions,
  type CompositeSource,
  constructComposites,
} from "../../datasets/composite/construct.ts";
import { readComposite, writeComposite } from "../../datasets/composite/layout.ts";
import type { SegmentEncoder } from "../../datasets/composite/segment_encoder.ts";
import { saveNpyObject } from "../../datasets/npy_object.ts";
import type { PyValue } from "../../io/pickle/values.ts";
import { runPython, tempDir } from "../_util.ts";
import { F, hasNumpy, writeFixture } from "./_humanml_fixture.ts";

const OPTS: CompositeOptions = {
  k: 3,
  targetLength: 196,
  tolerance: 20,
  fps: 20,
  maxSamples: 25,
  seed: 1,
  dimPose: F,
  split: "train",
};

async function withItems(
  fn: (items: CompositeSource[], root: string) => Promise<void>,
): Promise<void> {
  const dir = await tempDir();
  try {
    await writeFixture(dir.path);
    const ds = await HumanMLDataset.load({
      dataset: "humanml",
      dataRoot: dir.path,
      split: "train",
      seed: 2,
    });
    await fn(ds.items, dir.path);
  } finally {
    await dir.remove();
  }
}

Deno.test("constructComposites() fits target ± tolerance and concatenates the sources", async () => {
  await withItems(async (items) => {
    const byName = new Map(items.map((it) => [it.name, it]));
    // The fixture's 5 shortest items have 234 frames: K = 4 and 5 get longer targets.
    for (const [k, target] of [[3, 196], [4, 260], [5, 320]]) {
      const { samples } = await constructComposites(items, { ...OPTS, k, targetLength: target });
      assert.equal(samples.length, OPTS.maxSamples, `K=${k}`);
      for (const s of samples) {
        assert.equal(s.sourceIds.length, k);
        assert.ok(Math.abs(s.totalLength - target) <= 20, `total ${s.totalLength}`);
        assert.equal(s.lengths.reduce((a, b) => a + b, 0), s.totalLength);
        assert.equal(s.motion.length, s.totalLength * F);
        const clips = new Set(s.sourceIds.map((id) => byName.get(id)!.clipId.replace(/^M/, "")));
        assert.equal(clips.size, k, "segments come from distinct clips");
        let t = 0;
        for (let j = 0; j < k; j++) {
          const src = byName.get(s.sourceIds[j])!;
          assert.equal(s.lengths[j], src.length);
          assert.equal(s.durations[j], src.length / 20);
          assert.ok(src.captions.some((c) => c.caption === s.texts[j]));
          assert.deepEqual(s.motion.subarray(t * F, (t + src.length) * F), src.motion);
          assert.ok(s.segmentIds.subarray(t, t + src.length).every((x) => x === j));
          t += src.length;
        }
      }
    }
  });
});

Deno.test("constructComposites() is deterministic from the seed", async () => {
  await withItems(async (items) => {
    const a = await constructComposites(items, OPTS);
    const b = await constructComposites(items, OPTS);
    const c = await constructComposites(items, { ...OPTS, seed: 2 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(
      a.samples.map((s) => s.sourceIds),
      c.samples.map((s) => s.sourceIds),
    );
  });
});

Deno.test("constructComposites() names the flags when a request is impossible", async () => {
  await withItems(async (items) => {
    await assert.rejects(
      () => constructComposites(items, { ...OPTS, k: 5, targetLength: 40, tolerance: 0 }),
      (err: Error) => {
        assert.ok(err instanceof RangeError);
        assert.match(err.message, /^Cannot construct composites: the 5 shortest items/);
        assert.match(err.message, /--target_length 40 ± --tolerance 0/);
        assert.match(err.message, /--k_segments/);
        return true;
      },
    );
    await assert.rejects(
      () => constructComposites(items, { ...OPTS, k: 3, targetLength: 2000 }),
      /the 3 longest items .* fewer than --target_length 2000/,
    );
  });
  // Lengths 40 and 100 only: sums 120, 180, 240, 300 never reach 200 ± 5.
  const mk = (i: number, length: number): CompositeSource => ({
    name: `c${i}`,
    clipId: `c${i}`,
    length,
    motion: new Float32Array(length * 2),
    captions: [{ caption: "x", tokens: ["x/X"], from: 0, to: 0 }],
  });
  const pool = [40, 40, 40, 100, 100, 100].map((len, i) => mk(i, len));
  await assert.rejects(
    () =>
      constructComposites(pool, {
        ...OPTS,
        dimPose: 2,
        targetLength: 200,
        tolerance: 5,
        maxSamples: 3,
      }),
    /no 3 distinct clips of the train split fit --target_length 200 ± --tolerance 5/,
  );
  await assert.rejects(
    () => constructComposites(pool.slice(0, 2), { ...OPTS, dimPose: 2 }),
    /has 2 distinct clip\(s\), fewer than --k_segments 3/,
  );
});

Deno.test("constructComposites() warns when fewer distinct samples exist than requested", async () => {
  await withItems(async (items) => {
    const r = await constructComposites(items, {
      ...OPTS,
      k: 5,
      targetLength: 300,
      tolerance: 0,
      maxSamples: 500,
      drawsPerSample: 2,
    });
    assert.ok(r.samples.length > 0 && r.samples.length < 500);
    assert.match(r.warnings[0], /fewer than --max_samples 500/);
    assert.ok(r.samples.every((s) => s.totalLength === 300));
  });
});

Deno.test("constructComposites() fills B_matrix from the encoder, rows motions, columns texts", async () => {
  await withItems(async (items) => {
    const calls: number[][] = [];
    const encoder: SegmentEncoder = {
      name: "length-probe",
      similarity(motions, texts) {
        calls.push(motions.map((m) => m.length / F));
        return Promise.resolve(
          motions.map((m, i) => texts.map((_, j) => (i === j ? m.length / F : -j - 1))),
        );
      },
    };
    const { samples } = await constructComposites(items, { ...OPTS, maxSamples: 3, encoder });
    assert.equal(calls.length, 3);
    for (const [n, s] of samples.entries()) {
      assert.deepEqual(calls[n], [...s.lengths]);
      assert.deepEqual(
        [...s.bMatrix!],
        [s.lengths[0], -2, -3, -1, s.lengths[1], -3, -1, -2, s.lengths[2]],
      );
    }
    const bad: SegmentEncoder = { name: "bad", similarity: () => Promise.resolve([[1]]) };
    await assert.rejects(
      () => constructComposites(items, { ...OPTS, maxSamples: 1, encoder: bad }),
      /encoder "bad" did not return 3×3/,
    );
  });
});

Deno.test("writeComposite() output reads back with readComposite() and numpy", async () => {
  await withItems(async (items, root) => {
    const { samples } = await constructComposites(items, { ...OPTS, maxSamples: 6 });
    samples[0].bMatrix = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const path = `${root}/composite_k3_train.npy`;
    await writeComposite(path, samples);
    const back = await readComposite(path);
    assert.deepEqual(back, samples);
    if (hasNumpy) {
      const out = await runPython([
        "tools/check_composite.py",
        path,
        "--k",
        "3",
        "--target_length",
        "196",
        "--tolerance",
        "20",
      ]);
      const summary = JSON.parse(out);
      assert.equal(summary.samples, 6);
      assert.deepEqual(summary.first_source_ids, samples[0].sourceIds);
      const sum = samples[0].motion.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(summary.first_motion_sum - sum) < 1e-3 * (1 + Math.abs(sum)));
    }
  });
});

async function cli(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli/construct_composite.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

Deno.test("construct-composite CLI writes the file and refuses bad flags with exit code 2", async () => {
  await withItems(async (_items, root) => {
    const out = `${root}/composite`;
    const base = ["--data_root", root, "--output_dir", out, "--split", "test"];
    const bad: [string[], RegExp][] = [
      [["--bogus"], /unknown option '--bogus'/],
      [["--k_segments", "6"], /Invalid --k_segments "6": use 3, 4 or 5/],
      [["--k_segments", "3", "lora_alpha"], /unexpected word "lora_alpha"/],
      [["--tolerance", "-1"], /Invalid --tolerance "-1"/],
      [["--split", "dev"], /--split .* 'dev' is invalid/],
      [
        ["--compute_b_matrix", "--encoder_dir", "/nonexistent"],
        /--encoder_dir \/nonexistent has no config\.json/,
      ],
      [["--k_segments", "5", "--target_length", "40", "--tolerance", "0"], /5 shortest items/],
    ];
    for (const [args, msg] of bad) {
      const r = await cli([...base, ...args]);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}`);
    }
    assert.equal(await Deno.stat(out).catch(() => null), null, "nothing written");
    const ok = await cli([...base, "--k_segments", "4", "--max_samples", "8", "--seed", "3"]);
    assert.equal(ok.code, 0, ok.stderr);
    const samples = await readComposite(`${out}/composite_k4_test.npy`);
    assert.equal(samples.length, 8);
    assert.ok(samples.every((s) => s.sourceIds.length === 4 && s.bMatrix === null));
  });
});

Deno.test("readComposite() names the file, sample and key of a malformed entry", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir.path}/bad.npy`;
    await saveNpyObject(path, [
      new Map<PyValue, PyValue>([["source_ids", ["a"]], ["texts", ["t"]], ["tokens", [["t/X"]]]]),
    ]);
    await assert.rejects(
      () => readComposite(path),
      new RegExp(
        `^SyntaxError: Cannot load composite file ".*bad\\.npy": sample 0: key "lengths" is missing`,
      ),
    );
  } finally {
    await dir.remove();
  }
});
