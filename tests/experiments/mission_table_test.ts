import assert from "node:assert/strict";
import { findManifest, resolvedParams } from "../../experiments/manifest.ts";

/** MISSION.md "Experiments": one row per experiment (null alpha: "–", Global mode). */
const TABLE = [
  {
    exp: "exp1",
    dense: true,
    physics: false,
    negative: false,
    alpha: 0.0,
    beta_s: 1.0,
    beta_p: 0.0,
  },
  {
    exp: "exp2",
    dense: false,
    physics: false,
    negative: false,
    alpha: null,
    beta_s: 1.0,
    beta_p: 0.0,
  },
  {
    exp: "exp3",
    dense: true,
    physics: true,
    negative: false,
    alpha: 0.0,
    beta_s: 1.0,
    beta_p: 0.1,
  },
  {
    exp: "exp4",
    dense: false,
    physics: true,
    negative: false,
    alpha: null,
    beta_s: 1.0,
    beta_p: 0.1,
  },
  { exp: "exp5", dense: true, physics: true, negative: true, alpha: 0.5, beta_s: 1.0, beta_p: 0.1 },
];

for (const row of TABLE) {
  for (const name of [row.exp, `${row.exp}-paper`]) {
    Deno.test(`${name} matches its row of the MISSION experiment table`, async () => {
      const m = await findManifest(name);
      const p = resolvedParams(m).params; // flags left out take the command's defaults
      assert.equal(m.profile, name.endsWith("-paper") ? "paper" : "mini");
      assert.equal(m.command, "train-grpo");
      // Shared by every row: MDM 50-step base, TMR matching reward, cosine, linear.
      assert.match(m.seed_command, /official_humanml_enc_512_50steps\/model000750000\.pt/);
      if (m.profile === "paper") {
        assert.equal(
          p.model_path,
          "$ASSETS/save/official_humanml_enc_512_50steps/model000750000.pt",
        );
      }
      assert.equal(p.reward_model_type, "tmr");
      assert.equal(p.reward_type, "matching");
      assert.equal(p.tmr_similarity_type, "cosine");
      assert.equal(p.tmr_normalization, "linear");
      // The mini profile runs fewer steps, said in its notes.
      if (m.profile === "paper") assert.equal(p.num_steps, 1000);
      else assert.match(m.notes, new RegExp(`num_steps ${p.num_steps} instead of 1000`));
      if (m.profile === "paper") {
        assert.equal(p.learning_rate, 1e-6);
        assert.equal(p.group_size, 4);
      } else {
        // Mini-scale departures, each named in the notes (experiments/generate_manifests.ts).
        for (const flag of ["learning_rate", "group_size", "kl_penalty"]) {
          assert.match(m.notes, new RegExp(`${flag} ${p[flag]}\\b`));
        }
      }
      assert.equal(p.batch_size, 1);
      assert.equal(p.disable_random_crop, true);
      assert.equal(p.grpo_type, "normal_grpo");
      assert.equal(p.use_lora, false);
      // The row itself.
      assert.equal(p.use_dense_reward, row.dense);
      assert.equal(p.k_segments, row.dense ? 3 : 1);
      assert.equal(p.use_physics_reward, row.physics);
      if (row.alpha !== null) assert.equal(p.alpha, row.alpha);
      assert.equal(row.dense && (p.alpha as number) > 0, row.negative);
      assert.equal(p.beta_s, row.beta_s);
      assert.equal(p.beta_p, row.beta_p);
      if (row.physics) {
        assert.equal(p.lambda_skate, 1.0);
        assert.equal(p.lambda_jerk, 1.0);
      }
      for (const role of ["tmr_text_encoder", "tmr_motion_encoder", "tmr_movement_encoder"]) {
        assert.ok(m.inputs[role] !== undefined, `${name} lacks input ${role}`);
      }
      assert.deepEqual(
        m.stages.map((s) => s.name),
        m.profile === "mini" ? ["assets", "train", "eval"] : ["train", "eval"],
      );
    });
  }
}

Deno.test("exp5 is the mini profile's default run, with recorded results to verify", async () => {
  const m = await findManifest("exp5");
  assert.equal(m.profile, "mini");
  assert.equal(m.params.device, "cpu");
  // `deno task exp record exp5` stored a run's numbers, the held-out gain among them.
  const held = m.expected?.metrics["reward.held_out_diff"];
  assert.ok(held !== undefined && held.value > 0, "exp5 records a held-out reward gain");
  assert.ok(m.expected?.metrics["finetuned.fid"] !== undefined);
  const paper = await findManifest("exp5-paper");
  for (const input of Object.values(paper.inputs)) {
    assert.match(input.path, /^\$ASSETS\//);
    assert.equal(input.sha256, null);
  }
});
