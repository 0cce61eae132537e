/**
 * TMR's `ACTORStyleEncoder` (Mathux/TMR, `src/model/actor.py`; NUMERICS.md section 7) on the
 * engine, with a forward that saves activations and a hand-written backward:
 *
 *   z   = projection(x)                                  (B, T, C)
 *   seq = [tokens; z] + pe[0..S)                         (B, S, C), S = K + T
 *   out = TransformerEncoder(seq, key mask)              post-norm, batch-first, exact GELU
 *   mu  = out[:, 0], logvar = out[:, 1] (vae)            (B, C)
 *
 * K = 2 learned tokens with vae (1 without); the tokens are always valid keys, frame t of sample
 * b is valid when t < lengths[b]. The sinusoidal table is TMR's batch-first PositionalEncoding:
 * the same values as MDM's table, row p added at sequence position p (tokens included). Semantics
 * follow PyTorch in eval mode (no dropout).
 *
 * Dimension letters: B batch, T frames (or text tokens), K learned tokens, S = K+T, F input
 * features, C latent channels, NH heads, FF feed-forward width, N = B*S rows.
 *
 * Gradient conventions (as kernels/backend.ts): `backward` ACCUMULATES (+=) into parameter
 * gradients (call `zeroGrad()` once per step) and OVERWRITES the optional input gradient.
 * `backward` uses the activations of the latest `forward`.
 *
 * Memory: activations are planned for (maxBatch, maxFrames) at construction; a larger call
 * re-plans once and keeps the larger plan.
 * @module
 */
import type { Backend, Tensor } from "../../kernels/backend.ts";
import { readStateDict, type StateDict, toFloat32 } from "../checkpoint/state_dict.ts";
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
} from "../mdm/encoder_layer.ts";
import { linearBackward, linearForward, type LinearLayer } from "../mdm/lora.ts";
import {
  inferTmrConfig,
  TMR_PE_MAX_LEN,
  type TmrConfig,
  tmrLayerPrefix,
  tmrParamShapes,
  tmrTokenCount,
  validateTmrConfig,
} from "./config.ts";

/** Construction options. */
export interface TmrEncoderOptions {
  /** Largest batch planned up front (default 1; larger calls re-plan once). */
  maxBatch?: number;
  /** Largest number of frames (or text tokens) T planned up front (default 196). */
  maxFrames?: number;
  /** Whether parameters get gradients (default false: inference, or input gradients only). */
  training?: boolean;
}

/** The encoder's outputs, model-owned (valid until the next forward): first B*C elements. */
export interface TmrEncoding {
  mu: Tensor; // (B, C)
  /** Null when the encoder has no logvar token (vae false). */
  logvar: Tensor | null; // (B, C)
}

/** Optional inputs and outputs of `backward` besides d(mu). */
export interface TmrBackwardOptions {
  /** Loss gradient w.r.t. logvar (B, C); absent means zero. */
  dlogvar?: Tensor | null;
  /** When given, receives the loss gradient w.r.t. the forward's input x (B, T, F). */
  dx?: Tensor | null;
}

/** A trainable tensor, its gradient, and its state-dict name. */
export interface TmrParam {
  name: string;
  param: Tensor;
  grad: Tensor;
}

interface Plan {
  B: number;
  T: number;
  x: Tensor; // (B*T, F) copy of the input
  z: Tensor; // (B*T, C) projection output
  pe: Tensor; // (S, C) sinusoidal rows
  ones: Tensor; // (B) for summing token gradients over the batch
  keyMask: Tensor; // (B, S)
  keyMaskHost: Float32Array; // (B, S)
  xs: Tensor[]; // L+1 × (N, C): encoder input, then each layer's output
  layers: LayerActivations[];
  mu: Tensor; // (B, C)
  logvar: Tensor; // (B, C)
  // Backward buffers: allocated with the plan when training, else on the first backward.
  scratch: LayerScratch | null;
  dyA: Tensor | null; // (N, C)
  dyB: Tensor | null; // (N, C)
  dz: Tensor | null; // (B*T, C)
}

/** TMR's ACTOR-style encoder; see the module doc. Create with `fromStateDict`. */
export class TmrEncoder {
  readonly backend: Backend;
  readonly config: TmrConfig;
  readonly training: boolean;
  /** Parameters by TMR state-dict key. */
  readonly params: Map<string, Tensor> = new Map();
  /** Gradients by the same keys (empty unless training). */
  readonly grads: Map<string, Tensor> = new Map();

