/**
 * Tensor and state-dict types shared by every checkpoint reader and writer (.pt, .safetensors).
 *
 * A tensor is always dense, contiguous and row-major; readers copy strided views. Half-precision
 * dtypes keep their raw 16-bit patterns in a `Uint16Array` so nothing is lost on a round trip.
 * @module
 */

import type { Backend, Tensor } from "../../kernels/backend.ts";

/** Element types a checkpoint tensor may have. */
export type DType =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

/** The typed array that holds each dtype's elements. */
export interface DTypeArrays {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array; // raw IEEE binary16 bits
  bfloat16: Uint16Array; // raw bfloat16 bits (upper half of a float32)
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array; // 0 or 1
}

/** Any of the arrays in {@linkcode DTypeArrays}. */
export type TensorArray = DTypeArrays[DType];

/** One dense row-major tensor: `data.length` equals the product of `shape` (1 for `[]`). */
export interface TensorData {
  dtype: DType;
  shape: number[];
  data: TensorArray;
}

/** Parameter name → tensor, in file order (Map keeps insertion order, like `OrderedDict`). */
export type StateDict = Map<string, TensorData>;

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Allocates a zero-filled array of `n` elements of `dtype`. */
export function allocArray(dtype: DType, n: number): TensorArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "float16":
    case "bfloat16":
      return new Uint16Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "int32":
      return new Int32Array(n);
    case "int16":
      return new Int16Array(n);
    case "int8":
      return new Int8Array(n);
    case "uint8":
    case "bool":
      return new Uint8Array(n);
  }
}

/**
 * Copies `n` little-endian elements of `dtype` from `bytes` (any alignment) into a fresh array.
 * The copy keeps the result independent of the (possibly large) source buffer.
 */
export function arrayFromBytes(dtype: DType, bytes: Uint8Array, n: number): TensorArray {
  const size = DTYPE_SIZE[dtype];
  if (bytes.length < n * size) {
    throw new RangeError(
      `Cannot read tensor data: need ${
        n * size
      } bytes for ${n} ${dtype} elements, got ${bytes.length}`,
    );
  }
  const out = allocArray(dtype, n);
  new Uint8Array(out.buffer, out.byteOffset, n * size).set(bytes.subarray(0, n * size));
  return out;
}

/** The raw little-endian bytes of a tensor's data (a view, not a copy). */
export function tensorBytes(t: TensorData): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Converts IEEE binary16 bits to a number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal or zero
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Returns the tensor's values as float32 (a copy, or the tensor's own array for float32).
 * Every dtype converts: halves exactly, float64/int64/int32 with float32 rounding, bool as 0/1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toFloat32 } from "./state_dict.ts";
 * const t = { dtype: "int64" as const, shape: [2], data: new BigInt64Array([3n, -4n]) };
 * assert.ok(toFloat32(t)[1] === -4);
 * ```
 */
export function toFloat32(t: TensorData): Float32Array {
  const d = t.data;
  switch (t.dtype) {
    case "float32":
      return d as Float32Array;
    case "bfloat16": {
      // bfloat16 is the upper 16 bits of a float32: shift into place, reinterpret.
      const src = d as Uint16Array;
      const bits = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case "float16": {
      const src = d as Uint16Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
      return out;
    }
    case "int64": {
      const src = d as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    default:
      return Float32Array.from(d as ArrayLike<number>);
  }
}

/** Wraps a float32 array as a tensor (no copy); throws RangeError when sizes disagree. */
export function float32Tensor(data: Float32Array, shape: number[]): TensorData {
  if (numel(shape) !== data.length) {
    throw new RangeError(
      `Cannot make tensor: shape [${shape.join(", ")}] needs ${
        numel(shape)
      } elements, got ${data.length}`,
    );
  }
  return { dtype: "float32", shape: [...shape], data };
}

/**
 * Host copies of engine tensors as a state dict, in the order given, through one `readMany`:
 * one GPU round trip for the lot (each costs Deno at least 10 ms; a model has hundreds).
 */
export async function readStateDict(
  be: Pick<Backend, "readMany">,
  tensors: Iterable<readonly [string, Tensor]>,
): Promise<StateDict> {
  const entries = [...tensors];
  const data = await be.readMany(entries.map(([, t]) => t));
  return new Map(entries.map(([name, t], i) => [name, float32Tensor(data[i], [...t.shape])]));
}
