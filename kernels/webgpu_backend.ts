/**
 * The WebGPU backend: `Backend` (kernels/backend.ts) on WGSL kernels. Every call validates its
 * operands on the host (out-of-bounds storage access is clamped silently by WebGPU, so a wrong
 * size would otherwise give wrong numbers, not an error), builds a kernel record from the family's
 * wgsl.ts and encodes it; work is submitted in batches and `read()`/`sync()` wait for it.
 * Composite ops (linear, attention) are sequences of GEMM and row-kernel dispatches.
 */
import {
  type AdamWOptions,
  type Backend,
  checkExtras,
  type GemmOptions,
  type LinearBackwardExtras,
  type LinearForwardExtras,
  type MemoryStats,
  type RandomAddress,
  type Tensor,
} from "./backend.ts";
import { resolveGemm } from "./gemm/cpu.ts";
import {
  chooseSplit,
  chooseTile,
  type GemmArgs,
  gemmKernel,
  type GemmKernelOptions,
  splitReduceKernel,
} from "./gemm/wgsl.ts";
import {
  biasAddKernel,
  columnAccumulateKernel,
  columnChunks,
  columnPartialKernel,
} from "./linear/wgsl.ts";
import {
  layernormBackwardInputKernel,
  layernormForwardKernel,
  layernormParamsPartialKernel,
} from "./layernorm/wgsl.ts";
import { maskedSoftmaxKernel, softmaxBackwardKernel } from "./attention/wgsl.ts";
import {
  geluBackwardKernel,
  geluForwardKernel,
  siluBackwardKernel,
  siluForwardKernel,
} from "./activation/wgsl.ts";
import {
  addPeriodicKernel,
  axpbyKernel,
  copy2dKernel,
  fillKernel,
  gatherRowsKernel,
  ROW_CHUNK,
  rowChunkSumKernel,
  rowSumSqDiffKernel,
  scaleRowsKernel,
} from "./elementwise/wgsl.ts";
import { adamwKernel, gradClipScaleKernel } from "./adamw/wgsl.ts";
import { randnKernel } from "./rng/wgsl.ts";
import { positionalTable as positionalTableHost } from "./positional/cpu.ts";
import { type AdapterDescription, adapterDescription, getGpuDevice } from "./webgpu/device.ts";
import type { Kernel } from "./webgpu/kernel.ts";
import { GpuRuntime } from "./webgpu/runtime.ts";
import { GpuTensor } from "./webgpu/tensor.ts";

/** Largest batch of one GEMM dispatch (the z axis of the grid). */
const MAX_BATCH = 65535;

function isCount(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
}

/**
 * Byte accounting of every GPU buffer a runtime creates. The runtime is handed a view of the
 * device whose `createBuffer` records each buffer's size and wraps its `destroy()`, so tensors,
 * the scratch pool, the uniform ring, uploads and read-back staging are all counted without the
 * runtime knowing. Every other member is the device's own (functions bound to it).
 */
class BufferAccounting {
  liveBytes = 0;
  peakBytes = 0;

  /** The device as the runtime should see it. */
  wrap(device: GPUDevice): GPUDevice {
    const bound = new Map<PropertyKey, unknown>();
    const create = (desc: GPUBufferDescriptor) => this.#track(device.createBuffer(desc));
    return new Proxy(device, {
      get: (target, prop) => {
        if (prop === "createBuffer") return create;
        const v = Reflect.get(target, prop, target);
        if (typeof v !== "function") return v;
        // Bound once: dispatch paths look these up for every kernel.
        let f = bound.get(prop);
        if (f === undefined) bound.set(prop, f = v.bind(target));
        return f;
      },
    });
  }

  #track(buf: GPUBuffer): GPUBuffer {
    const size = buf.size, destroy = buf.destroy.bind(buf);
    let live = true;
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    Object.defineProperty(buf, "destroy", {
      configurable: true,
      value: () => {
        // destroy() may be called twice (a freed tensor's buffer at backend teardown).
        if (live) this.liveBytes -= size;
        live = false;
        destroy();
      },
    });
    return buf;
  }
}

