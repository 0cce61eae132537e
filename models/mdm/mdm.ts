/**
 * The MDM denoiser (trans_enc, text-conditioned; NUMERICS.md section 1) on the engine, with a
 * training forward that saves activations and a hand-written backward, optional LoRA adapters on
 * every encoder layer's in_proj, out_proj, linear1 and linear2.
 *
 * Layout: batch-first. Motion x (B, T, F); the sequence is (B, S, C) with S = T+1: the condition
 * token at position 0, the frames at 1..T. Dimension letters: B batch, T frames, S = T+1,
 * F motion features, D text features, C latent channels, NH heads, FF feed-forward width,
 * N = B*S rows.
 *
 * Semantics follow PyTorch in eval mode (no dropout: MDM's dropout 0.1 is a pretraining
 * regulariser, and GRPO fine-tunes without it so that the policy's log-probs are those of the
 * sampler). Condition masking is only the explicit per-sample `condMask` (classifier-free
 * guidance); MDM's random `cond_mask_prob` drop during pretraining is the trainer's business.
 *
 * Gradient conventions (as kernels/backend.ts): `backward` ACCUMULATES (+=) into parameter
 * gradients, so call `zeroGrad()` once per optimiser step; activation gradients are overwritten.
 * `backward` uses the activations of the latest `forward` (or `predictX0`) call.
 *
 * Memory: activations, gradients and scratch are planned for (maxBatch, maxFrames) at
 * construction; a call with a larger batch or more frames re-plans once (then keeps the larger
 * plan), so a loop with fixed shapes allocates nothing.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import type { Denoiser, DenoiserInput } from "../../diffusion/denoiser.ts";
import {
  float32Tensor,
  readStateDict,
  type StateDict,
  toFloat32,
} from "../checkpoint/state_dict.ts";
import {
  layerPrefix,
  type MdmConfig,
  mdmParamShapes,
  PE_KEYS,
  PE_MAX_LEN,
  validateMdmConfig,
} from "./config.ts";
import {
  allocLayerActivations,
  allocLayerScratch,
  encoderLayerBackward,
  encoderLayerForward,
  type EncoderLayerParams,
  type LayerActivations,
  type LayerDims,
  type LayerScratch,
  type NormParams,
  tensorsOf,
} from "./encoder_layer.ts";
import { initMdmStateDict } from "./init.ts";
import {
  linearBackward,
  linearForward,
  type LinearLayer,
  LORA_STREAM,
  loraInitA,
  type LoraOptions,
} from "./lora.ts";

/**
 * What gets gradients: nothing (inference), every base parameter (full fine-tuning or
 * pretraining), or only the LoRA adapters (base frozen: no base gradient is computed).
 */
export type MdmTraining = "none" | "full" | "lora";

/** Construction options. */
export interface MdmOptions {
  /** Largest batch planned up front (default 1; larger calls re-plan once). */
  maxBatch?: number;
  /** Largest number of frames T planned up front (default 196, HumanML3D's maximum). */
  maxFrames?: number;
  /** Default "none". "lora" needs `lora`. */
  training?: MdmTraining;
  /** Adds LoRA adapters (B = 0, so the model is unchanged until trained). */
  lora?: LoraOptions | null;
}

/** A trainable tensor, its gradient, and its state-dict name. */
export interface MdmParam {
  name: string;
  param: Tensor;
  grad: Tensor;
}

/** Forward activations and backward scratch outside the encoder layers. */
/** Activations of one forward, detached from the model (`MdmDenoiser.detachActivations`). */
export interface SavedActivations {
  readonly plan: Plan;
  readonly last: { B: number; T: number; adapters: boolean };
  /** Their size, for memory budgets. */
  readonly bytes: number;
}

/** Every tensor a plan owns. */
function planTensors(p: Plan): Tensor[] {
  return [
    ...[p.x, p.text, p.condMask, p.keyMask, p.emb0, p.tIn, p.tH, p.tHs, p.tEmb, p.tok],
    ...[p.frames, p.out],
    ...p.xs,
    ...p.layers.flatMap((a) => tensorsOf(a)),
  ];
}

