/**
 * Builds the mini profile's MDM: a small trans_enc denoiser (MDM's architecture) pretrained by
 * the engine on the mini dataset, conditioned on the mini text encoder (`assets/mini/text`), with
 * a 10-step cosine diffusion so that GRPO rollouts fit a CPU. Written to `assets/mini/mdm/`:
 * `model.pt` (`{'model','model_avg'}` as MDM saves with EMA), `args.json` (MDM's fields plus
 * `text_featurizer`), and `build.json` (settings, final loss, SHA-256 of model.pt).
 *
 *   deno task build-mini-mdm            # train (about 14 minutes on one core)
 *   deno task build-mini-mdm --check    # rebuild in a temp folder, compare SHA-256 (same machine)
 * @module
 */
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { pretrainMdm } from "../../train/pretrain/pretrain_mdm.ts";
import type { TextFeaturizer } from "../../train/pretrain/text_featurizer.ts";
import { loadMiniTextFeaturizer } from "./mini_encoder.ts";
import { makeMiniDataset } from "../../datasets/mini/make_mini_dataset.ts";
import { sha256Hex } from "./build_mini_models.ts";

/** The mini MDM's shape and training settings. */
export const MINI_MDM_SETTINGS = {
  latentDim: 64,
  layers: 2,
  ffSize: 256,
  heads: 4,
  diffusionSteps: 10,
  maskFrames: true,
  batchSize: 32,
  numSteps: 2500,
  lr: 3e-4,
  emaDecay: 0.99,
  seed: 10,
} as const;

/**
 * The mini text encoder as the pretraining's synchronous featurizer: every caption of the dataset
 * is encoded once up front (the engine's reads are asynchronous), then served from a table.
 */
export async function precomputedFeaturizer(
  dataDir: string,
  textDir: string,
): Promise<TextFeaturizer> {
  const f = await loadMiniTextFeaturizer(textDir, createCpuBackend());
  const captions = new Set<string>();
  for await (const e of Deno.readDir(join(dataDir, "texts"))) {
    if (!e.name.endsWith(".txt")) continue;
    const text = await Deno.readTextFile(join(dataDir, "texts", e.name));
    for (const line of text.split("\n")) if (line.includes("#")) captions.add(line.split("#")[0]);
  }
  const list = [...captions].sort();
  const rows = await f.encode(list);
  const table = new Map(list.map((c, i) => [c, rows.subarray(i * f.dim, (i + 1) * f.dim)]));
  return {
    name: f.name,
    dim: f.dim,
    encode(texts: string[]): Float32Array {
      const out = new Float32Array(texts.length * f.dim);
      texts.forEach((t, i) => {
        const row = table.get(t);
        if (!row) throw new RangeError(`Cannot featurize caption "${t}": not in the dataset`);
        out.set(row, i * f.dim);
      });
      return out;
    },
  };
}

/** The repository root, which the shipped args.json's paths are relative to. */
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The pretraining's args.json with `data_dir` and `save_dir` given relative to the repository
 * root where they lie inside it (the run's own paths are a temporary folder and this machine's
 * checkout), so that the shipped file says the same on every machine.
 */
export function shippedArgsJson(args: Uint8Array, dataDir: string, outDir: string): Uint8Array {
  const inRepo = (path: string) => {
    const rel = relative(REPO_ROOT, path);
    return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
  };
  const json = JSON.parse(new TextDecoder().decode(args));
  json.data_dir = inRepo(dataDir);
  json.save_dir = inRepo(outDir);
  return new TextEncoder().encode(JSON.stringify(json, null, 4) + "\n");
}

/** Trains the mini MDM into `outDir`; returns the SHA-256 of model.pt. */
export async function buildMiniMdm(
  opts: { dataDir: string; textDir: string; outDir: string; log?: (l: string) => void },
): Promise<string> {
  await makeMiniDataset({ outputDir: opts.dataDir });
  const featurizer = await precomputedFeaturizer(opts.dataDir, opts.textDir);
  const work = await Deno.makeTempDir({ prefix: "mini-mdm-" });
  const t0 = performance.now();
  const r = await pretrainMdm({
    backend: createCpuBackend(),
    dataDir: opts.dataDir,
    saveDir: work,
    featurizer,
    saveInterval: MINI_MDM_SETTINGS.numSteps,
    logInterval: 50,
    log: opts.log,
    ...MINI_MDM_SETTINGS,
  });
  await Deno.mkdir(opts.outDir, { recursive: true });
  const model = await Deno.readFile(r.checkpoint);
  const hash = await sha256Hex(model);
  const last = r.losses.slice(-50);
  const build = {
    settings: MINI_MDM_SETTINGS,
    text_featurizer: featurizer.name,
    steps: r.step,
    final_loss_mean_last_50: last.reduce((a, b) => a + b, 0) / Math.max(1, last.length),
    wall_seconds: (performance.now() - t0) / 1000,
    sha256: { "model.pt": hash },
  };
  for (
    const [name, data] of [
      ["model.pt", model],
      [
        "args.json",
        shippedArgsJson(await Deno.readFile(join(work, "args.json")), opts.dataDir, opts.outDir),
      ],
      ["build.json", new TextEncoder().encode(JSON.stringify(build, null, 2) + "\n")],
    ] as const
  ) {
    const tmp = join(opts.outDir, `.${name}.tmp`);
    await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, join(opts.outDir, name));
  }
  await Deno.remove(work, { recursive: true });
  return hash;
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const dataDir = join(REPO_ROOT, "datasets/mini_cache/humanml");
  const textDir = join(REPO_ROOT, "assets/mini/text");
  const shipped = join(REPO_ROOT, "assets/mini/mdm");
  const outDir = check ? await Deno.makeTempDir({ prefix: "mini-mdm-check-" }) : shipped;
  const hash = await buildMiniMdm({ dataDir, textDir, outDir, log: (l) => console.log(l) });
  if (check) {
    const want =
      JSON.parse(await Deno.readTextFile(join(shipped, "build.json"))).sha256["model.pt"];
    console.log(
      hash === want ? "ok: model.pt rebuilt bit-exactly" : `mismatch: ${hash} != ${want}`,
    );
    Deno.exit(hash === want ? 0 : 1);
  }
  console.log(`Wrote ${outDir} (model.pt sha256 ${hash})`);
}