/** Implements `Backend` with WGSL compute shaders on the process-wide `GPUDevice`. */
export class WebGpuBackend implements Backend {
  readonly kind = "webgpu" as const;
  readonly runtime: GpuRuntime;
  readonly adapter: AdapterDescription | null;
  /** Bound where a kernel's optional operand is absent (never read). */
  #placeholder: GPUBuffer;
  /** Split-K scratch (`#splitScratch`), created on first use. */
  #split: GPUBuffer | null = null;
  #destroyed = false;
  /** Tensors not freed yet: `destroy()` releases their buffers. */
  #live = new Set<GpuTensor>();
  #memory = new BufferAccounting();

  constructor(device: GPUDevice, adapter: AdapterDescription | null) {
    this.runtime = new GpuRuntime(this.#memory.wrap(device));
    this.adapter = adapter;
    this.#placeholder = this.runtime.createStorage(4, "placeholder");
  }

  describe(): string {
    const a = this.adapter;
    if (a === null) return "webgpu";
    const name = a.description || [a.vendor, a.architecture, a.device].filter((s) => s).join(" ");
    return `webgpu (${name}${a.isSoftwareAdapter ? ", software adapter" : ""})`;
  }

  // ---- memory ------------------------------------------------------------------------------

  tensor(shape: readonly number[], data?: ArrayLike<number>): Tensor {
    this.#alive("tensor");
    for (const d of shape) {
      if (!isCount(d)) {
        throw new RangeError(`Cannot create tensor: shape [${shape}] has a non-integer dimension`);
      }
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (data !== undefined && data.length !== size) {
      throw new RangeError(
        `Cannot create tensor of shape [${shape}]: data has ${data.length} elements, not ${size}`,
      );
    }
    const t = new GpuTensor(shape, size, this.runtime.createStorage(size * 4, `[${shape}]`));
    this.#live.add(t);
    if (data !== undefined && size > 0) {
      const f = data instanceof Float32Array ? data : Float32Array.from(data);
      this.runtime.write(t.buffer, 0, f);
    }
    return t;
  }

  write(t: Tensor, data: Float32Array, offset = 0): void {
    const g = this.#need(t, offset + data.length, "write", "t");
    if (!isCount(offset)) throw new RangeError(`Cannot write: offset ${offset} is not a count`);
    this.runtime.write(g.buffer, offset * 4, data);
  }

  async read(t: Tensor): Promise<Float32Array> {
    return (await this.readMany([t]))[0];
  }

  async readMany(ts: readonly Tensor[]): Promise<Float32Array[]> {
    const gs = ts.map((t) => this.#need(t, 0, "read", "t"));
    const parts = await this.runtime.readMany(
      gs.map((g) => ({ buffer: g.buffer, bytes: g.size * 4 })),
    );
    return parts.map((b) => new Float32Array(b));
  }

  fill(t: Tensor, value: number): void {
    const g = this.#need(t, 0, "fill", "t");
    this.runtime.dispatch(fillKernel(g.buffer, value, g.size));
  }

  copy(dst: Tensor, src: Tensor, n?: number, dstOffset = 0, srcOffset = 0): void {
    const count = n ?? src.size - srcOffset;
    const s = this.#need(src, srcOffset + count, "copy", "src");
    const d = this.#need(dst, dstOffset + count, "copy", "dst");
    if (s.buffer !== d.buffer) {
      this.runtime.copy(s.buffer, srcOffset * 4, d.buffer, dstOffset * 4, count * 4);
    } else {
      this.runtime.dispatch(copy2dKernel(d.buffer, s.buffer, 1, count, 0, dstOffset, 0, srcOffset));
    }
  }

  copy2d(
    dst: Tensor,
    src: Tensor,
    rows: number,
    cols: number,
    dstStride: number,
    dstOffset: number,
    srcStride: number,
    srcOffset: number,
  ): void {
    const empty = rows === 0 || cols === 0;
    const d = this.#need(
      dst,
      empty ? 0 : dstOffset + (rows - 1) * dstStride + cols,
      "copy2d",
      "dst",
    );
    const s = this.#need(
      src,
      empty ? 0 : srcOffset + (rows - 1) * srcStride + cols,
      "copy2d",
      "src",
    );
    this.runtime.dispatch(
      copy2dKernel(d.buffer, s.buffer, rows, cols, dstStride, dstOffset, srcStride, srcOffset),
    );
  }

  free(t: Tensor): void {
    const g = this.#need(t, 0, "free", "t");
    g.freed = true;
    this.#live.delete(g);
    this.runtime.release(g.buffer);
  }

  memory(): MemoryStats {
    return { liveBytes: this.#memory.liveBytes, peakBytes: this.#memory.peakBytes };
  }

  resetPeak(): void {
    this.#memory.peakBytes = this.#memory.liveBytes;
  }

  sync(): Promise<void> {
    return this.runtime.sync();
  }

  submit(): void {
    this.runtime.flush();
  }

  // ---- element-wise ------------------------------------------------------------------------

  axpby(out: Tensor, a: Tensor, alpha: number, b: Tensor, beta: number, n: number): void {
    const o = this.#need(out, n, "axpby", "out");
    const x = this.#need(a, n, "axpby", "a");
    const y = this.#need(b, n, "axpby", "b");
    this.runtime.dispatch(axpbyKernel(o.buffer, x.buffer, alpha, y.buffer, beta, n));
  }

  addPeriodic(out: Tensor, inp: Tensor, row: Tensor, n: number, period: number): void {
    if (period <= 0 && n > 0) throw new RangeError(`Cannot addPeriodic: period ${period} <= 0`);
    const o = this.#need(out, n, "addPeriodic", "out");
    const i = this.#need(inp, n, "addPeriodic", "inp");
    const r = this.#need(row, Math.min(period, n), "addPeriodic", "row");
    this.runtime.dispatch(addPeriodicKernel(o.buffer, i.buffer, r.buffer, n, period));
  }

  scaleRows(out: Tensor, inp: Tensor, s: Tensor, R: number, C: number): void {
    const o = this.#need(out, R * C, "scaleRows", "out");
    const i = this.#need(inp, R * C, "scaleRows", "inp");
    const k = this.#need(s, R, "scaleRows", "s");
    this.runtime.dispatch(scaleRowsKernel(o.buffer, i.buffer, k.buffer, R, C));
  }

  rowSumSqDiff(out: Tensor, a: Tensor, b: Tensor, w: Tensor | null, R: number, C: number): void {
    const o = this.#need(out, R, "rowSumSqDiff", "out");
    const x = this.#need(a, R * C, "rowSumSqDiff", "a");
    const y = this.#need(b, R * C, "rowSumSqDiff", "b");
    const wt = w === null ? null : this.#need(w, R * C, "rowSumSqDiff", "w");
    // long rows: chunk sums (R, chunks) first, then each row's chunks in order
    const chunks = Math.max(1, Math.ceil(C / ROW_CHUNK));
    const part = chunks === 1 ? o.buffer : this.runtime.temp(R * chunks * 4);
    this.runtime.dispatch(
      rowSumSqDiffKernel(
        part,
        x.buffer,
        y.buffer,
        wt?.buffer ?? this.#placeholder,
        wt !== null,
        R,
        C,
      ),
    );
    if (chunks > 1) this.runtime.dispatch(rowChunkSumKernel(o.buffer, part, R, chunks));
  }

  gatherRows(out: Tensor, table: Tensor, index: Int32Array, C: number): void {
    const R = index.length;
    const o = this.#need(out, R * C, "gatherRows", "out");
    const t = this.#need(table, 0, "gatherRows", "table");
    const rows = C > 0 ? Math.floor(t.size / C) : 0;
    for (let r = 0; r < R; r++) {
      if (index[r] < 0 || index[r] >= rows) {
        throw new RangeError(
          `Cannot gatherRows: index[${r}] = ${index[r]} is outside the table's ${rows} rows`,
        );
      }
    }
    if (R === 0 || C === 0) return;
    const idx = this.runtime.upload(index);
    this.runtime.dispatch(gatherRowsKernel(o.buffer, t.buffer, idx, R, C));
  }

  // ---- matmul ------------------------------------------------------------------------------

  gemm(c: Tensor, a: Tensor, b: Tensor, M: number, N: number, K: number, opts?: GemmOptions): void {
    this.#checkedGemm(c, a, b, M, N, K, opts);
  }

  /** `gemm` with the epilogue's buffers (a bias, a residual, a GELU) in the same pass over C. */
  #checkedGemm(
    c: Tensor,
    a: Tensor,
    b: Tensor,
    M: number,
    N: number,
    K: number,
    opts: GemmOptions | undefined,
    epilogue: Epilogue = {},
  ): void {
    const g = resolveGemm(M, N, K, opts);
    if (![M, N, K, g.batch, g.lda, g.ldb, g.ldc].every(isCount)) {
      throw new RangeError(`Cannot gemm: dimensions must be counts (M ${M}, N ${N}, K ${K})`);
    }
    const last = (offset: number, stride: number, rows: number, cols: number, ld: number) =>
      rows === 0 || cols === 0 || g.batch === 0
        ? 0
        : offset + (g.batch - 1) * stride + (rows - 1) * ld + cols;
    const ta = this.#need(
      a,
      last(g.offsetA, g.strideA, g.transA ? K : M, g.transA ? M : K, g.lda),
      "gemm",
      "a",
    );
    const tb = this.#need(
      b,
      last(g.offsetB, g.strideB, g.transB ? N : K, g.transB ? K : N, g.ldb),
      "gemm",
      "b",
    );
    const tc = this.#need(c, last(g.offsetC, g.strideC, M, N, g.ldc), "gemm", "c");
    this.#gemm(tc.buffer, ta.buffer, tb.buffer, { M, N, K, ...g }, epilogue);
  }

  // ---- linear ------------------------------------------------------------------------------

  linearForward(
    out: Tensor,
    inp: Tensor,
    weight: Tensor,
    bias: Tensor | null,
    N: number,
    C: number,
    OC: number,
    extras: LinearForwardExtras = {},
  ): void {
    // out (N, OC) = inp (N, C) @ weight (OC, C)^T + bias + residual; gelu = GELU(out): one pass
    const m = "linearForward", residual = extras.residual ?? null, gelu = extras.gelu ?? null;
    checkExtras(m, out, { residual, gelu });
    this.#checkedGemm(out, inp, weight, N, OC, C, { transB: true }, {
      bias: bias === null ? null : this.#need(bias, OC, m, "bias").buffer,
      residual: residual === null ? null : this.#need(residual, N * OC, m, "residual").buffer,
      gelu: gelu === null ? null : this.#need(gelu, N * OC, m, "gelu").buffer,
    });
  }

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
    extras: LinearBackwardExtras = {},
  ): void {
    const m = "linearBackward";
    const residual = extras.residual ?? null, geluInput = extras.geluInput ?? null;
    checkExtras(m, dinp, { residual, geluInput });
    // dinp (N, C) = dout (N, OC) @ weight (OC, C) [* GELU'(geluInput)] [+ residual]: one pass
    if (dinp !== null) {
      this.#checkedGemm(dinp, dout, weight, N, C, OC, undefined, {
        residual: residual === null ? null : this.#need(residual, N * C, m, "residual").buffer,
        geluInput: geluInput === null ? null : this.#need(geluInput, N * C, m, "geluInput").buffer,
      });
    }
    // dweight (OC, C) += dout^T (OC, N) @ inp (N, C); dbias (OC) += column sums of dout, added
    // up by that product from the panels of dout it stages, where it has workgroups (C > 0)
    const db = dbias === null ? null : this.#need(dbias, OC, m, "dbias");
    const sumsInProduct = dweight !== null && C > 0;
    if (dweight !== null) {
      const rowSums = sumsInProduct ? db?.buffer ?? null : null;
      this.#checkedGemm(dweight, dout, inp, OC, C, N, { transA: true, beta: 1 }, { rowSums });
    }
    if (db === null || sumsInProduct || OC === 0 || N === 0) return;
    // else two deterministic passes: partial sums per chunk of rows, then the chunks in order
    const d = this.#need(dout, N * OC, m, "dout");
    const chunks = columnChunks(N);
    const partial = this.runtime.temp(chunks * OC * 4); // (chunks, OC)
    this.runtime.dispatch(columnPartialKernel(partial, d.buffer, N, OC));
    this.runtime.dispatch(columnAccumulateKernel(db.buffer, partial, chunks, OC));
  }

  // ---- layernorm ---------------------------------------------------------------------------

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
  ): void {
    const m = "layernormForward";
    this.runtime.dispatch(
      layernormForwardKernel(
        this.#need(out, N * C, m, "out").buffer,
        this.#need(mean, N, m, "mean").buffer,
        this.#need(rstd, N, m, "rstd").buffer,
        this.#need(inp, N * C, m, "inp").buffer,
        this.#need(weight, C, m, "weight").buffer,
        this.#need(bias, C, m, "bias").buffer,
        N,
        C,
        eps,
      ),
    );
  }

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
  ): void {
    const m = "layernormBackward";
    const d = this.#need(dout, N * C, m, "dout").buffer;
    const x = this.#need(inp, N * C, m, "inp").buffer;
    const mu = this.#need(mean, N, m, "mean").buffer;
    const rs = this.#need(rstd, N, m, "rstd").buffer;
    this.runtime.dispatch(
      layernormBackwardInputKernel(
        this.#need(dinp, N * C, m, "dinp").buffer,
        d,
        x,
        this.#need(weight, C, m, "weight").buffer,
        mu,
        rs,
        N,
        C,
      ),
    );
    if ((dweight === null && dbias === null) || N === 0 || C === 0) return;
    const dw = dweight === null ? null : this.#need(dweight, C, m, "dweight").buffer;
    const db = dbias === null ? null : this.#need(dbias, C, m, "dbias").buffer;
    const chunks = columnChunks(N);
    const pw = this.runtime.temp(chunks * C * 4); // (chunks, C)
    const pb = this.runtime.temp(chunks * C * 4); // (chunks, C)
    this.runtime.dispatch(layernormParamsPartialKernel(pw, pb, d, x, mu, rs, N, C));
    if (dw !== null) this.runtime.dispatch(columnAccumulateKernel(dw, pw, chunks, C));
    if (db !== null) this.runtime.dispatch(columnAccumulateKernel(db, pb, chunks, C));
  }

  // ---- attention ---------------------------------------------------------------------------

  attentionForward(
    out: Tensor,
    att: Tensor,
    qkv: Tensor,
    keyMask: Tensor | null,
    B: number,
    T: number,
    C: number,
    NH: number,
  ): void {
    const m = "attentionForward";
    const hs = this.#headSize(m, C, NH);
    const o = this.#need(out, B * T * C, m, "out").buffer; // (B, T, C)
    const a = this.#need(att, B * NH * T * T, m, "att").buffer; // (B, NH, T, T)
    const x = this.#need(qkv, B * T * 3 * C, m, "qkv").buffer; // (B, T, 3C)
    const mask = keyMask === null ? null : this.#need(keyMask, B * T, m, "keyMask").buffer;
    if (B * T * NH === 0) return;
    const heads = this.#heads(B, T, C, NH);
    // att[b, h] (T, T) = Q_bh (T, hs) @ K_bh^T / sqrt(hs)
    this.#gemm(a, x, x, {
      ...heads.base,
      M: T,
      N: T,
      K: hs,
      transB: true,
      alpha: 1 / Math.sqrt(hs),
      ...heads.qkv("A", 0),
      ...heads.qkv("B", C),
      ...heads.att("C"),
    });
    this.runtime.dispatch(
      maskedSoftmaxKernel(a, mask ?? this.#placeholder, mask !== null, B, NH, T),
    );
    // out[b, :, h] (T, hs) = att[b, h] (T, T) @ V_bh (T, hs)
    this.#gemm(o, a, x, {
      ...heads.base,
      M: T,
      N: hs,
      K: T,
      ...heads.att("A"),
      ...heads.qkv("B", 2 * C),
      ...heads.out("C"),
    });
  }

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
  ): void {
    const m = "attentionBackward";
    const hs = this.#headSize(m, C, NH);
    const dx = this.#need(dqkv, B * T * 3 * C, m, "dqkv").buffer; // (B, T, 3C)
    const da = this.#need(datt, B * NH * T * T, m, "datt").buffer; // (B, NH, T, T)
    const d = this.#need(dout, B * T * C, m, "dout").buffer; // (B, T, C)
    const x = this.#need(qkv, B * T * 3 * C, m, "qkv").buffer; // (B, T, 3C)
    const a = this.#need(att, B * NH * T * T, m, "att").buffer; // (B, NH, T, T)
    if (B * T * NH === 0) return;
    const heads = this.#heads(B, T, C, NH);
    const scale = 1 / Math.sqrt(hs);
    // datt[b, h] (T, T) = dout_bh (T, hs) @ V_bh^T
    this.#gemm(da, d, x, {
      ...heads.base,
      M: T,
      N: T,
      K: hs,
      transB: true,
      ...heads.out("A"),
      ...heads.qkv("B", 2 * C),
      ...heads.att("C"),
    });
    // dV_bh (T, hs) = att[b, h]^T (T, T) @ dout_bh (T, hs)
    this.#gemm(dx, a, d, {
      ...heads.base,
      M: T,
      N: hs,
      K: T,
      transA: true,
      ...heads.att("A"),
      ...heads.out("B"),
      ...heads.qkv("C", 2 * C),
    });
    // datt ← dpreatt, in place: softmax backward (masked keys have att = 0, so they get 0)
    this.runtime.dispatch(softmaxBackwardKernel(da, a, B * NH * T, T));
    // dQ_bh (T, hs) = dpreatt (T, T) @ K_bh (T, hs) / sqrt(hs)
    this.#gemm(dx, da, x, {
      ...heads.base,
      M: T,
      N: hs,
      K: T,
      alpha: scale,
      ...heads.att("A"),
      ...heads.qkv("B", C),
      ...heads.qkv("C", 0),
    });
    // dK_bh (T, hs) = dpreatt^T (T, T) @ Q_bh (T, hs) / sqrt(hs)
    this.#gemm(dx, da, x, {
      ...heads.base,
      M: T,
      N: hs,
      K: T,
      transA: true,
      alpha: scale,
      ...heads.att("A"),
      ...heads.qkv("B", 0),
      ...heads.qkv("C", C),
    });
  }

  // ---- activations -------------------------------------------------------------------------

  geluForward(out: Tensor, inp: Tensor, n: number): void {
    const o = this.#need(out, n, "geluForward", "out");
    const i = this.#need(inp, n, "geluForward", "inp");
    this.runtime.dispatch(geluForwardKernel(o.buffer, i.buffer, n));
  }

  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, n: number): void {
    const di = this.#need(dinp, n, "geluBackward", "dinp");
    const i = this.#need(inp, n, "geluBackward", "inp");
    const d = this.#need(dout, n, "geluBackward", "dout");
    this.runtime.dispatch(geluBackwardKernel(di.buffer, i.buffer, d.buffer, n));
  }

  siluForward(out: Tensor, inp: Tensor, n: number): void {
    const o = this.#need(out, n, "siluForward", "out");
    const i = this.#need(inp, n, "siluForward", "inp");
    this.runtime.dispatch(siluForwardKernel(o.buffer, i.buffer, n));
  }

  siluBackward(dinp: Tensor, inp: Tensor, dout: Tensor, n: number): void {
    const di = this.#need(dinp, n, "siluBackward", "dinp");
    const i = this.#need(inp, n, "siluBackward", "inp");
    const d = this.#need(dout, n, "siluBackward", "dout");
    this.runtime.dispatch(siluBackwardKernel(di.buffer, i.buffer, d.buffer, n));
  }

  // ---- tables, optimiser, randomness -------------------------------------------------------

  /**
   * Built on the host by the CPU twin (PyTorch's float32 steps) and uploaded, so both backends
   * hold the same bits: WGSL's sin/cos promise accuracy only on [-pi, pi] and its exp is a few
   * ulp off, which at p ~ 5000 would cost ~1e-3; the table is made once per model.
   */
  positionalTable(out: Tensor, maxLen: number, C: number): void {
    const o = this.#need(out, maxLen * C, "positionalTable", "out");
    if (!isCount(maxLen) || !isCount(C) || C % 2 !== 0) {
      throw new RangeError(`Cannot run positionalTable: C must be even, got ${C}`);
    }
    const pe = new Float32Array(maxLen * C); // (maxLen, C)
    positionalTableHost(pe, maxLen, C);
    this.runtime.write(o.buffer, 0, pe);
  }

  adamw(
    param: Tensor,
    grad: Tensor,
    m: Tensor,
    v: Tensor,
    n: number,
    opts: AdamWOptions,
    gradScale: Tensor | null = null,
  ): void {
    if (!Number.isInteger(opts.step) || opts.step < 1) {
      throw new RangeError(`Cannot run adamw: step ${opts.step} is not a 1-based integer`);
    }
    const p = this.#need(param, n, "adamw", "param");
    const g = this.#need(grad, n, "adamw", "grad");
    const mm = this.#need(m, n, "adamw", "m");
    const vv = this.#need(v, n, "adamw", "v");
    const s = gradScale === null ? null : this.#need(gradScale, 1, "adamw", "gradScale").buffer;
    this.runtime.dispatch(
      adamwKernel(p.buffer, g.buffer, mm.buffer, vv.buffer, n, opts, s, this.#placeholder),
    );
  }

  gradClipScale(scale: Tensor, sums: Tensor, count: number, maxNorm: number): void {
    const m = "gradClipScale";
    if (!isCount(count)) throw new RangeError(`Cannot run ${m}: count ${count} is not a u32`);
    if (Number.isNaN(maxNorm)) throw new RangeError(`Cannot run ${m}: maxNorm is NaN`);
    this.runtime.dispatch(
      gradClipScaleKernel(
        this.#need(scale, 1, m, "scale").buffer,
        this.#need(sums, count, m, "sums").buffer,
        count,
        maxNorm,
      ),
    );
  }

  randn(out: Tensor, n: number, addr: RandomAddress): void {
    const o = this.#need(out, n, "randn", "out");
    for (const [k, v] of Object.entries(addr)) {
      if (!isCount(v)) throw new RangeError(`Cannot run randn: ${k} ${v} is not a u32`);
    }
    this.runtime.dispatch(randnKernel(o.buffer, n, addr.seed, addr.stream, addr.offset));
  }

  /**
   * Frees every tensor of this backend and its pipelines and scratch buffers; queued work is
   * submitted first. The shared device stays for its other users (onnxruntime-web).
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.runtime.flush();
    for (const t of this.#live) {
      t.freed = true;
      t.buffer.destroy();
    }
    this.#live.clear();
    this.#destroyed = true;
    this.runtime.destroy();
    this.#placeholder.destroy();
    this.#split?.destroy();
  }

  // ---- beyond the interface: debug kernels and interop ------------------------------------

  /** The GPU buffer behind `t` (for onnxruntime-web interop and debug kernels). */
  bufferOf(t: Tensor): GPUBuffer {
    return this.#need(t, 0, "bufferOf", "t").buffer;
  }

  /** Encodes an arbitrary kernel record (debug kernels, tests). */
  dispatch(k: Kernel): void {
    this.#alive("dispatch");
    this.runtime.dispatch(k);
  }

  // ---- helpers -----------------------------------------------------------------------------

  #alive(method: string): void {
    if (this.#destroyed) throw new Error(`Cannot call ${method}(): the backend was destroyed`);
  }

  /** `t` as this backend's tensor, checked to hold at least `elements` floats. */
  #need(t: Tensor, elements: number, method: string, name: string): GpuTensor {
    this.#alive(method);
    if (!(t instanceof GpuTensor)) {
      throw new TypeError(`Cannot call ${method}(): ${name} belongs to the ${t.owner} backend`);
    }
    if (t.freed) throw new Error(`Cannot call ${method}(): ${name} was freed`);
    if (!Number.isFinite(elements) || elements > t.size) {
      throw new RangeError(
        `Cannot call ${method}(): ${name} [${t.shape}] has ${t.size} elements, needs ${elements}`,
      );
    }
    return t;
  }

  #headSize(method: string, C: number, NH: number): number {
    if (!Number.isInteger(NH) || NH <= 0 || C % NH !== 0) {
      throw new RangeError(`Cannot call ${method}(): C ${C} is not divisible by NH ${NH}`);
    }
    return C / NH;
  }

  /**
   * Strided per-(batch, head) views for attention's GEMMs, batch index = b * NH + h:
   * Q/K/V_bh (T, hs) inside qkv (B, T, 3C) at column offset `col` + h*hs; att[b, h] (T, T);
   * out_bh (T, hs) inside out (B, T, C).
   */
  #heads(B: number, T: number, C: number, NH: number) {
    const hs = C / NH;
    const base: GemmArgs = {
      M: 0,
      N: 0,
      K: 0,
      transA: false,
      transB: false,
      alpha: 1,
      beta: 0,
      lda: 0,
      ldb: 0,
      ldc: 0,
      offsetA: 0,
      offsetB: 0,
      offsetC: 0,
      batch: B * NH,
      inner: NH,
      strideA: 0,
      strideB: 0,
      strideC: 0,
    };
    return {
      base,
      qkv: (side: Side, col: number) => view(side, col, 3 * C, hs, T * 3 * C),
      att: (side: Side) => view(side, 0, T, T * T, NH * T * T),
      out: (side: Side) => view(side, 0, C, hs, T * C),
    };
  }

  #gemm(c: GPUBuffer, a: GPUBuffer, b: GPUBuffer, g: GemmArgs, epilogue: Epilogue = {}): void {
    if (g.M === 0 || g.N === 0 || g.batch === 0) return;
    if (g.batch > MAX_BATCH) {
      throw new RangeError(`Cannot gemm: batch ${g.batch} exceeds ${MAX_BATCH}`);
    }
    const tile = chooseTile(g), split = chooseSplit(g, tile);
    if (split.splits === 1) {
      this.runtime.dispatch(gemmKernel(c, a, b, g, { tile, ...epilogue }));
      return;
    }
    // A split product's epilogue runs after the slices are summed, in the same order.
    const part = this.#splitScratch(split.splits * g.M * g.N * 4);
    const n = g.M * g.N, { bias, residual, gelu, geluInput, rowSums } = epilogue;
    // each slice's row sums (splits, M), added to `rowSums` by the reduction
    const rows = rowSums ? { part: this.runtime.temp(split.splits * g.M * 4), out: rowSums } : null;
    this.runtime.dispatch(gemmKernel(part, a, b, g, { tile, split, rowSums: rows?.part }));
    this.runtime.dispatch(splitReduceKernel(c, part, g, split.splits, rows));
    if (bias) this.runtime.dispatch(biasAddKernel(c, bias, g.M, g.N));
    if (geluInput) this.runtime.dispatch(geluBackwardKernel(c, geluInput, c, n));
    if (residual) this.runtime.dispatch(axpbyKernel(c, c, 1, residual, 1, n));
    if (gelu) this.runtime.dispatch(geluForwardKernel(gelu, c, n));
  }

  /**
   * The scratch of split-K partial products, at least `bytes`: one buffer reused by every split
   * product (dispatches run in order), replaced by a larger one when needed.
   */
  #splitScratch(bytes: number): GPUBuffer {
    if (this.#split === null || this.#split.size < bytes) {
      if (this.#split !== null) this.runtime.release(this.#split);
      this.#split = this.runtime.createStorage(bytes, "split-k scratch");
    }
    return this.#split;
  }
}