  readonly #K: number;
  readonly #projection: LinearLayer; // F → C
  readonly #layers: EncoderLayerParams[] = [];
  #plan: Plan | null = null;
  #last: { B: number; T: number } | null = null;

  private constructor(
    be: Backend,
    config: TmrConfig,
    host: Map<string, Float32Array>,
    opts: TmrEncoderOptions,
  ) {
    this.backend = be;
    this.config = config;
    this.training = opts.training ?? false;
    this.#K = tmrTokenCount(config);
    for (const [key, shape] of tmrParamShapes(config)) {
      this.params.set(key, be.tensor(shape, host.get(key)!));
      if (this.training) this.grads.set(key, be.tensor(shape));
    }
    const linear = (prefix: string, wKey: string, bKey: string): LinearLayer => {
      const w = this.params.get(`${prefix}.${wKey}`)!;
      return {
        weightKey: `${prefix}.${wKey}`,
        biasKey: `${prefix}.${bKey}`,
        loraPrefix: prefix,
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
    this.#projection = linear("projection", "weight", "bias");
    for (let i = 0; i < config.layers; i++) {
      const p = tmrLayerPrefix(i);
      this.#layers.push({
        inProj: linear(`${p}.self_attn`, "in_proj_weight", "in_proj_bias"),
        outProj: linear(`${p}.self_attn.out_proj`, "weight", "bias"),
        linear1: linear(`${p}.linear1`, "weight", "bias"),
        linear2: linear(`${p}.linear2`, "weight", "bias"),
        norm1: norm(`${p}.norm1`),
        norm2: norm(`${p}.norm2`),
      });
    }
    this.#ensurePlan(opts.maxBatch ?? 1, opts.maxFrames ?? 196);
  }

  /**
   * An encoder with the weights of a TMR encoder state dict (`motion_encoder.pt`,
   * `text_encoder.pt`). `config` defaults to what the weights imply with 4 heads
   * ({@linkcode inferTmrConfig}). Every parameter key must be present with its shape; any other
   * key is an error (another architecture).
   */
  static fromStateDict(
    be: Backend,
    sd: StateDict,
    config?: TmrConfig,
    opts: TmrEncoderOptions = {},
    file = "state dict",
  ): TmrEncoder {
    const cfg = validateTmrConfig(
      config ? { ...config } : inferTmrConfig(sd, 4, file),
      `TMR config for "${file}"`,
    );
    const shapes = tmrParamShapes(cfg);
    const host = new Map<string, Float32Array>();
    for (const [key, shape] of shapes) {
      const t = sd.get(key);
      if (!t) throw new TypeError(`Cannot load TMR encoder from "${file}": missing key ${key}`);
      if (t.shape.join(",") !== shape.join(",")) {
        throw new TypeError(
          `Cannot load TMR encoder from "${file}": ${key} has shape [${t.shape}], ` +
            `expected [${shape}]`,
        );
      }
      host.set(key, toFloat32(t));
    }
    for (const key of sd.keys()) {
      if (!shapes.has(key)) {
        throw new TypeError(
          `Cannot load TMR encoder from "${file}": unexpected key ${key} ` +
            `(not an ACTORStyleEncoder with ${cfg.layers} layers?)`,
        );
      }
    }
    return new TmrEncoder(be, cfg, host, opts);
  }

  /** Number of learned tokens K (2 with vae, else 1). */
  get tokenCount(): number {
    return this.#K;
  }

  /** Host copies of every parameter, keys and order as TMR's state dict. */
  async toStateDict(): Promise<StateDict> {
    return await readStateDict(this.backend, this.params);
  }

  /** The trainable tensors with their gradients in state-dict order (empty unless training). */
  trainable(): TmrParam[] {
    return [...this.grads].map(([name, grad]) => ({ name, param: this.params.get(name)!, grad }));
  }

  /** Zeroes every parameter gradient (backward accumulates). */
  zeroGrad(): void {
    for (const g of this.grads.values()) this.backend.fill(g, 0);
  }

  // ---- forward / backward -----------------------------------------------------------------------

