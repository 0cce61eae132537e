/**
 * The allow-list of globals a PyTorch checkpoint may reference, with stand-ins that rebuild
 * tensors without running code. Tensors are created empty during unpickling and filled from their
 * storages once every storage's bytes are known (legacy files store them after the pickle).
 */
import { DATA_GLOBALS, opaqueClass, pickleStateOf } from "../../io/pickle/reader.ts";
import { PyObject } from "../../io/pickle/values.ts";
import {
  allocArray,
  arrayFromBytes,
  type DType,
  DTYPE_SIZE,
  numel,
  type TensorData,
} from "./state_dict.ts";

/** A `torch.<X>Storage` class reference from a persistent id. */
export class StorageType {
  /** @param dtype element type of storages of this class */
  constructor(readonly dtype: DType) {}
}

/** Storage classes that exist in PyTorch but whose dtype a {@linkcode TensorData} cannot hold. */
const UNSUPPORTED_STORAGES = [
  "ComplexFloatStorage",
  "ComplexDoubleStorage",
  "ComplexHalfStorage",
  "QInt8Storage",
  "QUInt8Storage",
  "QInt32Storage",
  "QUInt4x2Storage",
  "QUInt2x4Storage",
];

/** A `torch.<X>Storage` reference whose dtype is not supported: fails when a tensor uses it. */
export class UnsupportedStorageType {
  /** @param name the class name, e.g. `ComplexFloatStorage` */
  constructor(readonly name: string) {}
}

/** One storage: its element count and, once read, its bytes. */
export class TorchStorage {
  /** Raw little-endian bytes (set when the storage's record is read). */
  bytes: Uint8Array | undefined = undefined;
  /**
   * @param key record name in the archive (or legacy root key)
   * @param dtype element type
   * @param numel element count from the persistent id
   * @param offset element offset of a legacy view into its root storage
   * @param root the root storage of a legacy view
   */
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly offset = 0,
    readonly root?: TorchStorage,
  ) {}
}

const STORAGES: Record<string, DType> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};

/** A tensor waiting for its storage's bytes. */
interface Pending {
  tensor: TensorData;
  storage: TorchStorage;
  offset: number;
  stride: number[];
}

/** Globals for one load, plus the list of tensors to fill afterwards. */
export class TorchUnpickleContext {
  readonly pending: Pending[] = [];
  readonly table: Record<string, unknown>;

  /** @param extra further allowed globals (`"module.name"` → stand-in) */
  constructor(extra: Readonly<Record<string, unknown>> = {}) {
    const rebuild = (
      storage: unknown,
      offset: unknown,
      size: unknown,
      stride: unknown,
    ): TensorData => this.#tensor(storage, offset, size, stride);
    this.table = {
      ...DATA_GLOBALS,
      "torch._utils._rebuild_tensor_v2": rebuild,
      "torch._utils._rebuild_tensor": rebuild,
      "torch._utils._rebuild_parameter": (data: unknown) => data,
      "torch._utils._rebuild_parameter_with_state": (data: unknown) => data,
      "torch.Size": (dims?: unknown) => Object.freeze([...(dims as number[] ?? [])]),
      "numpy.dtype": opaqueClass("numpy.dtype"),
      "numpy.core.multiarray.scalar": numpyScalar,
      ...extra,
    };
    for (const [cls, dtype] of Object.entries(STORAGES)) {
      this.table[`torch.${cls}`] = new StorageType(dtype);
    }
    for (const cls of UNSUPPORTED_STORAGES) {
      this.table[`torch.${cls}`] = new UnsupportedStorageType(cls);
    }
  }

