import assert from "node:assert/strict";
import { join } from "node:path";
import { createCpuBackend } from "../../kernels/cpu_backend.ts";
import { saveTorchStateDict } from "../../models/checkpoint/torch_pt.ts";
import { loadMdmStateDict } from "../../models/checkpoint/mdm_checkpoint.ts";
import { toFloat32 } from "../../models/checkpoint/state_dict.ts";
import { parseTrainGrpoArgs } from "../../cli/train_grpo.ts";
import { GRPO_METRIC_NAMES } from "../../train/metrics/metric_names.ts";
import { readMetricsJsonl } from "../../train/metrics/read_jsonl.ts";
import { trainGrpo, type TrainGrpoOptions } from "../../train/grpo/trainer.ts";
import { latestCheckpoint } from "../../train/grpo/checkpoint.ts";
import { hasTorch, runPython, tempDir } from "../_util.ts";
import { gpu, GPU_TEST, gpuIgnore } from "../kernels/_webgpu.ts";
import type { TextFeaturizer } from "../../rewards/encoder.ts";
import { FakeDataset, testEncoder, testFeaturizer, TINY_CONFIG, tinyModel } from "./_grpo_util.ts";

/** Writes a tiny random MDM checkpoint with its args.json into `dir`. */
async function writeTinyModel(dir: string, diffusionSteps = 3): Promise<string> {
  const be = createCpuBackend();
  const model = tinyModel(be, "none", 1);
  const path = join(dir, "model000000100.pt");
  await saveTorchStateDict(path, await model.toStateDict());
  await Deno.writeTextFile(
    join(dir, "args.json"),
    JSON.stringify({
      arch: "trans_enc",
      dataset: "humanml",
      latent_dim: TINY_CONFIG.latentDim,
      layers: TINY_CONFIG.layers,
      ff_size: TINY_CONFIG.ffSize,
      heads: TINY_CONFIG.heads,
      mask_frames: true,
      diffusion_steps: diffusionSteps,
      noise_schedule: "cosine",
      text_encoder_type: "hashed_bow",
      text_featurizer: { name: "hashed_bow", dim: TINY_CONFIG.textDim, seed: 5 },
    }),
  );
  be.destroy();
  return path;
}

function run(modelPath: string, saveDir: string, extra: string[], opts: TrainGrpoOptions = {}) {
  const cfg = parseTrainGrpoArgs([
    "--model_path",
    modelPath,
    "--save_dir",
    saveDir,
    "--num_steps",
    "4",
    "--group_size",
    "2",
    "--batch_size",
    "2",
    "--learning_rate",
    "1e-3",
    "--device",
    "cpu",
    "--max_motion_length",
    "24",
    ...extra,
  ]);
  return trainGrpo(cfg, {
    encoder: testEncoder(),
    dataset: new FakeDataset(),
    saveInterval: 2,
    progress: false,
    log: () => {},
    ...opts,
  });
}

/**
 * The hashed-bag-of-words featurizer with a `prefetch` (memoised), recording what is asked of
 * it: "encode <texts>" and "prefetch <texts>".
 */
function prefetchingFeaturizer(): { featurizer: TextFeaturizer; events: string[] } {
  const inner = testFeaturizer(),
    events: string[] = [],
    memo = new Map<string, Promise<Float32Array>>();
  const once = (texts: readonly string[]) => {
    const key = texts.join("|");
    if (!memo.has(key)) memo.set(key, inner.encode(texts));
    return memo.get(key)!;
  };
  const featurizer: TextFeaturizer = {
    ...inner,
    encode: (texts) => (events.push(`encode ${texts.join("|")}`), once(texts)),
    prefetch: (texts) => void (events.push(`prefetch ${texts.join("|")}`), once(texts)),
  };
  return { featurizer, events };
}

Deno.test("trainGrpo() resumed after a kill equals the uninterrupted run bit for bit", async () => {
  const tmp = await tempDir();
  try {
    const model = await writeTinyModel(tmp.path);
    const flags = ["--use_dense_reward", "--k_segments", "2", "--use_physics_reward"];
    // The texts of each next step are prefetched during the step before it (drawn one ahead).
    const { featurizer, events: all } = prefetchingFeaturizer();
    const a = await run(model, join(tmp.path, "a"), flags, {
      featurizer,
      onStep: (s) => all.push(`logged ${s}`),
    });
    assert.equal(a.steps, 4);
    const events = all.filter((e) => !e.startsWith("logged"));
    const encodes = events.filter((e) => e.startsWith("encode")).map((e) => e.slice(7));
    const prefetches = events.filter((e) => e.startsWith("prefetch")).map((e) => e.slice(9));
    assert.deepEqual(prefetches, encodes.slice(1));
    events.forEach((e, i) => {
      if (e.startsWith("prefetch")) assert.equal(events[i + 1], `encode ${e.slice(9)}`);
    });
    // Steps overlap by one except at checkpoints (every 2) and the end: step 1 is logged once
    // step 2 has started (its texts encoded); step 2, a checkpoint, before step 3 starts.
    const at = (e: string) => all.indexOf(e);
    const encodeAt = all.flatMap((e, i) => e.startsWith("encode") ? [i] : []);
    assert.equal(encodeAt.length, 4);
    assert.ok(at("logged 1") > encodeAt[1], all.join(", "));
    assert.ok(at("logged 2") < encodeAt[2], all.join(", "));
    assert.ok(at("logged 3") > encodeAt[3], all.join(", "));
    assert.equal(at("logged 4"), all.length - 1);
    const b1 = await run(model, join(tmp.path, "b"), flags, {
      stopAfter: 3,
      featurizer: prefetchingFeaturizer().featurizer,
    });
    assert.equal(b1.finalModel, null);
    assert.equal(
      await latestCheckpoint(join(tmp.path, "b")),
      join(tmp.path, "b", "checkpoint_000002"),
    );
    const b2 = await run(model, join(tmp.path, "b"), flags);
    assert.equal(b2.resumedFrom, 2);
    const sa = await loadMdmStateDict(a.finalModel!), sb = await loadMdmStateDict(b2.finalModel!);
    assert.deepEqual([...sa.keys()], [...sb.keys()]);
    let diff = 0;
    for (const [k, t] of sa) {
      const x = toFloat32(t), y = toFloat32(sb.get(k)!);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) diff++;
    }
    assert.equal(diff, 0);
    // A rerun with a trajectory-changing flag refuses to continue that run.
    await assert.rejects(
      () => run(model, join(tmp.path, "b"), [...flags, "--seed", "11"]),
      /Cannot resume from .*checkpoint_000004.*--seed was 10, now 11/,
    );
    // The run changed the model.
    const init = await loadMdmStateDict(model);
    const w0 = toFloat32(init.get("output_process.poseFinal.weight")!);
    const w1 = toFloat32(sa.get("output_process.poseFinal.weight")!);
    assert.ok(w0.some((v, i) => v !== w1[i]));
  } finally {
    await tmp.remove();
  }
});