/**
 * Backward scratch for (B, T) at most: one per model, whichever forward's activations the
 * backward differentiates (they may be detached and attached back, see `detachActivations`).
 */
interface BackScratch {
  B: number;
  T: number;
  layer: LayerScratch;
  dxA: Tensor; // (N, C)
  dxB: Tensor; // (N, C)
  dframes: Tensor; // (B*T, C)
  demb0: Tensor; // (B*T, C)
  dtok: Tensor; // (B, C)
  dtHs: Tensor; // (B, C)
  dtH: Tensor; // (B, C)
}

function backScratchTensors(k: BackScratch): Tensor[] {
  return [k.dxA, k.dxB, k.dframes, k.demb0, k.dtok, k.dtHs, k.dtH, ...tensorsOf(k.layer)];
}

/** Bytes of every tensor of a plan. */
function planBytes(p: Plan): number {
  return planTensors(p).reduce((n, t) => n + 4 * t.size, 0);
}

interface Plan {
  B: number;
  T: number;
  x: Tensor; // (B*T, F) copy of the input motion
  text: Tensor; // (B, D) masked text features
  condMask: Tensor; // (B)
  keyMask: Tensor; // (B, S)
  keyMaskHost: Float32Array; // (B, S)
  emb0: Tensor; // (B*T, C) pose embedding
  tIn: Tensor; // (B, C) pe rows of the timesteps
  tH: Tensor; // (B, C) time_embed.0 output
  tHs: Tensor; // (B, C) silu(tH)
  tEmb: Tensor; // (B, C) time embedding
  tok: Tensor; // (B, C) condition token
  xs: Tensor[]; // L+1 × (N, C): encoder input, then each layer's output
  layers: LayerActivations[];
  frames: Tensor; // (B*T, C) encoder output without the token
  out: Tensor; // (B*T, F)
}

/** The MDM denoiser; see the module doc. Create with `fromStateDict` or `random`. */
export class MdmDenoiser implements Denoiser {
  readonly backend: Backend;
  readonly config: MdmConfig;
  readonly nfeats: number;
  readonly textDim: number;
  readonly training: MdmTraining;
  /** Base parameters by PyTorch state-dict key (LoRA not merged). */
  readonly params: Map<string, Tensor> = new Map();
  /** Gradients of the trainable base parameters (empty unless training is "full"). */
  readonly grads: Map<string, Tensor> = new Map();

  readonly #pe: Tensor; // (L, C) sinusoidal table
  readonly #peRows: number;
  #peHost: Float32Array | null; // (L, C) when it came from the checkpoint
  readonly #poseEmbedding: LinearLayer; // F → C
  readonly #time0: LinearLayer; // C → C
  readonly #time2: LinearLayer; // C → C
  readonly #embedText: LinearLayer; // D → C
  readonly #poseFinal: LinearLayer; // C → F
  readonly #layers: EncoderLayerParams[] = [];
  readonly #hasLora: boolean;
  #adapters = true;
  #plan: Plan | null = null;
  #last: { B: number; T: number; adapters: boolean } | null = null;
  /** Backward scratch, allocated by the first backward. */
  #back: BackScratch | null = null;