  /**
   * Encodes B sequences of T frames `x` (B, T, F); `lengths[b]` valid frames of sample b
   * (0..T), or null when every frame is valid. Returns model-owned (B, C) buffers.
   */
  forward(x: Tensor, lengths: ArrayLike<number> | null, B: number, T: number): TmrEncoding {
    this.#checkInput(x, lengths, B, T);
    const be = this.backend, cfg = this.config, K = this.#K;
    const a = this.#ensurePlan(B, T);
    const S = K + T, N = B * S, C = cfg.latentDim, F = cfg.nfeats;
    const dims: LayerDims = { B, S, C, NH: cfg.heads, FF: cfg.ffSize };

    be.copy(a.x, x, B * T * F); // (B*T, F) kept for backward
    linearForward(be, this.#projection, a.z, a.x, B * T, false); // (B*T, C)

    // Sequence (B, S, C) = [tokens, z] + pe[0..S)
    const x0 = a.xs[0];
    be.copy2d(x0, this.params.get("tokens")!, B, K * C, S * C, 0, 0, 0); // same rows for every b
    be.copy2d(x0, a.z, B, T * C, S * C, K * C, T * C, 0);
    be.addPeriodic(x0, x0, a.pe, N * C, S * C);

    const keyMask = this.#keyMask(a, lengths, B, T); // (B, S) or null
    for (let l = 0; l < cfg.layers; l++) {
      encoderLayerForward(
        be,
        this.#layers[l],
        a.layers[l],
        a.xs[l + 1],
        a.xs[l],
        keyMask,
        dims,
        false,
      );
    }
    const out = a.xs[cfg.layers];
    be.copy2d(a.mu, out, B, C, C, 0, S * C, 0); // token 0
    if (cfg.vae) be.copy2d(a.logvar, out, B, C, C, 0, S * C, C); // token 1
    this.#last = { B, T };
    return { mu: a.mu, logvar: cfg.vae ? a.logvar : null };
  }

  /**
   * Back-propagates `dmu` (B, C) (and `opts.dlogvar`) through the latest forward: accumulates
   * every parameter gradient when training, overwrites `opts.dx` (B, T, F) when given.
   */
  backward(dmu: Tensor, opts: TmrBackwardOptions = {}): void {
    const last = this.#last;
    if (last === null) throw new TypeError("Cannot run TMR encoder backward: call forward first");
    const dxIn = opts.dx ?? null, dlogvar = opts.dlogvar ?? null;
    if (!this.training && dxIn === null) {
      throw new TypeError(
        "Cannot run TMR encoder backward: the encoder was created without training and no dx " +
          "was requested",
      );
    }
    const be = this.backend, cfg = this.config, K = this.#K;
    const { B, T } = last;
    const S = K + T, C = cfg.latentDim;
    const need = (what: string, t: Tensor, n: number) => {
      if (t.size < n) {
        throw new RangeError(
          `Cannot run TMR encoder backward: ${what} has ${t.size} elements, need ${n}`,
        );
      }
    };
    need("dmu", dmu, B * C);
    if (dlogvar !== null) {
      if (!cfg.vae) {
        throw new TypeError("Cannot run TMR encoder backward: dlogvar given but vae is false");
      }
      need("dlogvar", dlogvar, B * C);
    }
    if (dxIn !== null) need("dx", dxIn, B * T * cfg.nfeats);
    const a = this.#ensureBackward(this.#plan!);
    const dims: LayerDims = { B, S, C, NH: cfg.heads, FF: cfg.ffSize };

    // out[:, 0] = mu, out[:, 1] = logvar; every other output position has zero gradient.
    let dy = a.dyA!, dx = a.dyB!;
    be.fill(dy, 0);
    be.copy2d(dy, dmu, B, C, S * C, 0, C, 0);
    if (dlogvar !== null) be.copy2d(dy, dlogvar, B, C, S * C, C, C, 0);
    for (let l = cfg.layers - 1; l >= 0; l--) {
      const needDx = l > 0 || this.training || dxIn !== null;
      encoderLayerBackward(
        be,
        this.#layers[l],
        a.layers[l],
        a.scratch!,
        needDx ? dx : null,
        dy,
        a.xs[l],
        dims,
        false,
      );
      [dy, dx] = [dx, dy];
    }
    // dy = d(sequence) (B, S, C); pe is constant.
    const dtok = this.grads.get("tokens");
    if (dtok) {
      // dtokens (1, K*C) += ones (1, B) @ dy[:, :K] (B, K*C), rows S*C apart
      be.gemm(dtok, a.ones, dy, 1, K * C, B, { ldb: S * C, beta: 1 });
    }
    be.copy2d(a.dz!, dy, B, T * C, T * C, 0, S * C, K * C); // (B*T, C)
    linearBackward(be, this.#projection, dxIn, a.dz!, a.x, B * T, false);
  }

  /** Frees every tensor the encoder owns. */
  destroy(): void {
    const be = this.backend;
    if (this.#plan) this.#freePlan(this.#plan);
    this.#plan = null;
    this.#last = null;
    for (const t of [...this.params.values(), ...this.grads.values()]) be.free(t);
  }

  // ---- memory plan ------------------------------------------------------------------------------

  #ensurePlan(B: number, T: number): Plan {
    const old = this.#plan;
    if (old && B <= old.B && T <= old.T) return old;
    const be = this.backend, c = this.config, K = this.#K;
    const maxB = Math.max(B, old?.B ?? 0), maxT = Math.max(T, old?.T ?? 0);
    const hadBackward = old?.scratch != null;
    if (old) this.#freePlan(old);
    const S = K + maxT, N = maxB * S, C = c.latentDim, F = c.nfeats;
    const plan: Plan = {
      B: maxB,
      T: maxT,
      x: be.tensor([maxB * maxT, F]),
      z: be.tensor([maxB * maxT, C]),
      pe: be.tensor([S, C]),
      ones: be.tensor([maxB]),
      keyMask: be.tensor([maxB, S]),
      keyMaskHost: new Float32Array(maxB * S),
      xs: Array.from({ length: c.layers + 1 }, () => be.tensor([N, C])),
      layers: Array.from(
        { length: c.layers },
        () => allocLayerActivations(be, maxB, S, C, c.heads, c.ffSize),
      ),
      mu: be.tensor([maxB, C]),
      logvar: be.tensor([maxB, C]),
      scratch: null,
      dyA: null,
      dyB: null,
      dz: null,
    };
    be.positionalTable(plan.pe, S, C);
    be.fill(plan.ones, 1);
    if (this.training || hadBackward) this.#ensureBackward(plan);
    this.#plan = plan;
    return plan;
  }

  #ensureBackward(p: Plan): Plan {
    if (p.scratch !== null) return p;
    const be = this.backend, c = this.config;
    const S = this.#K + p.T, N = p.B * S, C = c.latentDim;
    p.scratch = allocLayerScratch(be, p.B, S, C, c.heads, c.ffSize);
    p.dyA = be.tensor([N, C]);
    p.dyB = be.tensor([N, C]);
    p.dz = be.tensor([p.B * p.T, C]);
    return p;
  }

  #freePlan(p: Plan): void {
    const be = this.backend;
    const own: (Tensor | null)[] = [
      ...[p.x, p.z, p.pe, p.ones, p.keyMask, p.mu, p.logvar, p.dyA, p.dyB, p.dz],
      ...p.xs,
    ];
    for (const t of own) if (t) be.free(t);
    for (const a of p.layers) for (const t of tensorsOf(a)) be.free(t);
    if (p.scratch) { for (const t of tensorsOf(p.scratch)) be.free(t); }
  }

