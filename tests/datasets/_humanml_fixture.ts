/**
 * A tiny synthetic dataset in the HumanML3D on-disk layout, written into a temp dir by tests:
 * random features, captions with sub-spans, and deliberately broken clips.
 */
import { Rng } from "../../kernels/rng/philox.ts";
import { saveNpy } from "../../datasets/npy.ts";
import { PYTHON } from "../_util.ts";

export const F = 263;

/** Whether `import numpy` works in PYTHON (checked once). */
export const hasNumpy: boolean = (() => {
  try {
    return new Deno.Command(PYTHON, {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
})();

const LONG_TOKENS = Array.from({ length: 25 }, (_, i) => `w${i}/NOUN`).join(" ");

/** Captions per clip id (file lines), lengths per clip id (undefined: no npy file). */
export const CLIPS: Record<string, { length?: number; lines: string[]; corrupt?: boolean }> = {
  // 2 whole-clip captions + one sub-span 0.5 s .. 3.0 s = frames [10, 60) of 70.
  "000001": {
    length: 70,
    lines: [
      "a person walks forward.#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0",
      "someone walks.#someone/PRON walk/VERB#0.0#0.0",
      "the person then waves.#the/DET person/NOUN then/ADV wave/VERB#0.5#3.0",
    ],
  },
  // Sub-span of 1 s = 20 frames: shorter than 40, dropped; whole clip kept (a 25-token caption).
  "000002": {
    length: 121,
    lines: [`a very long caption.#${LONG_TOKENS}#0.0#0.0`, "a jump.#a/DET jump/NOUN#0.0#1.0"],
  },
  "000003": { length: 30, lines: ["too short.#too/ADV short/ADJ#0.0#0.0"] }, // < 40: filtered
  // >= 200 frames: filtered before its captions are read, sub-span included.
  "000004": {
    length: 210,
    lines: ["too long.#too/ADV long/ADJ#0.0#0.0", "part.#part/NOUN#1.0#5.0"],
  },
  // Malformed second line (3 fields): whole clip skipped with a warning naming line 2.
  "000005": {
    length: 80,
    lines: ["fine.#fine/ADJ#0.0#0.0", "broken line#broken/ADJ line/NOUN#0.0"],
  },
  "000006": { lines: ["no motion file.#no/DET motion/NOUN file/NOUN#0.0#0.0"] }, // missing npy
  "000007": { length: 64, corrupt: true, lines: ["corrupt.#corrupt/ADJ#0.0#0.0"] },
  // Only a sub-span caption: only the span item `L_000008`, no whole-clip item.
  "000008": { length: 100, lines: ["span only.#span/NOUN only/ADV#1.0#4.0"] },
  M000001: { length: 70, lines: ["a person walks forward mirrored.#a/DET person/NOUN#0.0#0.0"] },
};

/** Extra valid clips `1000xx` of these lengths, for composite tests. */
export const EXTRA_LENGTHS = [40, 44, 48, 52, 56, 60, 64, 72, 80, 96, 112, 128, 150, 180, 199];

/** Writes the dataset under `root` (split `train` lists every clip, `test` the extras). */
export async function writeFixture(root: string, seed = 1): Promise<void> {
  const rng = new Rng(seed, 77);
  await Deno.mkdir(`${root}/new_joint_vecs`, { recursive: true });
  await Deno.mkdir(`${root}/texts`, { recursive: true });
  const mean = new Float32Array(F).map((_, i) => 0.01 * (i % 7));
  const std = new Float32Array(F).map((_, i) => 0.5 + 0.1 * (i % 5));
  await saveNpy(`${root}/Mean.npy`, { dtype: "<f4", shape: [F], data: mean });
  await saveNpy(`${root}/Std.npy`, { dtype: "<f4", shape: [F], data: std });
  const clips = { ...CLIPS };
  EXTRA_LENGTHS.forEach((length, i) => {
    const id = `1000${String(i).padStart(2, "0")}`;
    clips[id] = {
      length,
      lines: [
        `extra motion ${i}.#extra/ADJ motion/NOUN#0.0#0.0`,
        `another caption ${i}.#another/DET caption/NOUN#0.0#0.0`,
      ],
    };
  });
  for (const [id, c] of Object.entries(clips)) {
    await Deno.writeTextFile(`${root}/texts/${id}.txt`, c.lines.join("\n") + "\n");
    if (c.length === undefined) continue;
    const path = `${root}/new_joint_vecs/${id}.npy`;
    if (c.corrupt) {
      await Deno.writeFile(path, new TextEncoder().encode("not an npy file at all"));
      continue;
    }
    const data = new Float32Array(c.length * F).map(() => rng.normal()); // (T, F)
    await saveNpy(path, { dtype: "<f4", shape: [c.length, F], data });
  }
  await Deno.writeTextFile(`${root}/train.txt`, Object.keys(clips).join("\n") + "\n");
  await Deno.writeTextFile(
    `${root}/test.txt`,
    Object.keys(clips).filter((id) => id.startsWith("1000")).join("\n") + "\n",
  );
}
