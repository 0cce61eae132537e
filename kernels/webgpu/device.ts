/**
 * The one `GPUDevice` of the process. The engine's WebGPU backend and onnxruntime-web
 * (`ort.env.webgpu.device`) share it, so frozen encoders read the engine's buffers without copies.
 * The device asks for the adapter's largest buffer and workgroup-memory limits so that big
 * activations (B*T*C floats of a whole rollout group) fit in one binding.
 */

/** What an adapter says about itself, plus whether it is a CPU (software) rasteriser. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for llvmpipe, lavapipe, SwiftShader, WARP or an adapter flagged as fallback. */
  isSoftwareAdapter: boolean;
}

/** Limits raised to the adapter's maximum: the ones that bound the tensor and tile sizes. */
const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxStorageBuffersPerShaderStage",
] as const;

/** Optional features enabled when the adapter has them. */
const SHARED_FEATURES: GPUFeatureName[] = ["shader-f16", "timestamp-query"];

let adapterPromise: Promise<GPUAdapter | null> | null = null;
let devicePromise: Promise<GPUDevice> | null = null;

function requestAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
  if (adapterPromise === null) {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    adapterPromise = gpu === undefined
      ? Promise.resolve(null)
      : gpu.requestAdapter(options).catch(() => null);
  }
  return adapterPromise;
}

/** Whether a WebGPU adapter (hardware or software) can be obtained in this process. */
export async function gpuAvailable(): Promise<boolean> {
  return (await requestAdapter()) !== null;
}

/**
 * The process-wide device, created on first call (later calls return the same device and ignore
 * their options). Throws when no adapter exists.
 *
 * @param options.powerPreference passed to `requestAdapter` on the first call.
 * @param options.adapter use this adapter instead of requesting one (first call only).
 */
export function getGpuDevice(
  options: { powerPreference?: GPUPowerPreference; adapter?: GPUAdapter } = {},
): Promise<GPUDevice> {
  if (devicePromise === null) {
    devicePromise = (async () => {
      const adapter = options.adapter ??
        await requestAdapter({ powerPreference: options.powerPreference });
      if (adapter === null) {
        throw new Error("Cannot create a WebGPU device: no adapter found (navigator.gpu)");
      }
      adapterPromise = Promise.resolve(adapter);
      const requiredLimits: Record<string, number> = {};
      for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
      // onnxruntime-web, sharing the device, runs float16 models with shader-f16 and profiles
      // with timestamp queries when they are there.
      const requiredFeatures = SHARED_FEATURES.filter((f) => adapter.features.has(f));
      const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
      device.lost.then(() => {
        // A lost device cannot be revived: the next caller gets a fresh one.
        devicePromise = null;
      });
      return device;
    })();
    devicePromise.catch(() => {
      devicePromise = null;
    });
  }
  return devicePromise;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|warp/i;

/**
 * Vendor, architecture, device and description of `adapter` (default: the process's adapter);
 * null when there is none.
 */
export async function adapterDescription(
  adapter?: GPUAdapter,
): Promise<AdapterDescription | null> {
  adapter ??= (await requestAdapter()) ?? undefined;
  if (adapter === undefined) return null;
  const info = adapter.info;
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftwareAdapter: fallback || SOFTWARE.test(`${info.description} ${info.device}`),
  };
}
