/**
 * The compute engine's one interface. Models (MDM, LoRA, TMR) are written once against it and run
 * on either backend: `cpu` (TypeScript twin, plain loops, plus a WASM-SIMD GEMM for the products)
 * or `webgpu` (WGSL kernels).
 *
 * Conventions, once for every kernel below:
 * - Every tensor is float32, row-major (C order). `shape` is for checks and messages; kernels take
 *   explicit dimensions. Dimension letters: B batch, T frames (sequence), C channels, OC output
 *   channels, NH heads, N rows (= B*T when a sequence is flattened).
 * - Sequences are batch-first `(B, T, C)`; MDM's sequence-first layout is permuted at the edges.
 * - Forward kernels overwrite their outputs.
 * - Backward kernels OVERWRITE activation gradients (`dinp`, `dqkv`, ...) and ACCUMULATE (`+=`)
 *   into parameter gradients (`dweight`, `dbias`); the caller zeroes parameter gradients once per
 *   step. A `null` gradient output is skipped (e.g. frozen weights, first layer's input).
 * - Masks are float32: 1 = valid, 0 = padded.
 * - Calls enqueue work and return at once; `read()` waits for everything queued before it.
 *   Results are deterministic: fixed reduction orders, no floating-point atomics.
 */

/** A float32 buffer owned by one backend. */
export interface Tensor {
  readonly shape: readonly number[];
  /** Number of float32 elements. */
  readonly size: number;
  /** Kind of the backend that owns it; mixing backends is an error. */
  readonly owner: BackendKind;
}

export type BackendKind = "cpu" | "webgpu";

/**
 * General matrix product options, BLAS style:
 * `C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b]` for `b < batch`, where
 * `op(A)` is `(M, K)` (stored `(K, M)` when `transA`), `op(B)` is `(K, N)` (stored `(N, K)` when
 * `transB`), `C` is `(M, N)`. Leading dimensions (row strides, in elements) default to packed
 * storage; offsets and batch strides are in elements.
 */
export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0: C is overwritten (its old contents are ignored, even NaN). */
  beta?: number;
  /** Default 1. */
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
  lda?: number;
  ldb?: number;
  ldc?: number;
  offsetA?: number;
  offsetB?: number;
  offsetC?: number;
}

/** AdamW hyper-parameters for one update (PyTorch `torch.optim.AdamW` semantics). */
export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number, for bias correction. */
  step: number;
}

/** Address of a block of random numbers: the same triple always gives the same numbers. */
export interface RandomAddress {
  /** 32-bit unsigned seed (Philox key word 0). */
  seed: number;
  /** 32-bit unsigned stream id (Philox key word 1): separate users draw from separate streams. */
  stream: number;
  /** 32-bit unsigned index of the first element within the stream. */
  offset: number;
}

/** Device memory a backend holds, in bytes (`Backend.memory()`). */
export interface MemoryStats {
  /** Bytes allocated through the backend and not released yet. */
  liveBytes: number;
  /** Most `liveBytes` seen since the backend was created or `resetPeak()` was last called. */
  peakBytes: number;
}

/**
 * What a linear layer's forward also does, in the product's single pass over `out` on a GPU.
 * Each field names the separate call it replaces: the CPU backend makes exactly that call after
 * the product (the same bits); a GPU computes the same expression in the product's epilogue.
 */
export interface LinearForwardExtras {
  /**
   * (N, OC), another tensor than `out`: `out = (inp W^T + bias) + residual`, as
   * `axpby(out, out, 1, residual, 1)` would add it.
   */
  residual?: Tensor | null;
  /**
   * (N, OC), another tensor than `out`: also `gelu = GELU(out)` (after the residual), as
   * `geluForward(gelu, out, N * OC)` would; `out` stays GELU's input (kept for backward).
   */
  gelu?: Tensor | null;
}

/** What a linear layer's backward also does, in the single pass over `dinp` on a GPU (as above). */
export interface LinearBackwardExtras {
  /**
   * (N, C), another tensor than `dinp`: the layer's input was `GELU(geluInput)`, and `dinp`
   * receives the gradient of `geluInput` instead, `(dout W) * GELU'(geluInput)`, as
   * `geluBackward(dinp, geluInput, dinp, N * C)` would after the product.
   */
  geluInput?: Tensor | null;
  /**
   * (N, C), another tensor than `dinp`: added last (a residual connection's other path), as
   * `axpby(dinp, dinp, 1, residual, 1)` would.
   */
  residual?: Tensor | null;
}

/**
 * Refuses extras that are the written tensor itself (each is read at the indices being written)
 * or that have nothing to act on (`target` null: a skipped input gradient).
 */
