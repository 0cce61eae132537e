/**
 * Object arrays in `.npy` files (`descr: '|O'`): after the header, the data is a pickle
 * (protocol 3, as `np.save(..., allow_pickle=True)` writes) of the array itself:
 *
 * ```
 * _reconstruct(numpy.ndarray, (0,), b"b")                      GLOBAL numpy.core.multiarray
 *   BUILD (1, shape, dtype("O8") BUILD (3,"|",None,None,None,-1,-1,63), False, [items...])
 * ```
 *
 * Items are pickled Python values; numeric numpy arrays inside them are written the same way with
 * their dtype (`dtype("f4", False, True)` BUILD `(3, "<", None, None, None, -1, -1, 0)`) and raw
 * C-order bytes as the last state element. `np.load(path, allow_pickle=True)` reads the result.
 *
 * Reading runs no code: only the numpy globals above (and `numpy.core.multiarray.scalar`) are
 * allowed; nested numeric arrays come back as {@linkcode NpyArray}, unicode arrays as `string[]`,
 * object arrays as arrays of their items, dicts as `Map`, tuples as frozen arrays.
 * @module
 */
import { PickleWriter } from "../io/pickle/writer.ts";
import { allowGlobals, opaqueClass, unpickle } from "../io/pickle/reader.ts";
import { PyBuild, pyGlobal, PyObject, PyReduce, type PyValue, tuple } from "../io/pickle/values.ts";
import { formatNpyHeader, parseNpyHeader } from "./_npy_header.ts";
import { decodeNpyData, type NpyArray, numel } from "./npy.ts";
import { writeFileAtomic } from "./_atomic_write.ts";

const RECONSTRUCT = pyGlobal("numpy.core.multiarray", "_reconstruct");
const NDARRAY = pyGlobal("numpy", "ndarray");
const DTYPE = pyGlobal("numpy", "dtype");

/** `numpy.dtype(code, False, True)` with its BUILD state (byte order char, flags). */
function dtypeValue(code: string, order: string, flags: number): PyValue {
  return new PyBuild(
    new PyReduce(DTYPE, [code, false, true]),
    tuple(3, order, null, null, null, -1, -1, flags),
  );
}

/** `_reconstruct(ndarray, (0,), b"b")` BUILD `(1, shape, dtype, False, payload)`. */
function ndarrayValue(shape: readonly number[], dtype: PyValue, payload: PyValue): PyValue {
  return new PyBuild(
    new PyReduce(RECONSTRUCT, [NDARRAY, tuple(0), new Uint8Array([0x62])]),
    tuple(1, tuple(...shape), dtype, false, payload),
  );
}

/**
 * A numeric array as the pickle value numpy produces for it, for use inside object arrays or any
 * pickle (e.g. a field of a dict item). The data bytes are copied.
 */
export function numpyArrayValue(arr: NpyArray): PyValue {
  const order = arr.dtype[0]; // "<" or "|"
  const n = numel(arr.shape);
  if (arr.data.length !== n) {
    throw new RangeError(
      `Cannot pickle array: shape (${arr.shape}) needs ${n} elements, data has ${arr.data.length}`,
    );
  }
  const bytes = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength).slice();
  return ndarrayValue(arr.shape, dtypeValue(arr.dtype.slice(1), order, 0), bytes);
}

/**
 * Encodes an object array of `shape` (0-d: `[]`, 1-d: `[n]`) holding `items` in C order as an
 * `.npy` file that `np.load(path, allow_pickle=True)` reads.
 */
export function encodeNpyObject(
  items: PyValue[],
  shape: readonly number[] = [items.length],
): Uint8Array {
  if (numel(shape) !== items.length) {
    throw new RangeError(
      `Cannot encode object npy: shape (${shape}) needs ${numel(shape)} items, got ${items.length}`,
    );
  }
  const value = ndarrayValue(shape, dtypeValue("O8", "|", 63), items);
  const pickle = new PickleWriter({ protocol: 3 }).dump(value);
  const header = formatNpyHeader("|O", shape);
  const out = new Uint8Array(header.length + pickle.length);
  out.set(header, 0);
  out.set(pickle, header.length);
  return out;
}

/** Writes an object array to `path` as `.npy`, atomically. */
export async function saveNpyObject(
  path: string,
  items: PyValue[],
  shape: readonly number[] = [items.length],
): Promise<void> {
  await writeFileAtomic(path, encodeNpyObject(items, shape));
}

/** An object array read from `.npy`: C-order items (nested numpy arrays already decoded). */
export interface NpyObjectArray {
  shape: number[];
  items: unknown[];
}

const NDARRAY_OBJ = "numpy.ndarray";
const DTYPE_OBJ = "numpy.dtype";

