/**
 * onnxruntime-web inference sessions behind one small API: the WASM backend (always available)
 * or the WebGPU backend sharing the engine's `GPUDevice` (kernels/webgpu/device.ts).
 *
 * WASM threads: ORT's WASM backend is initialised once per process, so the thread count of the
 * first WASM session applies to all later ones. The default is 1: it spawns no worker, starts
 * instantly, and the frozen encoders run next to the engine, which already keeps the cores busy.
 * Pass `numThreads: 2` for a standalone evaluation on a multi-core machine.
 * @module
 */
import type * as OrtModule from "onnxruntime-web";
import { getGpuDevice } from "../kernels/webgpu/device.ts";

type Ort = typeof OrtModule;

/** Which onnxruntime-web backend runs the session. */
export type OnnxDevice = "wasm" | "webgpu";

/**
 * The onnxruntime-web backend for frozen networks beside an engine backend: WebGPU beside WebGPU
 * (on the same GPU: a CLIP text tower is about 6 GFLOP per text, 210 ms on one core with WASM),
 * WASM beside the CPU backend.
 */
export function onnxDeviceFor(be: { kind: string }): OnnxDevice {
  return be.kind === "webgpu" ? "webgpu" : "wasm";
}

/** Options of {@linkcode createSession}. */
export interface SessionOptions {
  /** Backend; default "wasm". */
  device?: OnnxDevice;
  /**
   * WASM threads, fixed by the first WASM session of the process (default 1; see the module
   * doc); a later session asking for a different count is a RangeError.
   */
  numThreads?: number;
}

/** Element arrays a session takes and returns. */
export type OnnxArray = Float32Array | BigInt64Array | Int32Array;

/** One input or output tensor. */
export interface OnnxValue {
  data: OnnxArray;
  dims: readonly number[];
}

/** An open session: run it any number of times, then release it. */
export interface OnnxSession {
  readonly device: OnnxDevice;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; returns every output (copied to host memory). */
  run(feeds: Readonly<Record<string, OnnxValue>>): Promise<Record<string, OnnxValue>>;
  /** Frees the session's memory in ORT. */
  release(): Promise<void>;
}

/**
 * Calls into each onnxruntime-web module, one at a time. Its WebGPU build suspends a call while
 * the GPU works (asyncify), and a second call entering meanwhile corrupts its memory ("memory
 * access out of bounds"); callers may overlap (a prefetch beside a reward), so every create, run
 * and release of a backend waits for the one before.
 */
const ortTurns = new Map<OnnxDevice, Promise<unknown>>();

/** Runs `f` when the calls queued before it on `device`'s module have finished. */
function inTurn<T>(device: OnnxDevice, f: () => Promise<T>): Promise<T> {
  const turn = (ortTurns.get(device) ?? Promise.resolve()).then(f);
  ortTurns.set(device, turn.catch(() => {}));
  return turn;
}

let wasmOrt: Promise<Ort> | null = null;
let wasmThreads = 0;
let webgpuOrt: Promise<Ort> | null = null;

function loadWasmOrt(numThreads: number | undefined): Promise<Ort> {
  if (wasmOrt !== null) {
    if (numThreads !== undefined && numThreads !== wasmThreads) {
      throw new RangeError(
        `Cannot create ONNX session with numThreads ${numThreads}: the WASM backend already ` +
          `runs with ${wasmThreads} (the count is set once per process)`,
      );
    }
    return wasmOrt;
  }
  wasmThreads = numThreads ?? 1;
  wasmOrt = import("onnxruntime-web").then((ort) => {
    ort.env.wasm.numThreads = wasmThreads;
    ort.env.logLevel = "error";
    return ort;
  });
  return wasmOrt;
}