export function checkExtras(
  method: string,
  target: Tensor | null,
  extras: Record<string, Tensor | null>,
): void {
  for (const [name, t] of Object.entries(extras)) {
    if (t === null) continue;
    if (target === null) {
      throw new RangeError(`Cannot run ${method}: ${name} is given but the input gradient is not`);
    }
    if (t === target) {
      throw new RangeError(`Cannot run ${method}: ${name} is the output tensor itself`);
    }
  }
}

/**
 * The forward's extras as the separate calls after the product, in their order: what the CPU
 * backend does, and what a layer does after an adapter's term has been added.
 */
export function applyForwardExtras(
  be: Backend,
  out: Tensor,
  extras: LinearForwardExtras,
  n: number,
): void {
  if (extras.residual) be.axpby(out, out, 1, extras.residual, 1, n);
  if (extras.gelu) be.geluForward(extras.gelu, out, n);
}

/** The input gradient's extras as the separate calls after the product (as above). */
export function applyBackwardExtras(
  be: Backend,
  dinp: Tensor,
  extras: LinearBackwardExtras,
  n: number,
): void {
  if (extras.geluInput) be.geluBackward(dinp, extras.geluInput, dinp, n);
  if (extras.residual) be.axpby(dinp, dinp, 1, extras.residual, 1, n);
}

export interface Backend {
  readonly kind: BackendKind;
  /** Human-readable description: "cpu (wasm-simd gemm)", "webgpu (NVIDIA H100 ...)". */
  describe(): string;

  // ---- memory ------------------------------------------------------------------------------
  /** A new tensor, zero-filled unless `data` is given (copied). */
  tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor;
  /** Copies `data` into `t` starting at element `offset` (default 0). */
  write(t: Tensor, data: Float32Array, offset?: number): void;
  /** A host copy of `t`, after all queued work. */
  read(t: Tensor): Promise<Float32Array>;
  /** Host copies of several tensors in one read-back (one GPU round trip), after queued work. */
  readMany(ts: readonly Tensor[]): Promise<Float32Array[]>;
  fill(t: Tensor, value: number): void;
  /** `dst[dstOffset + i] = src[srcOffset + i]` for `i < n` (whole tensor by default). */
  copy(dst: Tensor, src: Tensor, n?: number, dstOffset?: number, srcOffset?: number): void;
  /**
   * Strided 2-D copy: for `r < rows, c < cols`,
   * `dst[dstOffset + r*dstStride + c] = src[srcOffset + r*srcStride + c]`.
   * Used for concat/slice along the frame axis (condition token + frames).
   */
  copy2d(
    dst: Tensor,
    src: Tensor,
    rows: number,
    cols: number,
    dstStride: number,
    dstOffset: number,
    srcStride: number,
    srcOffset: number,
  ): void;
  free(t: Tensor): void;
  /**
   * Memory accounting: bytes of tensors (cpu: their float32 arrays) or of every GPU buffer the
   * backend created (webgpu: tensors, pooled scratch, uniforms, uploads and read-back staging) that
   * are not released yet, and their peak. Memory outside the backend (WASM heap, JS objects) is
   * not counted.
   */
  memory(): MemoryStats;
  /** Restarts the peak of `memory()` at the current live bytes. */
  resetPeak(): void;
  /** Waits for all queued work. */
  sync(): Promise<void>;
  /**
   * Starts the queued work without waiting for it (a GPU backend submits what it has encoded):
   * call it before awaiting something else, so that the device works meanwhile.
   */
  submit(): void;

  // ---- element-wise ------------------------------------------------------------------------
  /** `out[i] = alpha * a[i] + beta * b[i]` (residual add: alpha = beta = 1). `out` may alias. */
  axpby(out: Tensor, a: Tensor, alpha: number, b: Tensor, beta: number, n: number): void;
  /** `out[i] = inp[i] + row[i % period]` (broadcast add, e.g. positional encoding over B). */
  addPeriodic(out: Tensor, inp: Tensor, row: Tensor, n: number, period: number): void;
  /** `out[r, c] = inp[r, c] * s[r]` for `(R, C)` (per-sample masks, per-row scales). */
  scaleRows(out: Tensor, inp: Tensor, s: Tensor, R: number, C: number): void;
  /** `out[r] = sum_c w[r, c] * (a[r, c] - b[r, c])^2`, `w` optional (1), shapes `(R, C)` → `(R)`. */
  rowSumSqDiff(out: Tensor, a: Tensor, b: Tensor, w: Tensor | null, R: number, C: number): void;
  /** `out[r, c] = table[index[r], c]`: rows gathered by integer indices given on the host. */
  gatherRows(out: Tensor, table: Tensor, index: Int32Array, C: number): void;