  /** Key padding mask (B, S): 1 for the tokens and valid frames; null when all are valid. */
  #keyMask(a: Plan, lengths: ArrayLike<number> | null, B: number, T: number): Tensor | null {
    if (lengths === null) return null;
    const K = this.#K, S = K + T;
    const m = a.keyMaskHost.subarray(0, B * S);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) m[b * S + s] = s < K || s - K < lengths[b] ? 1 : 0;
    }
    this.backend.write(a.keyMask, m);
    return a.keyMask;
  }

  #checkInput(x: Tensor, lengths: ArrayLike<number> | null, B: number, T: number): void {
    if (!Number.isInteger(B) || B <= 0 || !Number.isInteger(T) || T <= 0) {
      throw new RangeError(
        `Cannot run TMR encoder forward: B ${B} and T ${T} must be positive integers`,
      );
    }
    if (this.#K + T > TMR_PE_MAX_LEN) {
      throw new RangeError(
        `Cannot run TMR encoder forward: ${T} frames plus ${this.#K} tokens exceed the ` +
          `positional table's ${TMR_PE_MAX_LEN} rows`,
      );
    }
    const n = B * T * this.config.nfeats;
    if (x.size < n) {
      throw new RangeError(`Cannot run TMR encoder forward: x has ${x.size} elements, need ${n}`);
    }
    if (lengths === null) return;
    if (lengths.length < B) {
      throw new RangeError(
        `Cannot run TMR encoder forward: lengths has ${lengths.length} entries, need ${B}`,
      );
    }
    for (let b = 0; b < B; b++) {
      const len = lengths[b];
      if (!Number.isInteger(len) || len < 0 || len > T) {
        throw new RangeError(
          `Cannot run TMR encoder forward: length ${len} of sample ${b} is outside [0, ${T}]`,
        );
      }
    }
  }
}
