/**
 * Architecture and training settings of the mini profile's frozen encoders (TMR architecture,
 * small sizes), and the JSON written beside their weights (`config.json`, `build.json`).
 * @module
 */
import type { TmrConfig } from "../tmr/config.ts";
import { DEFAULT_MAX_WORDS, DEFAULT_WORD_DIM } from "./word_featurizer.ts";

/** Which clips of the train split a model learns from (by the numeric part of the clip id). */
export type MiniSubset = "all" | "even" | "odd";

/** The encoder sizes shared by the text and motion sides (TMR names in comments). */
export interface MiniArchitecture {
  /** `latent_dim`: the embedding width D. */
  latentDim: number;
  /** `ff_size`. */
  ffSize: number;
  /** `num_layers`. */
  layers: number;
  /** `num_heads`. */
  heads: number;
  /** Word-vector width Dw (the text encoder's nfeats). */
  wordDim: number;
  /** Words kept per text. */
  maxWords: number;
  /** Motion features per frame (the motion encoder's nfeats): 263 for HumanML3D. */
  motionFeats: number;
}

/** Training settings of one encoder pair. */
export interface MiniTrainSettings {
  /** Seed (u32) of the initial weights and of every batch draw. */
  seed: number;
  /** Optimiser steps. */
  steps: number;
  /** (caption, motion) pairs per batch. */
  batch: number;
  /** Peak AdamW learning rate (linear warm-up, then cosine decay to `lr * minLrRatio`). */
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  weightDecay: number;
  /** InfoNCE temperature (TMR: 0.1). */
  temperature: number;
  /**
   * Filter threshold of TMR's InfoNCE over caption identity: other pairs of the batch with the
   * identical caption are not counted as negatives (0 disables).
   */
  threshold: number;
  /** Clips of the train split used. */
  subset: MiniSubset;
  /** Random crops longer than this many frames are cut (random window), bounding step cost. */
  maxFrames: number;
  /** Floor on the per-feature std of the encoder's own motion statistics. */
  stdFloor: number;
}

/** The default sizes: latent 64, ff 128, 2 layers, 4 heads, 32-wide word vectors. */
export const MINI_ARCHITECTURE: Readonly<MiniArchitecture> = {
  latentDim: 64,
  ffSize: 128,
  layers: 2,
  heads: 4,
  wordDim: DEFAULT_WORD_DIM,
  maxWords: DEFAULT_MAX_WORDS,
  motionFeats: 263,
};

/** The default training settings (seed and subset are set per model). */
export const MINI_TRAIN_DEFAULTS: Readonly<MiniTrainSettings> = {
  seed: 1,
  steps: 1000,
  batch: 32,
  lr: 1e-3,
  warmupSteps: 50,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  temperature: 0.1,
  threshold: 0.8,
  subset: "all",
  maxFrames: 120,
  stdFloor: 0.01,
};

/** The TMR config of the text side. */
export function miniTextConfig(a: MiniArchitecture): TmrConfig {
  return {
    nfeats: a.wordDim,
    latentDim: a.latentDim,
    ffSize: a.ffSize,
    layers: a.layers,
    heads: a.heads,
    vae: true,
  };
}

/** The TMR config of the motion side. */
export function miniMotionConfig(a: MiniArchitecture): TmrConfig {
  return { ...miniTextConfig(a), nfeats: a.motionFeats };
}

/** Contents of a model folder's `config.json`. */
export interface MiniModelConfig {
  /** `tmr`, `evaluator` or `text`. */
  role: string;
  /** Whether the folder holds the motion side (the text-only conditioning encoder does not). */
  motion: boolean;
  architecture: MiniArchitecture;
  text_encoder: TmrConfig;
  motion_encoder: TmrConfig | null;
  featurizer: {
    kind: "fnv1a32-philox-words";
    dim: number;
    max_words: number;
    stream: number;
    tokenizer: string;
  };
  training: MiniTrainSettings;
  data: { dataset: "mini-humanml"; split: "train"; key: string };
}

/** Contents of a model folder's `build.json`. */
export interface MiniBuildRecord {
  steps: number;
  /** Mean loss of the first and of the last (up to) 50 steps. */
  initial_loss: number;
  final_loss: number;
  wall_seconds: number;
  /** File name → SHA-256 (hex) of every weight and statistics file. */
  sha256: Record<string, string>;
  /** Retrieval quality on the mini test split (top-1..3), when measured. */
  test_r_precision?: { matched: number[]; shuffled: number[]; samples: number };
}