Deno.test({
  ...GPU_TEST,
  name: "trainGrpo() on WebGPU: overlapped steps resumed after a kill equal the uninterrupted run",
  ignore: gpuIgnore,
  async fn() {
    const tmp = await tempDir();
    try {
      const model = await writeTinyModel(tmp.path);
      const backend = await gpu();
      // gradient clipping on the GPU (a small max norm clips), bias gradients from the products
      const flags = ["--max_grad_norm", "0.05"];
      const a = await run(model, join(tmp.path, "a"), flags, { backend });
      const b1 = await run(model, join(tmp.path, "b"), flags, { backend, stopAfter: 3 });
      assert.equal(b1.finalModel, null);
      const b2 = await run(model, join(tmp.path, "b"), flags, { backend });
      assert.equal(b2.resumedFrom, 2);
      assert.ok(a.lastMetrics!.grad_norm > 0.05, `grad_norm ${a.lastMetrics!.grad_norm} clips`);
      const sa = await loadMdmStateDict(a.finalModel!), sb = await loadMdmStateDict(b2.finalModel!);
      let diff = 0, changed = 0;
      const init = await loadMdmStateDict(model);
      for (const [k, t] of sa) {
        const x = toFloat32(t), y = toFloat32(sb.get(k)!), w = toFloat32(init.get(k)!);
        for (let i = 0; i < x.length; i++) {
          if (x[i] !== y[i]) diff++;
          if (x[i] !== w[i]) changed++;
        }
      }
      assert.equal(diff, 0);
      assert.ok(changed > 0);
    } finally {
      await tmp.remove();
    }
  },
});

Deno.test("trainGrpo() flow_grpo LoRA logs every seed metric and writes model_final.pt", async () => {
  const tmp = await tempDir();
  try {
    const model = await writeTinyModel(tmp.path, 10);
    const save = join(tmp.path, "run");
    const res = await run(model, save, [
      "--grpo_type",
      "flow_grpo",
      "--train_timesteps",
      "4",
      "--use_lora",
      "--lora_r",
      "2",
      "--num_steps",
      "2",
    ]);
    assert.equal(res.steps, 2);
    const records = await readMetricsJsonl(join(save, "metrics.jsonl"));
    assert.equal(records.length, 2);
    for (const r of records) {
      for (const name of [...GRPO_METRIC_NAMES, "clip_fraction", "zero_std_groups", "r_sem"]) {
        assert.ok(name in r.metrics, `metric ${name} missing`);
      }
      assert.equal(r.metrics.mean_ratio, 1);
    }
    const sd = await loadMdmStateDict(res.finalModel!);
    assert.ok(sd.has("seqTransEncoder.layers.0.linear1.weight"));
    assert.ok(![...sd.keys()].some((k) => k.includes("lora")));
    const args = JSON.parse(await Deno.readTextFile(join(save, "args.json")));
    assert.equal(args.latent_dim, TINY_CONFIG.latentDim);
    const config = JSON.parse(await Deno.readTextFile(join(save, "config.json")));
    assert.equal(config.trainer.sampler, "flow");
    assert.equal(config.flags.use_lora, true);
    // LoRA checkpoints hold only the adapters.
    const ck = await Deno.readFile(join(save, "checkpoint_000002", "model.safetensors"));
    const header = new TextDecoder().decode(ck.subarray(8, 8 + 4000));
    assert.ok(header.includes("lora_A") && !header.includes("linear1.bias"));
    if (hasTorch) {
      const out = await runPython([
        "-c",
        "import sys, torch; sd = torch.load(sys.argv[1]); " +
        "print(len([k for k in sd if not k.endswith('.pe')]), " +
        "tuple(sd['output_process.poseFinal.weight'].shape))",
        res.finalModel!,
      ]);
      assert.equal(out.trim(), `${sd.size} (263, 32)`);
    }
  } finally {
    await tmp.remove();
  }
});
