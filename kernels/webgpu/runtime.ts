/**
 * Dispatch machinery of the WebGPU backend: pipeline cache (keyed by kernel body and binding
 * signature), bind-group cache (the uniform slot is a dynamic offset), one open
 * command encoder that collects many dispatches and copies and is submitted in batches (on
 * `read()`, `sync()`, or when a batch is full: `FIRST_BATCH` dispatches after the GPU was idle,
 * doubling up to `BATCH`), a uniform ring, pooled scratch buffers, and error reporting (WGSL
 * compile messages as `line:col`, validation errors) at the next `read()`/`sync()`.
 */
import { type Kernel, kernelSource, UNIFORM_SLOT_BYTES } from "./kernel.ts";
import { KernelProfiler, type KernelTime } from "./profiler.ts";

/** Largest staging buffer of a read-back (larger reads are split). */
export const STAGING_BYTES = 64 * 1024 ** 2;

/** Most dispatches per submission: also the number of slots of the uniform ring. */
const BATCH = 512;
/**
 * Dispatches of the first submission after the GPU was idle (at the start, after a read-back or
 * a sync); each later one doubles, up to `BATCH`. Encoding a dispatch costs the host 10-25 us:
 * a full batch of 512 would leave an idle GPU waiting 5-13 ms for its first work, while small
 * batches throughout would add submissions where the GPU is busy anyway.
 */
export const FIRST_BATCH = 16;

/**
 * Bind groups kept for reuse (least recently used dropped first). Creating one costs tens of
 * microseconds of host time, more than encoding the dispatch itself; a training step dispatches
 * the same kernels on the same buffers over and over.
 */
const BIND_GROUP_CACHE = 8192;

/** Usage of every storage buffer (a function: the GPU globals may be absent at import). */
function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** Rounds `bytes` up to a multiple of `to`. */
function roundUp(bytes: number, to: number): number {
  return Math.ceil(bytes / to) * to;
}

/** `line:col: message` lines for every error of a compilation, each with its source line. */
function formatCompilation(name: string, code: string, info: GPUCompilationInfo): string | null {
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length === 0) return null;
  const source = code.split("\n");
  const lines = errors.map((m) => {
    const text = m.message.split("\n").map((s) => s.trim()).find((s) => s.length > 0) ?? "";
    const src = source[m.lineNum - 1] ?? "";
    return `  ${m.lineNum}:${m.linePos}: ${text}\n    ${m.lineNum} | ${src}`;
  });
  return `Cannot compile WGSL kernel "${name}":\n${lines.join("\n")}`;
}