type Side = "A" | "B" | "C";

/** A product's epilogue buffers (`GemmKernelOptions`); a contiguous C for all but the bias. */
type Epilogue = Pick<GemmKernelOptions, "bias" | "residual" | "gelu" | "geluInput" | "rowSums">;

/** One GEMM operand as a 2-level batched strided view: offset, leading dim, inner/outer strides. */
function view(
  side: Side,
  offset: number,
  ld: number,
  stride: number,
  outer: number,
): Partial<GemmArgs> {
  switch (side) {
    case "A":
      return { offsetA: offset, lda: ld, strideA: stride, outerStrideA: outer };
    case "B":
      return { offsetB: offset, ldb: ld, strideB: stride, outerStrideB: outer };
    case "C":
      return { offsetC: offset, ldc: ld, strideC: stride, outerStrideC: outer };
  }
}

/**
 * The WebGPU backend on the process-wide device (`getGpuDevice()`).
 *
 * @param options.powerPreference adapter choice on first device creation.
 * @param options.adapter use this adapter (first device creation only).
 */
export async function createWebGpuBackend(
  options: { powerPreference?: GPUPowerPreference; adapter?: GPUAdapter } = {},
): Promise<WebGpuBackend> {
  const device = await getGpuDevice(options);
  return new WebGpuBackend(device, await adapterDescription(options.adapter));
}
