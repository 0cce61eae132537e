import assert from "node:assert/strict";
import { extractSeedCommands } from "../../cli/_seed_commands.ts";
import { manifestId } from "../../experiments/hash.ts";
import {
  findManifest,
  loadManifest,
  MANIFEST_DIR,
  manifestNames,
  paramsToArgs,
  stageArgs,
} from "../../experiments/manifest.ts";
import { type Manifest, ManifestError, validateManifest } from "../../experiments/schema.ts";
import { diffManifests } from "../../experiments/diff.ts";
import { parseTrainGrpoArgs } from "../../cli/train_grpo.ts";
import { parseEvalHumanmlArgs } from "../../cli/eval_humanml.ts";

const GUIDE = new URL("../../../shared/seed/grpo_usage.zh.md", import.meta.url);
let guideText: string | null = null;
try {
  guideText = Deno.readTextFileSync(GUIDE);
} catch {
  guideText = null; // the guide lives outside the repository; its checks skip without it
}

async function allManifests(): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const name of await manifestNames()) {
    out.push(await loadManifest(`${MANIFEST_DIR}${name}.json`));
  }
  return out;
}

/** A command line inside a code fence, as the guide holds it. */
function fence(line: string): string {
  return "```\n" + line + "\n```\n";
}

function clone(m: Manifest): Record<string, unknown> {
  return JSON.parse(JSON.stringify(m));
}

