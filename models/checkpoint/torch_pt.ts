/**
 * PyTorch checkpoint files (`torch.save` output, `.pt`/`.pth`/`.tar`), read without Python and
 * without running any pickled code.
 *
 * Two formats exist:
 * - zip (PyTorch ≥ 1.6): `<archive>/data.pkl` (the object, tensors as persistent ids
 *   `('storage', torch.<X>Storage, key, location, numel)`), `<archive>/data/<key>` (raw
 *   little-endian storage bytes), `<archive>/version`, optionally `<archive>/byteorder`.
 * - legacy (`_use_new_zipfile_serialization=False`, older files): five consecutive pickles (magic
 *   number, protocol 1001, sys_info, the object, the list of storage keys), then for each key an
 *   int64 element count and the storage bytes.
 * @module
 */
import { ForbiddenGlobalError, PickleReader } from "../../io/pickle/reader.ts";
import { PickleWriter } from "../../io/pickle/writer.ts";
import { OP } from "../../io/pickle/_opcodes.ts";
import { PyGlobal, PyPersistentId, PyReduce, PyTuple } from "../../io/pickle/values.ts";
import { isZip, readZip } from "../../io/zip/zip_reader.ts";
import { writeZip, type ZipInput } from "../../io/zip/zip_writer.ts";
import {
  StorageType,
  TorchStorage,
  TorchUnpickleContext,
  UnsupportedStorageType,
} from "./_torch_globals.ts";
import { readSafetensors } from "./safetensors.ts";
import { writeFileAtomic } from "./write_file_atomic.ts";
import {
  type DType,
  DTYPE_SIZE,
  numel,
  type StateDict,
  tensorBytes,
  type TensorData,
} from "./state_dict.ts";