/** numpy scalar `scalar(dtype, bytes)` → a JS number (bigint beyond 2^53), or a bool. */
function numpyScalar(dtype: unknown, bytes: unknown): unknown {
  const descr = dtypeDescr(dtype, "scalar");
  if (!(bytes instanceof Uint8Array)) throw new TypeError("numpy scalar data is not bytes");
  const arr = decodeNpyData(descr, [], false, bytes, "Cannot read numpy scalar");
  const v = arr.data[0];
  if (arr.dtype === "|b1") return v !== 0;
  return typeof v === "bigint" && v >= BigInt(Number.MIN_SAFE_INTEGER) &&
      v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

const FIND_GLOBAL = allowGlobals({
  "numpy.core.multiarray._reconstruct": opaqueClass(NDARRAY_OBJ),
  "numpy._core.multiarray._reconstruct": opaqueClass(NDARRAY_OBJ),
  "numpy.ndarray": "numpy.ndarray",
  "numpy.dtype": opaqueClass(DTYPE_OBJ),
  "numpy.core.multiarray.scalar": numpyScalar,
  "numpy._core.multiarray.scalar": numpyScalar,
});

/** The `descr` of a pickled `numpy.dtype` (order char + code, e.g. `<f4`, `|O`, `<U5`). */
function dtypeDescr(dtype: unknown, where: string): string {
  if (!(dtype instanceof PyObject) || dtype.className !== DTYPE_OBJ) {
    throw new TypeError(`${where} has no numpy dtype`);
  }
  const code = String(dtype.args[0]);
  const state = dtype.state as unknown[] | undefined;
  const order = Array.isArray(state) && typeof state[1] === "string" ? state[1] : "|";
  if (code === "O8" || code === "O4" || code === "O") return "|O";
  return `${order}${code}`;
}

/** Replaces pickled numpy objects in `v` by JavaScript values (see the module doc). */
function decodeValue(v: unknown, where: string): unknown {
  if (v instanceof PyObject && v.className === NDARRAY_OBJ) {
    const st = v.state as unknown[] | undefined;
    if (!Array.isArray(st) || st.length !== 5) {
      throw new TypeError(`${where} is a malformed ndarray`);
    }
    const shape = (st[1] as unknown[]).map(Number);
    const descr = dtypeDescr(st[2], where);
    const fortran = st[3] === true;
    const payload = st[4];
    if (descr === "|O") {
      if (!Array.isArray(payload)) throw new TypeError(`${where} object array has no item list`);
      return payload.map((x, i) => decodeValue(x, `${where}[${i}]`));
    }
    if (/^[<>|=]U\d+$/.test(descr)) return decodeUnicode(descr, numel(shape), payload, where);
    if (!(payload instanceof Uint8Array)) throw new TypeError(`${where} array data is not bytes`);
    return decodeNpyData(descr, shape, fortran, payload, `Cannot decode ${where}`);
  }
  if (v instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, x] of v) out.set(k, decodeValue(x, `${where}[${JSON.stringify(k)}]`));
    return out;
  }
  if (Array.isArray(v)) {
    const out = v.map((x, i) => decodeValue(x, `${where}[${i}]`));
    return Object.isFrozen(v) ? Object.freeze(out) : out;
  }
  return v;
}

/** A numpy unicode array (UTF-32, `n` chars per item, NUL-padded) as strings. */
function decodeUnicode(descr: string, n: number, payload: unknown, where: string): string[] {
  if (!(payload instanceof Uint8Array)) throw new TypeError(`${where} array data is not bytes`);
  const chars = Number(descr.slice(2));
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const little = descr[0] !== ">";
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = "";
    for (let c = 0; c < chars; c++) {
      const cp = view.getUint32((i * chars + c) * 4, little);
      if (cp === 0) break;
      s += String.fromCodePoint(cp);
    }
    out.push(s);
  }
  return out;
}

/**
 * Parses an `.npy` object array (what `np.save(..., allow_pickle=True)` writes for dtype
 * object). Throws SyntaxError/TypeError naming `name` for other dtypes or malformed pickles.
 */
export function readNpyObject(bytes: Uint8Array, name = "<bytes>"): NpyObjectArray {
  const prefix = `Cannot load npy file "${name}"`;
  const header = parseNpyHeader(bytes, (detail): never => {
    throw new SyntaxError(`${prefix}: ${detail}`);
  });
  if (header.descr !== "|O" && header.descr !== "O") {
    throw new TypeError(`${prefix}: dtype ${header.descr} is not an object array`);
  }
  const value = unpickle(bytes.subarray(header.dataOffset), {
    name,
    errorPrefix: prefix,
    findGlobal: FIND_GLOBAL,
  });
  let items: unknown;
  try {
    items = decodeValue(value, "array");
  } catch (err) {
    throw new SyntaxError(`${prefix}: ${(err as Error).message}`);
  }
  if (!Array.isArray(items) || items.length !== numel(header.shape)) {
    throw new SyntaxError(
      `${prefix}: the pickle is not an object array of shape (${header.shape})`,
    );
  }
  return { shape: header.shape, items };
}

/** Reads the object array `.npy` at `path`. */
export async function loadNpyObject(path: string): Promise<NpyObjectArray> {
  return readNpyObject(await Deno.readFile(path), path);
}