  #tensor(storage: unknown, offset: unknown, size: unknown, stride: unknown): TensorData {
    if (!(storage instanceof TorchStorage)) {
      throw new TypeError("tensor rebuilt from something that is not a storage");
    }
    const shape = [...(size as number[])];
    const strides = [...(stride as number[])];
    if (
      !shape.every(Number.isSafeInteger) || !strides.every(Number.isSafeInteger) ||
      shape.length !== strides.length || !Number.isSafeInteger(offset)
    ) {
      throw new TypeError(`tensor has invalid size ${shape} or stride ${strides}`);
    }
    const tensor: TensorData = {
      dtype: storage.dtype,
      shape,
      data: allocArray(storage.dtype, 0),
    };
    this.pending.push({ tensor, storage, offset: offset as number, stride: strides });
    return tensor;
  }

  /** Copies every pending tensor out of its storage (strided views become contiguous). */
  fill(fail: (detail: string) => never): void {
    for (const { tensor, storage, offset, stride } of this.pending) {
      const root = storage.root ?? storage;
      const bytes = root.bytes;
      if (bytes === undefined) fail(`storage ${root.key} has no data`);
      const es = DTYPE_SIZE[tensor.dtype];
      const base = storage.offset + offset; // elements from the root storage's start
      const n = numel(tensor.shape);
      const rootNumel = Math.floor(bytes!.length / es);
      let last = base;
      for (let d = 0; d < tensor.shape.length; d++) {
        if (tensor.shape[d] > 0) last += (tensor.shape[d] - 1) * stride[d];
      }
      if (n > 0 && (base < 0 || last >= rootNumel)) {
        fail(
          `tensor of shape [${tensor.shape}] at offset ${base} reads beyond its storage ` +
            `${root.key} (${rootNumel} elements)`,
        );
      }
      tensor.data = isContiguous(tensor.shape, stride)
        ? arrayFromBytes(tensor.dtype, bytes!.subarray(base * es, (base + n) * es), n)
        : gatherStrided(tensor.dtype, bytes!, base, tensor.shape, stride);
    }
  }
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) return false;
    expect *= shape[d];
  }
  return true;
}

/** Copies a strided view into a fresh row-major array, element by element (odometer order). */
function gatherStrided(
  dtype: DType,
  bytes: Uint8Array,
  base: number,
  shape: number[],
  stride: number[],
): TensorData["data"] {
  const es = DTYPE_SIZE[dtype];
  const n = numel(shape);
  const out = new Uint8Array(n * es);
  const idx = new Array(shape.length).fill(0);
  let src = base;
  for (let i = 0; i < n; i++) {
    out.set(bytes.subarray(src * es, src * es + es), i * es);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      src += stride[d];
      if (idx[d] < shape[d]) break;
      src -= idx[d] * stride[d];
      idx[d] = 0;
    }
  }
  return arrayFromBytes(dtype, out, n);
}

/** `numpy.core.multiarray.scalar(dtype, bytes)`: a numpy scalar as a JS number (or bigint). */
function numpyScalar(dtype: unknown, raw: unknown): number | bigint | boolean {
  if (!(dtype instanceof PyObject) || !(raw instanceof Uint8Array)) {
    throw new TypeError("numpy scalar without a dtype and bytes");
  }
  const code = String(dtype.args[0]);
  const state = pickleStateOf(dtype) as unknown[] | undefined;
  const little = !state || state[1] !== ">";
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (code) {
    case "f8":
      return v.getFloat64(0, little);
    case "f4":
      return v.getFloat32(0, little);
    case "i8":
      return toNumber(v.getBigInt64(0, little));
    case "u8":
      return toNumber(v.getBigUint64(0, little));
    case "i4":
      return v.getInt32(0, little);
    case "u4":
      return v.getUint32(0, little);
    case "i2":
      return v.getInt16(0, little);
    case "u2":
      return v.getUint16(0, little);
    case "i1":
      return v.getInt8(0);
    case "u1":
      return v.getUint8(0);
    case "b1":
      return v.getUint8(0) !== 0;
  }
  throw new TypeError(`numpy scalar of dtype ${code} is not supported`);
}

function toNumber(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(x)
    : x;
}