/** Options of {@linkcode readTorchFile}. */
export interface ReadTorchOptions {
  /**
   * Further globals to allow, `"module.name"` → stand-in (a function for classes and functions;
   * see `opaqueClass` in io/pickle/reader.ts). Everything not listed is refused.
   */
  extraGlobals?: Readonly<Record<string, unknown>>;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/**
 * Decodes a `torch.save` file into plain values: tensors become {@linkcode TensorData}
 * (contiguous copies), dicts and `OrderedDict`s `Map`s, lists arrays, tuples frozen arrays.
 * Throws SyntaxError for malformed or truncated files and ForbiddenGlobalError when the pickle
 * references a global outside the allow-list (the message names it), both naming `name`.
 */
export function readTorchFile(
  bytes: Uint8Array,
  name = "<bytes>",
  options: ReadTorchOptions = {},
): unknown {
  const prefix = `Cannot load checkpoint "${name}"`;
  const fail = (detail: string): never => {
    throw new SyntaxError(`${prefix}: ${detail}`);
  };
  if (isZip(bytes)) return readZipFormat(bytes, name, prefix, fail, options);
  if (bytes.length >= 2 && bytes[0] === OP.PROTO) {
    return readLegacyFormat(bytes, prefix, fail, options);
  }
  return fail(describeNonCheckpoint(bytes));
}

/** Reads and decodes a `torch.save` file from disk (see {@linkcode readTorchFile}). */
export async function loadTorchFile(
  path: string,
  options: ReadTorchOptions = {},
): Promise<unknown> {
  return readTorchFile(await readFileOrThrow(path), path, options);
}

/**
 * Loads a file holding one plain state dict: a `torch.save(model.state_dict())` file or a
 * `.safetensors` file (recognised by content). Nested checkpoints: see mdm_checkpoint.ts.
 */
export async function loadStateDictFile(path: string): Promise<StateDict> {
  const bytes = await readFileOrThrow(path);
  if (looksLikeSafetensors(bytes)) return readSafetensors(bytes, path);
  return asStateDict(readTorchFile(bytes, path), path);
}

/** Whether `x` is a tensor produced by the readers. */
export function isTensorData(x: unknown): x is TensorData {
  if (typeof x !== "object" || x === null) return false;
  const t = x as Partial<TensorData>;
  return typeof t.dtype === "string" && t.dtype in DTYPE_SIZE && Array.isArray(t.shape) &&
    ArrayBuffer.isView(t.data);
}

/**
 * Checks that `value` is a map from string keys to tensors and returns it as a StateDict.
 * Anything else (a nested dict, a number, a list) fails with a TypeError naming the file, the
 * `where` path and the key.
 */
export function asStateDict(value: unknown, file: string, where = ""): StateDict {
  const at = where ? ` (in ${where})` : "";
  if (!(value instanceof Map)) {
    throw new TypeError(
      `Cannot load checkpoint "${file}": expected a state dict${at}, found ${describe(value)}`,
    );
  }
  for (const [k, v] of value) {
    if (typeof k !== "string") {
      throw new TypeError(`Cannot load checkpoint "${file}": state dict${at} has a non-string key`);
    }
    if (!isTensorData(v)) {
      throw new TypeError(
        `Cannot load checkpoint "${file}": key ${k}${at} is ${describe(v)}, not a tensor`,
      );
    }
  }
  return value as StateDict;
}

/**
 * The state dict stored under `key` of a decoded checkpoint dict, e.g. `"movement_encoder"` in
 * the T2M evaluator's `finest.tar`. A missing key is a TypeError listing the keys present.
 */
export function nestedStateDict(value: unknown, key: string, file: string): StateDict {
  if (!(value instanceof Map)) {
    throw new TypeError(
      `Cannot load checkpoint "${file}": expected a dict at the top, found ${describe(value)}`,
    );
  }
  if (!value.has(key)) {
    const keys = [...value.keys()].map(String).join(", ");
    throw new TypeError(`Cannot load checkpoint "${file}": missing entry ${key} (has ${keys})`);
  }
  return asStateDict(value.get(key), file, key);
}

/**
 * Serialises a state dict in PyTorch's zip format; `torch.load` reads it back as an
 * `OrderedDict` of tensors with the same dtypes, shapes and values.
 *
 * @param sd tensors in the order to write
 * @param archive the archive's top-level folder (`torch.save` uses the file's base name)
 */
export function writeTorchStateDict(sd: StateDict, archive = "archive"): Uint8Array {
  const storageNames: Record<DType, string> = {
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
  const w = new PickleWriter({ protocol: 2 });
  const orderedDict = new PyGlobal("collections", "OrderedDict");
  const rebuild = new PyGlobal("torch._utils", "_rebuild_tensor_v2");
  const records: ZipInput[] = [];
  // OrderedDict() then SETITEMS, as torch pickles a state dict (its `_metadata` is optional).
  w.writeProto();
  w.writeValue(orderedDict);
  w.writeOp(OP.EMPTY_TUPLE);
  w.writeOp(OP.REDUCE);
  w.writeOp(OP.MARK);
  let key = 0;
  for (const [k, t] of sd) {
    const n = numel(t.shape);
    if (t.data.length !== n) {
      throw new RangeError(
        `Cannot write checkpoint: tensor ${k} has ${t.data.length} elements, shape [${t.shape}] needs ${n}`,
      );
    }
    const id = String(key++);
    records.push({ name: `${archive}/data/${id}`, data: tensorBytes(t) });
    // Row-major strides: stride[d] = prod(shape[d+1:]).
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const storage = new PyPersistentId(
      new PyTuple(["storage", new PyGlobal("torch", storageNames[t.dtype]), id, "cpu", n]),
    );
    w.writeValue(k);
    w.writeValue(
      new PyReduce(rebuild, [
        storage,
        0,
        new PyTuple(t.shape),
        new PyTuple(stride),
        false,
        new PyReduce(orderedDict, []),
      ]),
    );
  }
  w.writeOp(OP.SETITEMS);
  w.writeOp(OP.STOP);
  const enc = new TextEncoder();
  return writeZip([
    { name: `${archive}/data.pkl`, data: w.take() },
    ...records,
    { name: `${archive}/version`, data: enc.encode("3\n") },
    { name: `${archive}/byteorder`, data: enc.encode("little") },
  ]);
}

/** Writes {@linkcode writeTorchStateDict}'s output to `path` atomically (temp file + rename). */
export async function saveTorchStateDict(path: string, sd: StateDict): Promise<void> {
  await writeFileAtomic(path, writeTorchStateDict(sd));
}

// --- private -------------------------------------------------------------------------------

function readZipFormat(
  bytes: Uint8Array,
  name: string,
  prefix: string,
  fail: (detail: string) => never,
  options: ReadTorchOptions,
): unknown {
  let entries;
  try {
    entries = readZip(bytes, name);
  } catch (e) {
    return fail((e as Error).message.replace(/^Cannot read zip archive "[^"]*": /, ""));
  }
  const pkl = [...entries.keys()].find((k) => /^[^/]+\/data\.pkl$/.test(k) || k === "data.pkl");
  if (pkl === undefined) {
    return fail("zip archive has no data.pkl record (not a torch.save file)");
  }
  const dir = pkl.slice(0, pkl.length - "data.pkl".length); // "archive/" or ""
  const order = entries.get(`${dir}byteorder`);
  if (order && new TextDecoder().decode(order.read()).trim() !== "little") {
    fail("big-endian checkpoints are not supported");
  }
  const ctx = new TorchUnpickleContext(options.extraGlobals);
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown): TorchStorage => {
    const [kind, type, key, , count] = pid as unknown[];
    checkStorageType(type);
    if (kind !== "storage" || !(type instanceof StorageType) || typeof key !== "string") {
      throw new TypeError(`unsupported persistent id ${describe(pid)}`);
    }
    let s = storages.get(key);
    if (s === undefined) {
      const entry = entries.get(`${dir}data/${key}`);
      if (entry === undefined) throw new TypeError(`storage record data/${key} is missing`);
      s = new TorchStorage(key, type.dtype, Number(count));
      s.bytes = entry.read();
      if (s.bytes.length < s.numel * DTYPE_SIZE[s.dtype]) {
        throw new TypeError(
          `storage record data/${key} has ${s.bytes.length} bytes, ${s.numel} ${s.dtype} need ${
            s.numel * DTYPE_SIZE[s.dtype]
          }`,
        );
      }
      storages.set(key, s);
    }
    return s;
  };
  const value = new PickleReader(entries.get(pkl)!.read(), {
    errorPrefix: prefix,
    part: pkl,
    findGlobal: (m, n) => ctx.table[`${m}.${n}`],
    persistentLoad,
  }).load();
  ctx.fill(fail);
  return value;
}

function readLegacyFormat(
  bytes: Uint8Array,
  prefix: string,
  fail: (detail: string) => never,
  options: ReadTorchOptions,
): unknown {
  const ctx = new TorchUnpickleContext(options.extraGlobals);
  const roots = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown): TorchStorage => {
    const [kind, type, rootKey, , count, view] = pid as unknown[];
    if (kind === "module") throw new TypeError("the file holds a pickled nn.Module, not tensors");
    checkStorageType(type);
    if (kind !== "storage" || !(type instanceof StorageType) || typeof rootKey !== "string") {
      throw new TypeError(`unsupported persistent id ${describe(pid)}`);
    }
    let root = roots.get(rootKey);
    if (root === undefined) {
      root = new TorchStorage(rootKey, type.dtype, Number(count));
      roots.set(rootKey, root);
    }
    if (view === null || view === undefined) return root;
    // Pre-1.0 files: (view_key, offset, size), offset in elements of the root storage.
    const [viewKey, offset, size] = view as unknown[];
    return new TorchStorage(String(viewKey), type.dtype, Number(size), Number(offset), root);
  };
  const reader = new PickleReader(bytes, {
    errorPrefix: prefix,
    findGlobal: (m, n) => ctx.table[`${m}.${n}`],
    persistentLoad,
  });
  if (reader.load() !== LEGACY_MAGIC) {
    // A plain pickle (e.g. a .pkl of words) is not a checkpoint.
    fail("file is a pickle but not a torch.save file (legacy magic number missing)");
  }
  const protocol = reader.load();
  if (protocol !== LEGACY_PROTOCOL) fail(`legacy protocol ${String(protocol)} is not supported`);
  const sysInfo = reader.load();
  if (sysInfo instanceof Map && sysInfo.get("little_endian") === false) {
    fail("big-endian checkpoints are not supported");
  }
  const value = reader.load();
  const keys = reader.load();
  if (!Array.isArray(keys)) fail("legacy storage key list is missing");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = reader.offset;
  for (const key of keys as unknown[]) {
    const root = roots.get(String(key));
    if (root === undefined) fail(`legacy storage ${String(key)} is not referenced by the object`);
    if (pos + 8 > bytes.length) fail(`file is truncated at byte ${pos} (storage ${String(key)})`);
    const count = Number(view.getBigInt64(pos, true));
    const nbytes = count * DTYPE_SIZE[root!.dtype];
    pos += 8;
    if (pos + nbytes > bytes.length) {
      fail(
        `file is truncated at byte ${bytes.length}: storage ${String(key)} needs ${nbytes} bytes`,
      );
    }
    root!.bytes = bytes.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  ctx.fill(fail);
  return value;
}

function checkStorageType(type: unknown): void {
  if (type instanceof UnsupportedStorageType) {
    throw new TypeError(`tensors of storage type torch.${type.name} are not supported`);
  }
}

/** A sentence for a file that is not a torch checkpoint, naming what it looks like. */
function describeNonCheckpoint(bytes: Uint8Array): string {
  const ascii = (from: number, to: number) =>
    String.fromCharCode(...bytes.subarray(from, Math.min(to, bytes.length)));
  if (bytes.length === 0) return "file is empty";
  if (bytes[0] === 0x93 && ascii(1, 6) === "NUMPY") {
    return "file is a .npy array, not a PyTorch checkpoint";
  }
  if (looksLikeSafetensors(bytes)) {
    return "file is a .safetensors file; load it with readSafetensors()";
  }
  if (ascii(257, 262) === "ustar") {
    return "file is a tar archive (PyTorch < 0.4 format), which is not supported";
  }
  return "file is not a PyTorch checkpoint (neither a zip archive nor a pickle)";
}

function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n > 1n && n <= BigInt(bytes.length - 8) && bytes[8] === 0x7b; // "{"
}

function describe(v: unknown): string {
  if (v === null) return "None";
  if (v instanceof Map) return `a dict with ${v.size} keys`;
  if (Array.isArray(v)) return Object.isFrozen(v) ? "a tuple" : "a list";
  if (isTensorData(v)) return `a ${v.dtype} tensor`;
  if (v instanceof Uint8Array) return "bytes";
  return `a ${typeof v}`;
}

async function readFileOrThrow(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot load checkpoint "${path}": file not found`);
    }
    throw e;
  }
}

export { ForbiddenGlobalError };