function invalid(data: unknown, pattern: RegExp | string): void {
  assert.throws(() => validateManifest(data, "exp5.json"), (e: unknown) => {
    assert.ok(e instanceof ManifestError);
    if (typeof pattern === "string") assert.equal(e.message, pattern);
    else assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("every manifest file validates and is named after its file", async () => {
  const names = await manifestNames();
  assert.ok(names.length >= 30, `only ${names.length} manifests`);
  for (const name of names) {
    const m = await loadManifest(`${MANIFEST_DIR}${name}.json`);
    assert.equal(m.name, name);
  }
});

Deno.test("manifests have distinct ids", async () => {
  const ids = await Promise.all((await allManifests()).map((m) => manifestId(m)));
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("manifestId() changes with one parameter and not with key order", async () => {
  const m = await findManifest("exp5");
  const id = await manifestId(m);
  const changed = clone(m);
  (changed.params as Record<string, unknown>).alpha = 0.25;
  assert.notEqual(await manifestId(changed), id);
  // Rebuild every object with its keys reversed: same data, other order.
  const reverse = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(reverse)
      : typeof v === "object" && v !== null
      ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverse(x)]))
      : v;
  const reordered = reverse(clone(m));
  assert.notEqual(JSON.stringify(reordered), JSON.stringify(m));
  assert.equal(await manifestId(validateManifest(reordered, "exp5.json")), id);
});

Deno.test("validateManifest() names the file and the JSON path of the fault", async () => {
  const m = clone(await findManifest("exp5"));
  const withParam = (k: string, v: unknown) => ({
    ...m,
    params: { ...(m.params as object), [k]: v },
  });
  invalid(
    withParam("learning_rate", "1e-6"),
    'Invalid manifest "exp5.json": params.learning_rate must be a number > 0, got "1e-6"',
  );
  invalid(withParam("group_size", 1), /params\.group_size must be an integer >= 2, got 1/);
  invalid(withParam("use_dense_reward", "yes"), /params\.use_dense_reward must be true or false/);
  invalid(
    withParam("tmr_normalization", "tanh"),
    /params\.tmr_normalization must be one of linear/,
  );
  invalid(withParam("learning_rat", 1e-6), /params\.learning_rat is not a flag of train-grpo/);
  invalid({ ...m, extra: 1 }, /"exp5.json": extra is not a known key/);
  invalid({ ...m, schema: 2 }, /schema must be 1, got 2/);
  invalid({ ...m, name: "exp4" }, /name must match the file name "exp5.json"/);
  invalid({ ...m, profile: "full" }, /profile must be one of mini, paper/);
  const { notes: _n, ...noNotes } = m;
  invalid(noNotes, /: notes is missing/);
  const stages = structuredClone(m.stages) as Record<string, unknown>[];
  stages[1].command = "train";
  invalid({ ...m, stages }, /stages\[1\]\.command must be one of/);
  const inputs = structuredClone(m.inputs) as Record<string, Record<string, unknown>>;
  inputs.checkpoint.sha256 = "AB12";
  invalid({ ...m, inputs }, /inputs\.checkpoint\.sha256 must be 64 lowercase hex digits or null/);
  inputs.checkpoint.sha256 = null;
  inputs.checkpoint.path = "$ASSETS/x.pt";
  invalid(
    { ...m, inputs },
    /inputs\.checkpoint\.path must start with \$MINI\/ or \$MINI_ASSETS\/ in the mini profile/,
  );
  invalid(
    withParam("model_path", "$MINI/other.pt"),
    /params\.model_path "\$MINI\/other\.pt" must be an input's path or a stage's output/,
  );
  invalid(withParam("save_dir", "$HOME/x"), /params\.save_dir uses \$HOME/);
  invalid({ ...m, seed: 3 }, /params\.seed must equal seed \(3\), got 10/);
  invalid(
    { ...m, expected: { metrics: { fid: { value: "0.5", provenance: "p" } } } },
    /expected\.metrics\.fid\.value must be a finite number/,
  );
});

Deno.test("loadManifest() reports bad JSON with the file name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.json`, "{ not json");
    await assert.rejects(
      loadManifest(`${dir}/bad.json`),
      /Invalid manifest "bad.json": the file is not valid JSON/,
    );
    await assert.rejects(
      findManifest("nope", dir),
      /Cannot find experiment "nope": known experiments are bad/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paramsToArgs() and stageArgs() turn params into flags with variables expanded", async () => {
  const m = await findManifest("exp5");
  const args = paramsToArgs(m, { mini: "/m", run: "/r", miniAssets: "/a" });
  assert.deepEqual(args.slice(0, 4), [
    "--model_path",
    "/a/mdm/model.pt",
    "--save_dir",
    "/r/save/grpo_finetuned_humanml_enc_512_50steps_750000_tmr_dense_posneg_physics",
  ]);
  assert.ok(args.includes("--use_dense_reward") && !args.includes("--use_lora"));
  assert.equal(args[args.indexOf("--alpha") + 1], "0.5");
  assert.ok(!args.includes("--ref_model_path"), "null values are left out");
  const train = m.stages.findIndex((s) => s.name === "train");
  assert.deepEqual(stageArgs(m, train, { mini: "/m", run: "/r", miniAssets: "/a" }), args);
  assert.equal(args[args.indexOf("--data_dir") + 1], "/m/humanml");
  assert.throws(() => paramsToArgs(m, { run: "/r" }), /Cannot expand \$MINI/);
});

Deno.test("diffManifests() lists exactly the parameters that differ between exp3 and exp5", async () => {
  const diffs = diffManifests(await findManifest("exp3"), await findManifest("exp5"));
  const params = diffs.filter((d) => d.path.startsWith("params."));
  assert.deepEqual(params.map((d) => d.path).sort(), ["params.alpha", "params.save_dir"]);
  assert.deepEqual(params.find((d) => d.path === "params.alpha"), {
    path: "params.alpha",
    a: 0,
    b: 0.5,
  });
});

Deno.test({
  name: "every command of the guide is a manifest or a stage of one, quoted verbatim",
  ignore: guideText === null,
  fn: async () => {
    const guide = extractSeedCommands(guideText!);
    const quoted: string[] = [];
    for (const m of await allManifests()) {
      quoted.push(m.seed_command);
      for (const s of m.stages) if (s.seed_command !== undefined) quoted.push(s.seed_command);
    }
    for (const q of quoted) assert.ok(guide.some((c) => c.text === q), `not in the guide: ${q}`);
    // A command repeated with other spacing (quick start vs example 1) counts as covered.
    const covered = new Set(
      quoted.map((q) => JSON.stringify(extractSeedCommands(fence(q))[0].args)),
    );
    const missing = guide
      .filter((c) => !c.elided && !c.args.includes("lora_alpha")) // the guide's typo line
      .filter((c) => !covered.has(JSON.stringify(c.args)))
      .map((c) => `line ${c.line}: ${c.text}`);
    assert.deepEqual(missing, []);
  },
});

Deno.test("params agree with each manifest's seed command", async () => {
  // Documented departures: the experiment table's beta_p 0.0 (exp1, exp2), the mini profile's
  // CPU device and mini-scale num_steps, group_size, learning_rate and kl_penalty, and paths moved under $ASSETS/$RUN/$MINI/$MINI_ASSETS.
  const departures: Record<string, string[]> = { exp1: ["beta_p"], exp2: ["beta_p"] };
  for (const m of await allManifests()) {
    const words = extractSeedCommands(fence(m.seed_command))[0].args;
    const base = m.name.replace(/-paper$/, "");
    for (let i = 0; i < words.length; i++) {
      const flag = words[i].slice(2);
      const next = words[i + 1];
      const value = next === undefined || next.startsWith("--") ? true : next;
      if (value !== true) i++;
      const got = m.params[flag];
      if ((departures[base] ?? []).includes(flag)) continue;
      if (flag === "device" && m.profile === "mini") {
        assert.equal(got, "cpu", m.name);
        continue;
      }
      if (flag === "num_steps" && m.profile === "mini") {
        assert.ok(typeof got === "number" && got < Number(value), m.name);
        assert.match(m.notes, new RegExp(`num_steps ${got} instead of ${value}`), m.name);
        continue;
      }
      if (["group_size", "learning_rate", "kl_penalty"].includes(flag) && m.profile === "mini") {
        // Mini-scale departures: each named with its value in the notes.
        assert.match(m.notes, new RegExp(`${flag} ${got}`), `${m.name} --${flag}`);
        continue;
      }
      if (typeof got === "string" && got.startsWith("$")) {
        const tail = String(value).replace(/^\.?\//, "").replace(
          /model_final\.pt\/model_final\.pt$/,
          "model_final.pt",
        );
        if (m.profile === "paper") {
          assert.ok(got.endsWith("/" + tail), `${m.name} --${flag}: ${got} vs ${value}`);
        }
        continue;
      }
      assert.equal(
        String(got),
        String(value === true ? true : Number.isNaN(Number(value)) ? value : Number(value)),
        `${m.name} --${flag}`,
      );
    }
  }
});

Deno.test("every train and eval stage passes its command's own flag parser", async () => {
  const vars = { assets: "/assets", mini: "/mini", run: "/run" };
  let parsed = 0;
  for (const m of await allManifests()) {
    m.stages.forEach((s, i) => {
      const args = stageArgs(m, i, vars);
      const label = `${m.name} stage ${s.name}: ${args.join(" ")}`;
      if (s.command === "train-grpo") {
        const config = parseTrainGrpoArgs(args);
        assert.ok(config !== null, label);
        parsed++;
      } else if (s.command === "eval-humanml") {
        assert.ok(parseEvalHumanmlArgs(args) !== null, label);
        parsed++;
      }
    });
  }
  assert.ok(parsed >= 40, `only ${parsed} stages parsed`);
});