/** Owns the encoder, pipelines and transient buffers of one backend on the shared device. */
export class GpuRuntime {
  readonly device: GPUDevice;
  /** Pipelines by kernel body, then by the signature of its bindings and uniforms. */
  #pipelines = new Map<string, Map<string, GPUComputePipeline>>();
  #layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #slots = 0;
  /** Dispatches that fill the current batch (`FIRST_BATCH` doubling to `BATCH`). */
  #batchLimit = FIRST_BATCH;
  #submissions = 0;
  #fences = 0;
  /** Submissions known to have finished on the GPU (a read-back or sync completed after them). */
  #finished = 0;
  #uniformHost = new ArrayBuffer(BATCH * UNIFORM_SLOT_BYTES);
  #uniformView = new DataView(this.#uniformHost);
  #uniformBuffer: GPUBuffer;
  /** Buffers to destroy once the current batch is submitted (uploads, staging). */
  #afterFlush: GPUBuffer[] = [];
  /** Scratch buffers used by the current batch; reusable once it is submitted. */
  #tempInUse: GPUBuffer[] = [];
  #tempFree = new Map<number, GPUBuffer[]>();
  #checks: Promise<string | null>[] = [];
  #errors: string[] = [];
  /** Bind groups by layout and buffer ids (the uniform slot is a dynamic offset). */
  #groups = new Map<string, GPUBindGroup>();
  #bufferIds = new WeakMap<GPUBuffer, number>();
  #nextBufferId = 0;
  /** Timestamps per dispatch while profiling (`startProfile`). */
  #profiler: KernelProfiler | null = null;
  #onError = (e: Event) => {
    this.#errors.push((e as GPUUncapturedErrorEvent).error.message);
  };

  constructor(device: GPUDevice) {
    this.device = device;
    this.#uniformBuffer = device.createBuffer({
      label: "uniform ring",
      size: BATCH * UNIFORM_SLOT_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.addEventListener("uncapturederror", this.#onError);
  }

  /**
   * A zero-filled storage buffer of `bytes`, at least 16: kernels may also read a buffer as
   * `array<vec4<f32>>`, whose binding needs one whole vec4.
   */
  createStorage(bytes: number, label?: string): GPUBuffer {
    const size = roundUp(Math.max(bytes, 16), 4);
    const limit = Math.min(
      this.device.limits.maxBufferSize,
      this.device.limits.maxStorageBufferBindingSize,
    );
    if (size > limit) {
      throw new RangeError(
        `Cannot allocate a GPU buffer of ${size} bytes: the device allows at most ${limit}`,
      );
    }
    return this.device.createBuffer({ label, size, usage: storageUsage() });
  }

  /** A scratch storage buffer for the current batch (contents undefined). */
  temp(bytes: number): GPUBuffer {
    const size = roundUp(Math.max(bytes, 4), 256);
    const free = this.#tempFree.get(size);
    const buf = free?.pop() ?? this.createStorage(size, "scratch");
    this.#tempInUse.push(buf);
    return buf;
  }

  /** A new storage buffer holding `data`, destroyed after the current batch. */
  upload(data: ArrayBufferView): GPUBuffer {
    const size = roundUp(Math.max(data.byteLength, 4), 4);
    const buf = this.device.createBuffer({ size, usage: storageUsage(), mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    buf.unmap();
    this.#afterFlush.push(buf);
    return buf;
  }

  /** Destroys `buf` once the work queued so far no longer needs it. */
  release(buf: GPUBuffer): void {
    if (this.#encoder === null) buf.destroy();
    else this.#afterFlush.push(buf);
  }

  /** Writes `data` into `dst` at `offsetBytes`, ordered after all work queued before. */
  write(dst: GPUBuffer, offsetBytes: number, data: ArrayBufferView): void {
    if (data.byteLength === 0) return;
    if (this.#encoder === null) {
      this.device.queue.writeBuffer(
        dst,
        offsetBytes,
        data.buffer as ArrayBuffer,
        data.byteOffset,
        data.byteLength,
      );
      return;
    }
    // Queued dispatches are not submitted yet: a queue write would overtake them.
    const staging = this.upload(data);
    this.copy(staging, 0, dst, offsetBytes, data.byteLength);
  }

  /** Copies `bytes` from `src` to `dst`, which must be different buffers. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (bytes === 0) return;
    this.#endPass();
    this.#encoderNow().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Encodes one kernel; inputs that alias an output are read from a scratch copy. */
  dispatch(k: Kernel): void {
    const [gx, gy, gz] = k.grid;
    if (gx === 0 || gy === 0 || gz === 0) return;
    if (gx > 65535 || gy > 65535 || gz > 65535) {
      throw new RangeError(`Cannot dispatch kernel "${k.name}": grid ${k.grid} exceeds 65535`);
    }
    // Full ring: submit first, so that this dispatch and its alias copies share one batch. The
    // kernel's own buffers may be uploads or scratch made for it in the batch being submitted:
    // they must outlive it.
    if (this.#slots >= this.#batchLimit) {
      this.flush(new Set([...k.inputs, ...k.outputs].map((b) => b.buffer)));
    }
    const outs = new Set(k.outputs.map((b) => b.buffer));
    const inputBuffers = k.inputs.map((b) => {
      if (!outs.has(b.buffer)) return b.buffer;
      // WebGPU forbids one buffer bound read-only and writable in the same dispatch.
      const copy = this.temp(b.buffer.size);
      this.copy(b.buffer, 0, copy, 0, b.buffer.size);
      return copy;
    });
    const pipeline = this.#pipelineOf(k);
    const slot = this.#slots++;
    const base = slot * UNIFORM_SLOT_BYTES;
    k.uniforms.forEach((u, i) => {
      const at = base + 4 * i;
      if (u.type === "f32") this.#uniformView.setFloat32(at, u.value, true);
      else if (u.type === "i32") this.#uniformView.setInt32(at, u.value, true);
      else {
        if (!Number.isInteger(u.value) || u.value < 0 || u.value > 0xffffffff) {
          throw new RangeError(
            `Cannot dispatch kernel "${k.name}": uniform ${u.name} = ${u.value} is not a u32`,
          );
        }
        this.#uniformView.setUint32(at, u.value, true);
      }
    });
    const group = this.#bindGroup(inputBuffers, k.outputs.map((b) => b.buffer));
    if (this.#profiler !== null) {
      // its own pass, whose beginning and end write timestamps
      this.#endPass();
      this.#pass = this.#encoderNow().beginComputePass(this.#profiler.pass(k.name));
    }
    const pass = this.#passNow();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group, [base]);
    pass.dispatchWorkgroups(gx, gy, gz);
    if (this.#profiler !== null) this.#endPass();
  }

  /**
   * Submits everything encoded so far. Uploads and scratch buffers of the submitted batch are
   * released, except those in `keep`, which move to the next batch (a dispatch still to encode
   * binds them).
   */
  flush(keep: ReadonlySet<GPUBuffer> = new Set()): void {
    if (this.#encoder === null) return;
    this.#endPass();
    if (this.#slots > 0) {
      this.device.queue.writeBuffer(
        this.#uniformBuffer,
        0,
        this.#uniformHost,
        0,
        this.#slots * UNIFORM_SLOT_BYTES,
      );
    }
    const readTimestamps = this.#profiler?.resolve(this.#encoder) ?? null;
    this.device.queue.submit([this.#encoder.finish()]);
    readTimestamps?.();
    this.#submissions++;
    this.#batchLimit = Math.min(BATCH, 2 * this.#batchLimit);
    this.#encoder = null;
    this.#slots = 0;
    const afterFlush = this.#afterFlush, tempInUse = this.#tempInUse;
    this.#afterFlush = afterFlush.filter((b) => keep.has(b));
    this.#tempInUse = tempInUse.filter((b) => keep.has(b));
    for (const b of afterFlush) if (!keep.has(b)) b.destroy();
    // Later batches are ordered after this submission, so its scratch buffers can be reused.
    for (const b of tempInUse) {
      if (keep.has(b)) continue;
      const list = this.#tempFree.get(b.size) ?? [];
      list.push(b);
      this.#tempFree.set(b.size, list);
    }
  }

  /**
   * Host copies of several buffers' first `bytes`, after all queued work, in one round trip
   * (Deno's read-back takes about 11 ms however little is read).
   */
  readMany(srcs: readonly { buffer: GPUBuffer; bytes: number }[]): Promise<ArrayBuffer[]> {
    // Staging buffers of at most STAGING_BYTES (a model with its optimiser state is read whole
    // for a checkpoint): every one is copied and mapped now, so their fences overlap.
    const cap = Math.min(STAGING_BYTES, this.device.limits.maxBufferSize);
    const groups: { buffer: GPUBuffer; bytes: number }[][] = [];
    let bytes = 0; // in the last group
    for (const s of srcs) {
      const size = roundUp(s.bytes, 8);
      if (groups.length === 0 || bytes + size > cap) {
        groups.push([]);
        bytes = 0;
      }
      groups[groups.length - 1].push(s);
      bytes += size;
    }
    if (groups.length <= 1) return this.#readStaged(srcs);
    return Promise.all(groups.map((g) => this.#readStaged(g))).then((parts) => parts.flat());
  }

  /** `readMany` through one staging buffer. */
  async #readStaged(
    srcs: readonly { buffer: GPUBuffer; bytes: number }[],
  ): Promise<ArrayBuffer[]> {
    // each range at a multiple of 8 bytes of the staging buffer (copies need multiples of 4)
    const at: number[] = [];
    let size = 0;
    for (const s of srcs) {
      at.push(size);
      size += roundUp(s.bytes, 8);
    }
    if (size === 0) {
      await this.sync();
      return srcs.map(() => new ArrayBuffer(0));
    }
    const staging = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    srcs.forEach((s, i) => this.copy(s.buffer, 0, staging, at[i], s.bytes));
    this.flush();
    try {
      await this.#fence(staging.mapAsync(GPUMapMode.READ));
      const mapped = staging.getMappedRange(0, size);
      const out = srcs.map((s, i) => mapped.slice(at[i], at[i] + s.bytes));
      staging.unmap();
      await this.#throwErrors();
      return out;
    } catch (e) {
      await this.#throwErrors();
      throw e;
    } finally {
      staging.destroy();
    }
  }

  /**
   * Waits for all queued work; throws the first compile or validation error since last time.
   * Without a fence when every submission is already known finished (a read-back completed
   * after the last one): each fence costs Deno at least 10 ms (see `#fence`).
   */
  async sync(): Promise<void> {
    this.flush();
    if (this.#finished < this.#submissions) {
      await this.#fence(this.device.queue.onSubmittedWorkDone());
    }
    await this.#throwErrors();
  }

  /**
   * Awaits a fence (a buffer map or `onSubmittedWorkDone`) that was just started. Deno 2.9's
   * WebGPU blocks inside the starting call until the GPU has run everything submitted, then
   * resolves the promise 10 ms later whatever the work (its device poll loop sleeps once): when
   * the call returns, the GPU is idle, so the next submission is made small at once
   * (`FIRST_BATCH`), and work the caller encodes before awaiting runs during those 10 ms. (Where
   * the call does not block, the small submission merely comes early.)
   */
  async #fence(started: Promise<unknown>): Promise<void> {
    const upTo = this.#submissions;
    this.#fences++;
    this.#batchLimit = FIRST_BATCH;
    await started;
    this.#finished = Math.max(this.#finished, upTo);
  }

  /** Fences awaited so far (read-backs, and syncs with work outstanding). */
  get fences(): number {
    return this.#fences;
  }

  /** Command buffers submitted so far. */
  get submissions(): number {
    return this.#submissions;
  }

  /**
   * Starts timing every dispatch on the GPU (see profiler.ts); false when the device has no
   * timestamp queries. Work queued before is submitted first, untimed.
   */
  startProfile(): boolean {
    if (!KernelProfiler.supported(this.device)) return false;
    this.flush();
    this.#profiler?.destroy();
    this.#profiler = new KernelProfiler(this.device, BATCH);
    return true;
  }

  /** Stops profiling; GPU time per kernel name since `startProfile`, largest first. */
  async stopProfile(): Promise<KernelTime[]> {
    const profiler = this.#profiler;
    if (profiler === null) throw new Error("Cannot stop profiling: it was not started");
    await this.sync();
    this.#profiler = null;
    const report = await profiler.report();
    profiler.destroy();
    return report;
  }

  /** Frees the pooled buffers and detaches from the device (which stays, shared). */
  destroy(): void {
    this.flush();
    this.#profiler?.destroy();
    this.#profiler = null;
    this.device.removeEventListener("uncapturederror", this.#onError);
    for (const list of this.#tempFree.values()) for (const b of list) b.destroy();
    this.#tempFree.clear();
    this.#uniformBuffer.destroy();
  }

  async #throwErrors(): Promise<void> {
    const checks = this.#checks;
    this.#checks = [];
    const compile = (await Promise.all(checks)).filter((m): m is string => m !== null);
    // Work that used a broken pipeline reports follow-up validation errors: let them arrive
    // now, so that they are dropped with this report instead of failing a later call.
    if (compile.length > 0) await this.device.queue.onSubmittedWorkDone();
    const errors = this.#errors;
    this.#errors = [];
    if (compile.length > 0) throw new Error(compile.join("\n"));
    if (errors.length > 0) {
      throw new Error(`Cannot run WebGPU work: ${errors.map((m) => m.trim()).join("; ")}`);
    }
  }

  #encoderNow(): GPUCommandEncoder {
    if (this.#encoder === null) this.#encoder = this.device.createCommandEncoder();
    return this.#encoder;
  }

  #passNow(): GPUComputePassEncoder {
    if (this.#pass === null) this.#pass = this.#encoderNow().beginComputePass();
    return this.#pass;
  }

  #endPass(): void {
    if (this.#pass !== null) {
      this.#pass.end();
      this.#pass = null;
    }
  }

  /** The bind group of `inputs` then `outputs` then the uniform ring (cached, see above). */
  #bindGroup(inputs: GPUBuffer[], outputs: GPUBuffer[]): GPUBindGroup {
    let key = `${inputs.length},${outputs.length}:`;
    for (const b of inputs) key += `${this.#bufferId(b)},`;
    for (const b of outputs) key += `${this.#bufferId(b)},`;
    let group = this.#groups.get(key);
    if (group !== undefined) {
      this.#groups.delete(key); // re-inserted below: most recently used last
    } else {
      group = this.device.createBindGroup({
        layout: this.#layout(inputs.length, outputs.length).group,
        entries: [
          ...[...inputs, ...outputs].map((buffer, i) => ({ binding: i, resource: { buffer } })),
          {
            binding: inputs.length + outputs.length,
            resource: { buffer: this.#uniformBuffer, offset: 0, size: UNIFORM_SLOT_BYTES },
          },
        ],
      });
      if (this.#groups.size >= BIND_GROUP_CACHE) {
        this.#groups.delete(this.#groups.keys().next().value!);
      }
    }
    this.#groups.set(key, group);
    return group;
  }

  /** A number per buffer object (buffers are never reused after destroy, so ids stay unique). */
  #bufferId(b: GPUBuffer): number {
    let id = this.#bufferIds.get(b);
    if (id === undefined) this.#bufferIds.set(b, id = this.#nextBufferId++);
    return id;
  }

  #layout(nIn: number, nOut: number) {
    const key = `${nIn},${nOut}`;
    let layout = this.#layouts.get(key);
    if (layout === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let i = 0; i < nIn + nOut; i++) {
        entries.push({
          binding: i,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: i < nIn ? "read-only-storage" : "storage" },
        });
      }
      entries.push({
        binding: nIn + nOut,
        visibility: GPUShaderStage.COMPUTE,
        // one bind group serves every slot of the ring: the slot is a dynamic offset
        buffer: { type: "uniform", hasDynamicOffset: true },
      });
      const group = this.device.createBindGroupLayout({ entries });
      const pipeline = this.device.createPipelineLayout({ bindGroupLayouts: [group] });
      layout = { group, pipeline };
      this.#layouts.set(key, layout);
    }
    return layout;
  }

  /**
   * The pipeline of `k`, found by its body (the same string object dispatch after dispatch, so the
   * lookup does not rehash it) and a short signature of its bindings and uniforms; the full
   * source is built only to compile.
   */
  #pipelineOf(k: Kernel): GPUComputePipeline {
    let bySignature = this.#pipelines.get(k.code);
    if (bySignature === undefined) this.#pipelines.set(k.code, bySignature = new Map());
    let signature = "";
    for (const b of k.inputs) signature += `${b.name}:${b.type ?? "f32"},`;
    signature += "|";
    for (const b of k.outputs) signature += `${b.name}:${b.type ?? "f32"},`;
    signature += "|";
    for (const u of k.uniforms) signature += `${u.name}:${u.type},`;
    let pipeline = bySignature.get(signature);
    if (pipeline === undefined) {
      const code = kernelSource(k), cache = bySignature;
      const module = this.device.createShaderModule({ label: k.name, code });
      this.#checks.push(
        module.getCompilationInfo().then((info) => {
          const message = formatCompilation(k.name, code, info);
          // A broken source must report again if dispatched again, not hit the cache.
          if (message !== null) cache.delete(signature);
          return message;
        }),
      );
      pipeline = this.device.createComputePipeline({
        label: k.name,
        layout: this.#layout(k.inputs.length, k.outputs.length).pipeline,
        compute: { module, entryPoint: "main" },
      });
      bySignature.set(signature, pipeline);
    }
    return pipeline;
  }
}
