/**
 * `torch.save({name: state_dict, ...})` in PyTorch's zip format: a dict of state dicts, as MDM
 * saves `{'model': ..., 'model_avg': ...}` when trained with EMA. models/checkpoint/torch_pt.ts
 * writes only a flat state dict; this writes one level of nesting (inner dicts are plain dicts,
 * which `load_state_dict` accepts like an OrderedDict).
 * @module
 */
import { PickleWriter } from "../../io/pickle/writer.ts";
import { PyGlobal, PyPersistentId, PyReduce, PyTuple } from "../../io/pickle/values.ts";
import { writeZip, type ZipInput } from "../../io/zip/zip_writer.ts";
import {
  type DType,
  numel,
  type StateDict,
  tensorBytes,
} from "../../models/checkpoint/state_dict.ts";
import { writeFileAtomic } from "../../models/checkpoint/write_file_atomic.ts";

const STORAGE: Record<DType, string> = {
  float32: "FloatStorage",
  float64: "DoubleStorage",
  float16: "HalfStorage",
  bfloat16: "BFloat16Storage",
  int64: "LongStorage",
  int32: "IntStorage",
  int16: "ShortStorage",
  int8: "CharStorage",
  uint8: "ByteStorage",
  bool: "BoolStorage",
};

/** Serialises `{outer key: {tensor key: tensor}}`; `torch.load` returns nested dicts. */
export function writeTorchNested(dicts: Map<string, StateDict>, archive = "archive"): Uint8Array {
  const rebuild = new PyGlobal("torch._utils", "_rebuild_tensor_v2");
  const orderedDict = new PyGlobal("collections", "OrderedDict");
  const records: ZipInput[] = [];
  const top = new Map<string, Map<string, PyReduce>>();
  let key = 0;
  for (const [outer, sd] of dicts) {
    const inner = new Map<string, PyReduce>();
    for (const [k, t] of sd) {
      const n = numel(t.shape);
      if (t.data.length !== n) {
        throw new RangeError(
          `Cannot write checkpoint: tensor ${outer}.${k} has ${t.data.length} elements, ` +
            `shape [${t.shape}] needs ${n}`,
        );
      }
      const id = String(key++);
      records.push({ name: `${archive}/data/${id}`, data: tensorBytes(t) });
      const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const storage = new PyPersistentId(
        new PyTuple(["storage", new PyGlobal("torch", STORAGE[t.dtype]), id, "cpu", n]),
      );
      inner.set(
        k,
        new PyReduce(rebuild, [
          storage,
          0,
          new PyTuple([...t.shape]),
          new PyTuple(stride),
          false,
          new PyReduce(orderedDict, []),
        ]),
      );
    }
    top.set(outer, inner);
  }
  const pkl = new PickleWriter({ protocol: 2 }).dump(top);
  const enc = new TextEncoder();
  return writeZip([
    { name: `${archive}/data.pkl`, data: pkl },
    ...records,
    { name: `${archive}/version`, data: enc.encode("3\n") },
    { name: `${archive}/byteorder`, data: enc.encode("little") },
  ]);
}

/** Writes {@linkcode writeTorchNested}'s output to `path` atomically. */
export async function saveTorchNested(path: string, dicts: Map<string, StateDict>): Promise<void> {
  await writeFileAtomic(path, writeTorchNested(dicts));
}
