/** A small state dict covering every dtype, for checkpoint round-trip tests. */
import { Rng } from "../../kernels/rng/philox.ts";
import {
  allocArray,
  type DType,
  numel,
  type StateDict,
  type TensorData,
  toFloat32,
} from "../../models/checkpoint/state_dict.ts";

/** Every dtype once, plus a scalar and an empty tensor; values drawn from `Rng(seed)`. */
export function sampleStateDict(seed = 7): StateDict {
  const rng = new Rng(seed);
  const sd: StateDict = new Map();
  const add = (key: string, dtype: DType, shape: number[], draw: () => number | bigint) => {
    const data = allocArray(dtype, numel(shape));
    for (let i = 0; i < data.length; i++) (data as unknown as (number | bigint)[])[i] = draw();
    sd.set(key, { dtype, shape, data });
  };
  const normal = () => (rng.uniform() - 0.5) * 8;
  add("layer.weight", "float32", [3, 5], normal);
  add("layer.bias", "float64", [5], normal);
  // Half patterns: random finite bit patterns (exponent < 31) keep NaN/Inf out.
  add("half", "float16", [2, 3], () => (rng.int(31) << 10) | rng.int(1024) | (rng.int(2) << 15));
  add("bhalf", "bfloat16", [4], () => (0x3f00 + rng.int(0x200)) | (rng.int(2) << 15));
  add("steps", "int64", [3], () => BigInt(rng.int(1 << 30)) * 4096n - 2n ** 41n);
  add("idx", "int32", [2, 2], () => rng.int(2 ** 31) - 2 ** 30);
  add("i16", "int16", [3], () => rng.int(65536) - 32768);
  add("i8", "int8", [3], () => rng.int(256) - 128);
  add("u8", "uint8", [4], () => rng.int(256));
  add("mask", "bool", [5], () => rng.int(2));
  add("scale", "float32", [], normal);
  add("nothing", "float32", [0, 4], normal);
  return sd;
}

/** Each tensor's values as exact decimal strings (int64 via bigint), keyed like the dict. */
export function stateDictJson(sd: StateDict): string {
  const obj: Record<string, { dtype: DType; shape: number[]; values: string[] }> = {};
  for (const [k, t] of sd) {
    const values = t.dtype === "int64"
      ? Array.from(t.data as BigInt64Array, String)
      : Array.from(toFloat32Exact(t), String);
    obj[k] = { dtype: t.dtype, shape: t.shape, values };
  }
  return JSON.stringify(obj);
}

/** Halves widen exactly through toFloat32; other dtypes are already exact JS numbers. */
function toFloat32Exact(t: TensorData): ArrayLike<number> {
  return t.dtype === "float16" || t.dtype === "bfloat16"
    ? toFloat32(t)
    : t.data as ArrayLike<number>;
}