  // ---- matmul ------------------------------------------------------------------------------
  gemm(c: Tensor, a: Tensor, b: Tensor, M: number, N: number, K: number, opts?: GemmOptions): void;

  // ---- linear: out (N, OC) = inp (N, C) @ weight (OC, C)^T + bias (OC) ---------------------
  /** With `extras`, the layer's neighbours in the product's single write (see its fields). */
  linearForward(
    out: Tensor,
    inp: Tensor,
    weight: Tensor,
    bias: Tensor | null,
    N: number,
    C: number,
    OC: number,
    extras?: LinearForwardExtras,
  ): void;
  /**
   * dinp (N, C) = dout W (overwritten; skipped when null), dweight += dout^T inp, dbias +=
   * column sums of dout. With `extras` (which need dinp), dinp's neighbours in its single write.
   */
  linearBackward(
    dinp: Tensor | null,
    dweight: Tensor | null,
    dbias: Tensor | null,
    dout: Tensor,
    inp: Tensor,
    weight: Tensor,
    N: number,
    C: number,
    OC: number,
    extras?: LinearBackwardExtras,
  ): void;

  // ---- layernorm over the last axis: inp (N, C); mean, rstd (N) saved for backward --------
  layernormForward(
    out: Tensor,
    mean: Tensor,
    rstd: Tensor,
    inp: Tensor,
    weight: Tensor,
    bias: Tensor,
    N: number,
    C: number,
    eps: number,
  ): void;
  layernormBackward(
    dinp: Tensor,
    dweight: Tensor | null,
    dbias: Tensor | null,
    dout: Tensor,
    inp: Tensor,
    weight: Tensor,
    mean: Tensor,
    rstd: Tensor,
    N: number,
    C: number,
  ): void;

  // ---- multi-head self-attention -----------------------------------------------------------
  /**
   * qkv (B, T, 3C) holds [Q | K | V] per frame (PyTorch `in_proj` row order), heads of size
   * C/NH contiguous inside each. att (B, NH, T, T) receives the softmax probabilities (saved for
   * backward); out (B, T, C) the heads concatenated. Scale 1/sqrt(C/NH). keyMask (B, T): keys
   * with 0 get probability 0 (PyTorch `src_key_padding_mask` True). A query row whose keys are all
   * masked gets zeros, not NaN.
   */
  attentionForward(
    out: Tensor,
    att: Tensor,
    qkv: Tensor,
    keyMask: Tensor | null,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void;
  /** datt (B, NH, T, T) is scratch. dqkv overwritten. */
  attentionBackward(
    dqkv: Tensor,
    datt: Tensor,
    dout: Tensor,
    qkv: Tensor,
    att: Tensor,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void;

  // ---- activations (element-wise over n) ---------------------------------------------------
  /** Exact GELU: `x * 0.5 * (1 + erf(x / sqrt(2)))` (PyTorch default, not the tanh form). */
  geluForward(out: Tensor, inp: Tensor, n: number): void;
  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, n: number): void;
  /** SiLU: `x * sigmoid(x)`. */
  siluForward(out: Tensor, inp: Tensor, n: number): void;
  siluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, n: number): void;

  // ---- tables, optimiser, randomness -------------------------------------------------------
  /**
   * Sinusoidal positional table (maxLen, C), as MDM's PositionalEncoding:
   * `pe[p, 2i] = sin(p * exp(-2i ln(10000) / C))`, `pe[p, 2i+1] = cos(...)`.
   */
  positionalTable(out: Tensor, maxLen: number, C: number): void;
  /**
   * One AdamW step in place (decoupled weight decay, bias-corrected moments). `gradScale` (1),
   * when given, multiplies the gradient first (the clip factor of `gradClipScale`): the same
   * update as scaling the gradient in place before the step, without a pass over it.
   */
  adamw(
    param: Tensor,
    grad: Tensor,
    m: Tensor,
    v: Tensor,
    n: number,
    opts: AdamWOptions,
    gradScale?: Tensor | null,
  ): void;
  /**
   * scale (1) = the factor of `torch.nn.utils.clip_grad_norm_` from sums (count), each one
   * gradient's sum of squares: with norm = sqrt(sum of sums), `maxNorm / (norm + 1e-6)` where
   * norm > maxNorm, else 1 (always 1 where maxNorm <= 0 or is infinite: no clipping). Computed
   * where the gradients are, so that the optimiser's update needs no read-back.
   */
  gradClipScale(scale: Tensor, sums: Tensor, count: number, maxNorm: number): void;
  /** Fills `out[0..n)` with standard normals from the counter-based generator at `addr`. */
  randn(out: Tensor, n: number, addr: RandomAddress): void;

  /** Releases every resource (GPU device, WASM memory). */
  destroy(): void;
}