  private constructor(
    be: Backend,
    config: MdmConfig,
    host: Map<string, Float32Array>,
    pe: Float32Array | null,
    opts: MdmOptions,
  ) {
    this.backend = be;
    this.config = validateMdmConfig({ ...config });
    this.nfeats = config.nfeats;
    this.textDim = config.textDim;
    this.training = opts.training ?? "none";
    if (!["none", "full", "lora"].includes(this.training)) {
      throw new TypeError(`Cannot create MDM: training "${this.training}" is not none|full|lora`);
    }
    if (this.training === "lora" && !opts.lora) {
      throw new TypeError('Cannot create MDM: training "lora" needs lora options (rank, alpha)');
    }
    const C = config.latentDim;
    const full = this.training === "full";
    for (const [key, shape] of mdmParamShapes(config)) {
      this.params.set(key, be.tensor(shape, host.get(key)!));
      if (full) this.grads.set(key, be.tensor(shape));
    }
    if (pe !== null) {
      this.#peRows = pe.length / C;
      this.#pe = be.tensor([this.#peRows, C], pe);
      this.#peHost = pe;
    } else {
      this.#peRows = PE_MAX_LEN;
      this.#pe = be.tensor([PE_MAX_LEN, C]);
      be.positionalTable(this.#pe, PE_MAX_LEN, C);
      this.#peHost = null;
    }

    const linear = (prefix: string, wKey: string, bKey: string): LinearLayer => {
      const w = this.params.get(`${prefix}.${wKey}`)!;
      return {
        weightKey: `${prefix}.${wKey}`,
        biasKey: `${prefix}.${bKey}`,
        loraPrefix: prefix.endsWith("self_attn") ? `${prefix}.in_proj` : prefix,
        C: w.shape[1],
        OC: w.shape[0],
        w,
        b: this.params.get(`${prefix}.${bKey}`)!,
        dw: this.grads.get(`${prefix}.${wKey}`) ?? null,
        db: this.grads.get(`${prefix}.${bKey}`) ?? null,
        lora: null,
      };
    };
    const norm = (prefix: string): NormParams => ({
      w: this.params.get(`${prefix}.weight`)!,
      b: this.params.get(`${prefix}.bias`)!,
      dw: this.grads.get(`${prefix}.weight`) ?? null,
      db: this.grads.get(`${prefix}.bias`) ?? null,
    });
    this.#poseEmbedding = linear("input_process.poseEmbedding", "weight", "bias");
    this.#time0 = linear("embed_timestep.time_embed.0", "weight", "bias");
    this.#time2 = linear("embed_timestep.time_embed.2", "weight", "bias");
    this.#embedText = linear("embed_text", "weight", "bias");
    this.#poseFinal = linear("output_process.poseFinal", "weight", "bias");
    for (let i = 0; i < config.layers; i++) {
      const p = layerPrefix(i);
      this.#layers.push({
        inProj: linear(`${p}.self_attn`, "in_proj_weight", "in_proj_bias"),
        outProj: linear(`${p}.self_attn.out_proj`, "weight", "bias"),
        linear1: linear(`${p}.linear1`, "weight", "bias"),
        linear2: linear(`${p}.linear2`, "weight", "bias"),
        norm1: norm(`${p}.norm1`),
        norm2: norm(`${p}.norm2`),
      });
    }
    this.#hasLora = !!opts.lora;
    if (opts.lora) this.#addLora(opts.lora);
    this.#ensurePlan(opts.maxBatch ?? 1, opts.maxFrames ?? 196);
  }

  /**
   * A denoiser with the weights of an MDM state dict (`model` or `model_avg` of a checkpoint).
   * Every parameter key must be present with its shape; `clip_model.*` keys are ignored; the
   * `pe` buffers, when present, are used as the sinusoidal table (the exact float32 values
   * PyTorch computed); any other key is an error (another architecture).
   */
  static fromStateDict(
    be: Backend,
    sd: StateDict,
    config: MdmConfig,
    opts: MdmOptions = {},
    file = "state dict",
  ): MdmDenoiser {
    const shapes = mdmParamShapes(validateMdmConfig({ ...config }, `MDM config for "${file}"`));
    const host = new Map<string, Float32Array>();
    for (const [key, shape] of shapes) {
      const t = sd.get(key);
      if (!t) throw new TypeError(`Cannot load MDM from "${file}": missing key ${key}`);
      if (t.shape.join(",") !== shape.join(",")) {
        throw new TypeError(
          `Cannot load MDM from "${file}": ${key} has shape [${t.shape}], expected [${shape}]`,
        );
      }
      host.set(key, toFloat32(t));
    }
    for (const key of sd.keys()) {
      if (!shapes.has(key) && !PE_KEYS.includes(key) && !key.startsWith("clip_model.")) {
        throw new TypeError(
          `Cannot load MDM from "${file}": unexpected key ${key} (not a trans_enc MDM?)`,
        );
      }
    }
    let pe: Float32Array | null = null;
    const peT = sd.get(PE_KEYS[0]) ?? sd.get(PE_KEYS[1]);
    if (peT) {
      const C = config.latentDim;
      if (peT.shape[peT.shape.length - 1] !== C) {
        throw new TypeError(
          `Cannot load MDM from "${file}": ${PE_KEYS[0]} has shape [${peT.shape}], ` +
            `expected [L, 1, ${C}]`,
        );
      }
      pe = Float32Array.from(toFloat32(peT));
    }
    return new MdmDenoiser(be, config, host, pe, opts);
  }

  /** A denoiser with fresh PyTorch-default weights drawn from `seed` (see init.ts). */
  static random(be: Backend, config: MdmConfig, seed: number, opts: MdmOptions = {}): MdmDenoiser {
    const sd = initMdmStateDict(config, seed);
    const host = new Map([...sd].map(([k, t]) => [k, toFloat32(t)]));
    return new MdmDenoiser(be, config, host, null, opts);
  }

  // ---- adapters ---------------------------------------------------------------------------------

  #addLora(o: LoraOptions): void {
    if (!Number.isInteger(o.rank) || o.rank <= 0) {
      throw new RangeError(`Cannot add LoRA: rank must be a positive integer, got ${o.rank}`);
    }
    const be = this.backend, rng = new Rng(o.seed >>> 0, LORA_STREAM);
    const grads = this.training === "lora";
    for (const layer of this.#layers) {
      for (const lin of [layer.inProj, layer.outProj, layer.linear1, layer.linear2]) {
        lin.lora = {
          rank: o.rank,
          scale: o.alpha / o.rank,
          a: be.tensor([o.rank, lin.C], loraInitA(rng, o.rank, lin.C)),
          b: be.tensor([lin.OC, o.rank]),
          da: grads ? be.tensor([o.rank, lin.C]) : null,
          db: grads ? be.tensor([lin.OC, o.rank]) : null,
          u: be.tensor([1, o.rank]), // sized by #ensurePlan
          du: be.tensor([1, o.rank]),
        };
      }
    }
  }

  #linears(): LinearLayer[] {
    return this.#layers.flatMap((l) => [l.inProj, l.outProj, l.linear1, l.linear2]);
  }

  /** Whether the model has LoRA adapters. */
  get hasAdapters(): boolean {
    return this.#hasLora;
  }

  /** Whether forward applies the adapters. */
  get adaptersEnabled(): boolean {
    return this.#adapters;
  }

  /** Turns the adapters off (the exact base model: GRPO's reference) or back on. */
  setAdaptersEnabled(on: boolean): void {
    this.#adapters = on;
  }

  /** Adapter tensors by name: `<prefix>.lora_A.weight` (r, in) and `<prefix>.lora_B.weight`. */
  adapterTensors(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const lin of this.#linears()) {
      if (!lin.lora) continue;
      m.set(`${lin.loraPrefix}.lora_A.weight`, lin.lora.a);
      m.set(`${lin.loraPrefix}.lora_B.weight`, lin.lora.b);
    }
    return m;
  }

  /** Host copies of the adapters (names as `adapterTensors`). */
  async loraStateDict(): Promise<StateDict> {
    return await readStateDict(this.backend, this.adapterTensors());
  }

  /** Loads every adapter from `sd` (names and shapes as `adapterTensors`). */
  loadLoraStateDict(sd: StateDict, file = "LoRA state dict"): void {
    if (!this.#hasLora) throw new TypeError(`Cannot load "${file}": the model has no adapters`);
    for (const [name, t] of this.adapterTensors()) {
      const src = sd.get(name);
      if (!src) throw new TypeError(`Cannot load LoRA from "${file}": missing key ${name}`);
      if (src.shape.join(",") !== t.shape.join(",")) {
        throw new TypeError(
          `Cannot load LoRA from "${file}": ${name} has shape [${src.shape}], expected [${t.shape}]`,
        );
      }
      this.backend.write(t, toFloat32(src));
    }
  }

  // ---- parameters -------------------------------------------------------------------------------

  /** The trainable tensors with their gradients, in a fixed order (for the optimiser). */
  trainable(): MdmParam[] {
    if (this.training === "full") {
      return [...this.params].map(([name, param]) => ({
        name,
        param,
        grad: this.grads.get(name)!,
      }));
    }
    if (this.training === "lora") {
      return this.#linears().flatMap((lin) => [
        { name: `${lin.loraPrefix}.lora_A.weight`, param: lin.lora!.a, grad: lin.lora!.da! },
        { name: `${lin.loraPrefix}.lora_B.weight`, param: lin.lora!.b, grad: lin.lora!.db! },
      ]);
    }
    return [];
  }

  /** Zeroes every gradient (backward accumulates). */
  zeroGrad(): void {
    for (const p of this.trainable()) this.backend.fill(p.grad, 0);
  }

  /**
   * The model as an MDM state dict (parameter keys, then both `pe` buffers as (L, 1, C)), with
   * LoRA merged into the base weights (`W + alpha/r B A`) unless `merge` is false.
   */
  async toStateDict(merge = true): Promise<StateDict> {
    const be = this.backend, sd: StateDict = new Map();
    const merged = new Map<string, LinearLayer>();
    if (merge) { for (const lin of this.#linears()) if (lin.lora) merged.set(lin.weightKey, lin); }
    // every tensor in one read-back: the parameters, the adapters to merge, the table
    const host = await readStateDict(be, [
      ...this.params,
      ...[...merged.values()].flatMap((lin) => [
        [`${lin.weightKey}:A`, lin.lora!.a] as const,
        [`${lin.weightKey}:B`, lin.lora!.b] as const,
      ]),
      ["pe", this.#pe] as const,
    ]);
    for (const [key, t] of this.params) {
      const data = toFloat32(host.get(key)!); // a fresh host copy: merged in place
      const lin = merged.get(key);
      if (lin?.lora) {
        const a = toFloat32(host.get(`${key}:A`)!), b = toFloat32(host.get(`${key}:B`)!);
        const { rank: r, scale } = lin.lora;
        // W (OC, C) += s * B (OC, r) @ A (r, C), accumulated in float64
        for (let o = 0; o < lin.OC; o++) {
          for (let c = 0; c < lin.C; c++) {
            let s = 0;
            for (let k = 0; k < r; k++) s += b[o * r + k] * a[k * lin.C + c];
            data[o * lin.C + c] += scale * s;
          }
        }
      }
      sd.set(key, float32Tensor(data, [...t.shape]));
    }
    const C = this.config.latentDim;
    this.#peHost ??= toFloat32(host.get("pe")!);
    for (const key of PE_KEYS) sd.set(key, float32Tensor(this.#peHost, [this.#peRows, 1, C]));
    return sd;
  }

  // ---- memory plan ------------------------------------------------------------------------------

  #ensurePlan(B: number, T: number): Plan {
    const old = this.#plan;
    if (old && B <= old.B && T <= old.T) return old;
    const be = this.backend, c = this.config;
    const maxB = Math.max(B, old?.B ?? 0), maxT = Math.max(T, old?.T ?? 0);
    if (old) this.#freePlan(old);
    const S = maxT + 1, N = maxB * S, C = c.latentDim, F = c.nfeats, D = c.textDim;
    const NH = c.heads, FF = c.ffSize;
    const grads = this.training !== "none";
    const plan: Plan = {
      B: maxB,
      T: maxT,
      x: be.tensor([maxB * maxT, F]),
      text: be.tensor([maxB, D]),
      condMask: be.tensor([maxB]),
      keyMask: be.tensor([maxB, S]),
      keyMaskHost: new Float32Array(maxB * S),
      emb0: be.tensor([maxB * maxT, C]),
      tIn: be.tensor([maxB, C]),
      tH: be.tensor([maxB, C]),
      tHs: be.tensor([maxB, C]),
      tEmb: be.tensor([maxB, C]),
      tok: be.tensor([maxB, C]),
      // Inference keeps nothing for backward: two sequence buffers and one layer's activations
      // serve every layer (a 64-sample CFG batch of the official shape needs 0.3 GB, not 2.6).
      xs: Array.from({ length: grads ? c.layers + 1 : 2 }, () => be.tensor([N, C])),
      layers: Array.from(
        { length: grads ? c.layers : 1 },
        () => allocLayerActivations(be, maxB, S, C, NH, FF),
      ),
      frames: be.tensor([maxB * maxT, C]),
      out: be.tensor([maxB * maxT, F]),
    };
    for (const lin of this.#linears()) {
      if (!lin.lora) continue;
      be.free(lin.lora.u);
      be.free(lin.lora.du);
      lin.lora.u = be.tensor([N, lin.lora.rank]);
      lin.lora.du = be.tensor([N, lin.lora.rank]);
    }
    this.#plan = plan;
    return plan;
  }

  #freePlan(p: Plan): void {
    for (const t of planTensors(p)) this.backend.free(t);
  }

  /** The backward scratch, grown to (B, T) when needed. */
  #ensureBackScratch(B: number, T: number): BackScratch {
    const old = this.#back;
    if (old && B <= old.B && T <= old.T) return old;
    const be = this.backend, c = this.config;
    const maxB = Math.max(B, old?.B ?? 0), maxT = Math.max(T, old?.T ?? 0);
    if (old) { for (const t of backScratchTensors(old)) be.free(t); }
    const S = maxT + 1, N = maxB * S, C = c.latentDim;
    this.#back = {
      B: maxB,
      T: maxT,
      layer: allocLayerScratch(be, maxB, S, C, c.heads, c.ffSize),
      dxA: be.tensor([N, C]),
      dxB: be.tensor([N, C]),
      dframes: be.tensor([maxB * maxT, C]),
      demb0: be.tensor([maxB * maxT, C]),
      dtok: be.tensor([maxB, C]),
      dtHs: be.tensor([maxB, C]),
      dtH: be.tensor([maxB, C]),
    };
    return this.#back;
  }

  /**
   * Takes the activations the latest forward saved for `backward` out of the model (the next
   * forward works in fresh buffers), so that the backward of that forward can run later, after
   * other forwards: `attachActivations` hands them back. The caller owns them until then (or
   * releases them with `freeActivations`).
   */
  detachActivations(): SavedActivations {
    const plan = this.#plan, last = this.#last;
    if (plan === null || last === null) {
      throw new TypeError("Cannot detach MDM activations: no forward has run");
    }
    this.#plan = null;
    this.#last = null;
    return { plan, last, bytes: planBytes(plan) };
  }

  /** Makes `saved` (from `detachActivations`) the forward that `backward` differentiates. */
  attachActivations(saved: SavedActivations): void {
    if (this.#plan) this.#freePlan(this.#plan);
    this.#plan = saved.plan;
    this.#last = saved.last;
  }

  /** Releases detached activations that will not be attached. */
  freeActivations(saved: SavedActivations): void {
    this.#freePlan(saved.plan);
  }

  /** Frees every tensor the model owns. */
  destroy(): void {
    const be = this.backend;
    if (this.#plan) this.#freePlan(this.#plan);
    this.#plan = null;
    if (this.#back) { for (const t of backScratchTensors(this.#back)) be.free(t); }
    this.#back = null;
    for (const t of [...this.params.values(), ...this.grads.values(), this.#pe]) be.free(t);
    for (const lin of this.#linears()) {
      const ad = lin.lora;
      if (!ad) continue;
      for (const t of [ad.a, ad.b, ad.da, ad.db, ad.u, ad.du]) if (t) be.free(t);
    }
  }

  // ---- forward / backward -----------------------------------------------------------------------

  /** Writes the x0 prediction (B, T, F) into `out` (runs `forward`). */
  predictX0(out: Tensor, input: DenoiserInput, B: number, T: number): void {
    const y = this.forward(input, B, T);
    this.backend.copy(out, y, B * T * this.nfeats);
  }

  /**
   * Runs the network on B motions of T frames and returns the model-owned output: its first
   * B*T*F elements are (B, T, F) (the buffer is sized for the plan), valid until the next call.
   * Saves what `backward` needs.
   */
  forward(input: DenoiserInput, B: number, T: number): Tensor {
    this.#checkInput(input, B, T);
    const be = this.backend, cfg = this.config, a = this.#ensurePlan(B, T);
    const S = T + 1, N = B * S, C = cfg.latentDim, F = cfg.nfeats, D = cfg.textDim;
    const dims: LayerDims = { B, S, C, NH: cfg.heads, FF: cfg.ffSize };
    const ad = this.#adapters && this.#hasLora;

    // Condition token: embed_text(mask(c)) + time_embed(pe[t])   (B, C)
    be.copy(a.x, input.x, B * T * F); // (B*T, F) kept for backward
    be.write(a.condMask, input.condMask.subarray(0, B)); // (B)
    be.scaleRows(a.text, input.text, a.condMask, B, D); // (B, D) unconditional rows zeroed
    linearForward(be, this.#embedText, a.tok, a.text, B, false); // (B, C)
    be.gatherRows(a.tIn, this.#pe, input.timesteps.subarray(0, B), C); // (B, C)
    linearForward(be, this.#time0, a.tH, a.tIn, B, false); // (B, C)
    be.siluForward(a.tHs, a.tH, B * C);
    linearForward(be, this.#time2, a.tEmb, a.tHs, B, false); // (B, C)
    be.axpby(a.tok, a.tok, 1, a.tEmb, 1, B * C);

    // Frames: poseEmbedding over F   (B*T, C)
    linearForward(be, this.#poseEmbedding, a.emb0, a.x, B * T, false);

    // Sequence (B, S, C) = [token, frames] + pe[0..T]
    const x0 = a.xs[0];
    be.copy2d(x0, a.tok, B, C, S * C, 0, C, 0);
    be.copy2d(x0, a.emb0, B, T * C, S * C, C, T * C, 0);
    be.addPeriodic(x0, x0, this.#pe, N * C, S * C);

    // Encoder (N, C) → (N, C), layer by layer; xs(l) is layer l's input
    const keyMask = this.#keyMask(a, input, B, T); // (B, S) or null
    const L = cfg.layers, keep = a.layers.length === L; // keep: activations saved per layer
    const xs = (l: number) => (keep ? a.xs[l] : a.xs[l % 2]);
    for (let l = 0; l < L; l++) {
      const act = a.layers[keep ? l : 0];
      encoderLayerForward(be, this.#layers[l], act, xs(l + 1), xs(l), keyMask, dims, ad);
    }

    // Drop the token, poseFinal   (B*T, C) → (B*T, F)
    be.copy2d(a.frames, xs(L), B, T * C, T * C, 0, S * C, C);
    linearForward(be, this.#poseFinal, a.out, a.frames, B * T, false);
    this.#last = { B, T, adapters: ad };
    return a.out;
  }

  /**
   * Back-propagates `dout` (B, T, F), the loss gradient w.r.t. the latest forward's output, and
   * accumulates every trainable parameter's gradient.
   */
  backward(dout: Tensor): void {
    if (this.training === "none") {
      throw new TypeError('Cannot run MDM backward: the model was created with training "none"');
    }
    const last = this.#last;
    if (last === null) throw new TypeError("Cannot run MDM backward: call forward first");
    if (this.training === "lora" && !last.adapters) {
      throw new TypeError(
        "Cannot run MDM backward: the latest forward ran with adapters disabled (reference pass)",
      );
    }
    const be = this.backend, cfg = this.config, a = this.#plan!;
    const { B, T } = last;
    const S = T + 1, C = cfg.latentDim;
    if (dout.size < B * T * cfg.nfeats) {
      throw new RangeError(
        `Cannot run MDM backward: dout has ${dout.size} elements, need ${B * T * cfg.nfeats}`,
      );
    }
    const dims: LayerDims = { B, S, C, NH: cfg.heads, FF: cfg.ffSize };
    const full = this.training === "full";
    const k = this.#ensureBackScratch(B, T), s = k.layer;

    // out = poseFinal(frames)   (B*T, F) → (B*T, C)
    linearBackward(be, this.#poseFinal, k.dframes, dout, a.frames, B * T, false);
    // frames = xs[L][:, 1:]; the token's output is dropped, so its gradient is zero.
    let dy = k.dxA, dx = k.dxB;
    be.fill(dy, 0);
    be.copy2d(dy, k.dframes, B, T * C, S * C, C, T * C, 0);

    // Encoder layers in reverse. With frozen base weights nothing below layer 0 needs dx.
    for (let l = cfg.layers - 1; l >= 0; l--) {
      const needDx = l > 0 || full;
      encoderLayerBackward(
        be,
        this.#layers[l],
        a.layers[l],
        s,
        needDx ? dx : null,
        dy,
        a.xs[l],
        dims,
        last.adapters,
      );
      [dy, dx] = [dx, dy];
    }
    if (!full) return;

    // dy = d(sequence) (B, S, C); pe is constant. Split into token and frames.
    be.copy2d(k.dtok, dy, B, C, C, 0, S * C, 0); // (B, C)
    be.copy2d(k.demb0, dy, B, T * C, T * C, 0, S * C, C); // (B*T, C)
    linearBackward(be, this.#poseEmbedding, null, k.demb0, a.x, B * T, false);
    // tok = embed_text(text) + time2(silu(time0(pe[t])))
    linearBackward(be, this.#embedText, null, k.dtok, a.text, B, false);
    linearBackward(be, this.#time2, k.dtHs, k.dtok, a.tHs, B, false);
    be.siluBackward(k.dtH, a.tH, k.dtHs, B * C);
    linearBackward(be, this.#time0, null, k.dtH, a.tIn, B, false);
  }

  /** Key padding mask (B, S): 1 for the token and valid frames; null when the model attends all. */
  #keyMask(a: Plan, input: DenoiserInput, B: number, T: number): Tensor | null {
    if (!this.config.maskFrames) return null;
    const S = T + 1;
    if (input.lengths) {
      const m = a.keyMaskHost.subarray(0, B * S);
      for (let b = 0; b < B; b++) {
        const len = input.lengths[b];
        for (let s = 0; s < S; s++) m[b * S + s] = s === 0 || s - 1 < len ? 1 : 0;
      }
      this.backend.write(a.keyMask, m);
      return a.keyMask;
    }
    if (input.frameMask) {
      this.backend.fill(a.keyMask, 1);
      this.backend.copy2d(a.keyMask, input.frameMask, B, T, S, 1, T, 0);
      return a.keyMask;
    }
    return null;
  }

  #checkInput(input: DenoiserInput, B: number, T: number): void {
    const c = this.config;
    const need = (what: string, have: number, n: number) => {
      if (have < n) {
        throw new RangeError(`Cannot run MDM forward: ${what} has ${have} elements, need ${n}`);
      }
    };
    if (!Number.isInteger(B) || B <= 0 || !Number.isInteger(T) || T <= 0) {
      throw new RangeError(`Cannot run MDM forward: B ${B} and T ${T} must be positive integers`);
    }
    need("x", input.x.size, B * T * c.nfeats);
    need("text", input.text.size, B * c.textDim);
    need("timesteps", input.timesteps.length, B);
    need("condMask", input.condMask.length, B);
    if (input.frameMask) need("frameMask", input.frameMask.size, B * T);
    if (input.lengths) need("lengths", input.lengths.length, B);
    for (let b = 0; b < B; b++) {
      const t = input.timesteps[b];
      if (!Number.isInteger(t) || t < 0 || t >= this.#peRows) {
        throw new RangeError(
          `Cannot run MDM forward: timestep ${t} of sample ${b} is outside [0, ${this.#peRows})`,
        );
      }
    }
  }
}