function loadWebgpuOrt(): Promise<Ort> {
  webgpuOrt ??= (async () => {
    // The WebGPU build is a separate copy of ORT with its own `env`; it is only loaded when a
    // WebGPU session is asked for.
    const ort = await import("onnxruntime-web/webgpu") as Ort;
    ort.env.logLevel = "error";
    ort.env.wasm.numThreads = 1;
    // Share the engine's device so encoder inputs could come straight from engine buffers.
    ort.env.webgpu.device = await getGpuDevice();
    return ort;
  })();
  webgpuOrt.catch(() => {
    webgpuOrt = null;
  });
  return webgpuOrt;
}

/**
 * Opens an ONNX model (bytes, or a file path) in onnxruntime-web.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphBuilder } from "./graph.ts";
 * import { createSession } from "./session.ts";
 * const g = new GraphBuilder("neg");
 * g.input("x", "float32", [2]);
 * g.node("Neg", ["x"], ["y"]);
 * g.output("y", "float32", [2]);
 * const s = await createSession(g.toBytes());
 * const { y } = await s.run({ x: { data: new Float32Array([1, -2]), dims: [2] } });
 * assert.deepEqual(Array.from(y.data as Float32Array), [-1, 2]);
 * await s.release();
 * ```
 */
export async function createSession(
  model: Uint8Array | string,
  options: SessionOptions = {},
): Promise<OnnxSession> {
  const device = options.device ?? "wasm";
  if (device !== "wasm" && device !== "webgpu") {
    throw new TypeError(`Cannot create ONNX session: unknown device "${device}"`);
  }
  const name = typeof model === "string" ? `"${model}"` : "from bytes";
  let bytes: Uint8Array;
  if (typeof model === "string") {
    try {
      bytes = await Deno.readFile(model);
    } catch (e) {
      throw new Error(`Cannot read ONNX model "${model}": ${(e as Error).message}`, { cause: e });
    }
  } else {
    bytes = model;
  }
  const ort = device === "wasm" ? await loadWasmOrt(options.numThreads) : await loadWebgpuOrt();
  let session: OrtModule.InferenceSession;
  try {
    session = await inTurn(device, () =>
      ort.InferenceSession.create(bytes, {
        executionProviders: [device],
        graphOptimizationLevel: "all",
        // Native-side warnings (e.g. shape ops placed on the CPU beside WebGPU) are expected.
        logSeverityLevel: 3,
      }));
  } catch (e) {
    throw new Error(`Cannot create ONNX session ${name} on ${device}: ${String(e)}`, {
      cause: e,
    });
  }
  return new OrtSession(ort, session, device, name);
}

class OrtSession implements OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    readonly ort: Ort,
    readonly session: OrtModule.InferenceSession,
    readonly device: OnnxDevice,
    readonly name: string,
  ) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
  }

  async run(feeds: Readonly<Record<string, OnnxValue>>): Promise<Record<string, OnnxValue>> {
    const missing = this.inputNames.filter((n) => !(n in feeds));
    if (missing.length > 0) {
      throw new TypeError(
        `Cannot run ONNX session ${this.name}: missing input ${missing.join(", ")}`,
      );
    }
    const ortFeeds: Record<string, OrtModule.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) {
      ortFeeds[k] = new this.ort.Tensor(ortType(v.data), v.data, [...v.dims]);
    }
    let results: OrtModule.InferenceSession.OnnxValueMapType;
    try {
      results = await inTurn(this.device, () => this.session.run(ortFeeds));
    } catch (e) {
      throw new Error(`Cannot run ONNX session ${this.name}: ${String(e)}`, { cause: e });
    }
    const out: Record<string, OnnxValue> = {};
    for (const [k, t] of Object.entries(results)) {
      const data = t.data;
      if (
        !(data instanceof Float32Array || data instanceof BigInt64Array ||
          data instanceof Int32Array)
      ) {
        throw new TypeError(
          `Cannot read ONNX output ${k} of ${this.name}: dtype ${t.type} is not supported`,
        );
      }
      out[k] = { data, dims: [...t.dims] };
    }
    return out;
  }

  release(): Promise<void> {
    return inTurn(this.device, () => this.session.release());
  }
}

function ortType(data: OnnxArray): "float32" | "int64" | "int32" {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof BigInt64Array) return "int64";
  return "int32";
}
