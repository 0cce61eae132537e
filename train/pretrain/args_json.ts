/**
 * `args.json` of a pretraining run, in the format MDM's `train_mdm.py` writes (the fields
 * models/checkpoint/mdm_checkpoint.ts reads), plus keys MDM does not have:
 *
 * - `ff_size`, `heads`: MDM hard-codes 1024 and 4; the mini models change them.
 * - `text_encoder_type`: the featurizer's name (e.g. `hashed_bow`) instead of `clip`, so that a
 *   loader expecting CLIP features refuses the checkpoint instead of conditioning it on the wrong
 *   text features.
 * - `text_featurizer`: `{name, dim, ...}` of the featurizer the model was trained with.
 * - `pretrain`: settings of this trainer that MDM has no flag for (gradient clipping, loss
 *   reduction, backend).
 * @module
 */
import type { LossReduction } from "./loss.ts";

/** What {@linkcode pretrainArgsJson} needs. */
export interface PretrainArgsInput {
  dataset: string;
  dataDir: string;
  saveDir: string;
  latentDim: number;
  layers: number;
  ffSize: number;
  heads: number;
  diffusionSteps: number;
  maskFrames: boolean;
  condMaskProb: number;
  batchSize: number;
  numSteps: number;
  lr: number;
  weightDecay: number;
  emaDecay: number | null;
  seed: number;
  saveInterval: number;
  logInterval: number;
  gradClip: number;
  lossReduction: LossReduction;
  backend: string;
  featurizer: Record<string, unknown> & { name: string; dim: number };
}

/** The args.json object (key order as MDM's sorted dump, extras last). */
export function pretrainArgsJson(a: PretrainArgsInput): Record<string, unknown> {
  return {
    arch: "trans_enc",
    avg_model_beta: a.emaDecay ?? 0.9999,
    batch_size: a.batchSize,
    cond_mask_prob: a.condMaskProb,
    data_dir: a.dataDir,
    dataset: a.dataset,
    diffusion_steps: a.diffusionSteps,
    emb_trans_dec: false,
    ff_size: a.ffSize,
    heads: a.heads,
    lambda_fc: 0,
    lambda_rcxyz: 0,
    lambda_vel: 0,
    latent_dim: a.latentDim,
    layers: a.layers,
    log_interval: a.logInterval,
    lr: a.lr,
    lr_anneal_steps: 0,
    mask_frames: a.maskFrames,
    noise_schedule: "cosine",
    num_steps: a.numSteps,
    pos_embed_max_len: 5000,
    save_dir: a.saveDir,
    save_interval: a.saveInterval,
    seed: a.seed,
    sigma_small: true,
    text_encoder_type: a.featurizer.name,
    unconstrained: false,
    use_ema: a.emaDecay !== null,
    weight_decay: a.weightDecay,
    text_featurizer: a.featurizer,
    pretrain: { grad_clip: a.gradClip, loss_reduction: a.lossReduction, backend: a.backend },
  };
}
