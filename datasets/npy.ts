/**
 * Numeric `.npy` files (numpy `lib/format.py`): read versions 1.0/2.0/3.0, little- or big-endian,
 * C or Fortran order; write version 1.0 (2.0 for huge headers), little-endian, C order, data
 * aligned to 64 bytes, exactly as `np.save` does. Object arrays (`|O`) are in `npy_object.ts`.
 *
 * Why not `npyjs`: its parser (1.2.0) views the data in place (a RangeError for unaligned
 * offsets), never checks the data size against the shape (truncated files give short arrays
 * silently), ignores `fortran_order`, rejects big-endian data, returns complex data as if it were
 * real, and its `load(path)` goes through `fetch`. The format is small enough to own.
 * @module
 */
import { formatNpyHeader, parseNpyHeader } from "./_npy_header.ts";
import { writeFileAtomic } from "./_atomic_write.ts";

/** The dtypes we read and write, in numpy's canonical little-endian spelling. */
export type NpyDtype =
  | "<f4"
  | "<f8"
  | "|i1"
  | "<i2"
  | "<i4"
  | "<i8"
  | "|u1"
  | "<u2"
  | "<u4"
  | "<u8"
  | "|b1";

/** The typed array that holds each dtype (`|b1` is 0/1 bytes). */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A numeric array: C-order `data` of `prod(shape)` elements. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

interface DtypeInfo {
  size: number;
  make: (buffer: ArrayBuffer) => NpyData;
  check: (data: NpyData) => boolean;
}

const DTYPES: Readonly<Record<NpyDtype, DtypeInfo>> = {
  "<f4": { size: 4, make: (b) => new Float32Array(b), check: (d) => d instanceof Float32Array },
  "<f8": { size: 8, make: (b) => new Float64Array(b), check: (d) => d instanceof Float64Array },
  "|i1": { size: 1, make: (b) => new Int8Array(b), check: (d) => d instanceof Int8Array },
  "<i2": { size: 2, make: (b) => new Int16Array(b), check: (d) => d instanceof Int16Array },
  "<i4": { size: 4, make: (b) => new Int32Array(b), check: (d) => d instanceof Int32Array },
  "<i8": { size: 8, make: (b) => new BigInt64Array(b), check: (d) => d instanceof BigInt64Array },
  "|u1": { size: 1, make: (b) => new Uint8Array(b), check: (d) => d instanceof Uint8Array },
  "<u2": { size: 2, make: (b) => new Uint16Array(b), check: (d) => d instanceof Uint16Array },
  "<u4": { size: 4, make: (b) => new Uint32Array(b), check: (d) => d instanceof Uint32Array },
  "<u8": {
    size: 8,
    make: (b) => new BigUint64Array(b),
    check: (d) => d instanceof BigUint64Array,
  },
  "|b1": { size: 1, make: (b) => new Uint8Array(b), check: (d) => d instanceof Uint8Array },
};

/** Product of a shape (1 for a 0-d array). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Maps a header `descr` to our canonical dtype and whether the bytes need swapping; undefined if
 * unsupported. `=` is native order, little-endian on every platform Deno runs on.
 */
function canonical(descr: string): { dtype: NpyDtype; swap: boolean } | undefined {
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  if (!m) return undefined;
  const [, order, kind, size] = m;
  const one = size === "1";
  const key = (one ? `|${kind}${size}` : `<${kind}${size}`) as NpyDtype;
  if (!(key in DTYPES) || (kind === "f" && one)) return undefined;
  return { dtype: key, swap: order === ">" && !one };
}

/** Reverses the byte order of each `size`-byte element in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** Reorders Fortran-order elements (first index fastest) into C order (last index fastest). */
function fortranToC(
  src: Uint8Array,
  shape: readonly number[],
  size: number,
): Uint8Array<ArrayBuffer> {
  const n = numel(shape);
  const out = new Uint8Array(src.length);
  const nd = shape.length;
  // Fortran strides in elements: stride[0] = 1, stride[d] = stride[d-1] * shape[d-1].
  const fstride = new Array<number>(nd);
  for (let d = 0, s = 1; d < nd; d++) {
    fstride[d] = s;
    s *= shape[d];
  }
  const idx = new Array<number>(nd).fill(0);
  let f = 0; // Fortran offset of the C-order element i
  for (let i = 0; i < n; i++) {
    out.set(src.subarray(f * size, f * size + size), i * size);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      f += fstride[d];
      if (idx[d] < shape[d]) break;
      f -= idx[d] * fstride[d];
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Parses an `.npy` file holding a numeric array. The data is copied out of `bytes` (aligned,
 * little-endian, C order). Trailing bytes after the data are ignored, as `np.load` does.
 * Throws SyntaxError naming `name` on a bad magic, a malformed header or truncated data, and
 * TypeError on an unsupported dtype (complex, float16, strings, structured, objects).
 *
 * @example
 * ```ts
 * import { encodeNpy, readNpy } from "./npy.ts";
 * const bytes = encodeNpy({ dtype: "<f4", shape: [2], data: new Float32Array([1, 2]) });
 * console.assert(readNpy(bytes).data[1] === 2);
 * ```
 */
export function readNpy(bytes: Uint8Array, name = "<bytes>"): NpyArray {
  const fail = (detail: string): never => {
    throw new SyntaxError(`Cannot load npy file "${name}": ${detail}`);
  };
  const header = parseNpyHeader(bytes, fail);
  if (header.descr === "|O" || header.descr === "O") {
    throw new TypeError(
      `Cannot load npy file "${name}": dtype |O holds pickled objects; read it with readNpyObject()`,
    );
  }
  return decodeNpyData(
    header.descr,
    header.shape,
    header.fortranOrder,
    bytes.subarray(header.dataOffset),
    `Cannot load npy file "${name}"`,
  );
}

/**
 * Decodes raw array bytes (as they follow an `.npy` header or sit in a pickled ndarray) into a
 * C-order little-endian array; the bytes are copied. `prefix` starts every error message.
 */
export function decodeNpyData(
  descr: string,
  shape: number[],
  fortranOrder: boolean,
  bytes: Uint8Array,
  prefix: string,
): NpyArray {
  const dt = canonical(descr);
  if (!dt) throw new TypeError(`${prefix}: dtype ${descr} is not supported`);
  const info = DTYPES[dt.dtype];
  const n = numel(shape);
  const nbytes = n * info.size;
  if (bytes.length < nbytes) {
    throw new SyntaxError(
      `${prefix}: data is truncated: shape (${shape}) needs ${nbytes} bytes, found ${bytes.length}`,
    );
  }
  let raw: Uint8Array<ArrayBuffer> = bytes.slice(0, nbytes);
  if (dt.swap) swapBytes(raw, info.size);
  if (fortranOrder && shape.length > 1) raw = fortranToC(raw, shape, info.size);
  return { dtype: dt.dtype, shape, data: info.make(raw.buffer) };
}

/** Reads and parses the `.npy` file at `path` (errors name the path). */
export async function loadNpy(path: string): Promise<NpyArray> {
  return readNpy(await Deno.readFile(path), path);
}

/**
 * Encodes a numeric array as an `.npy` file (version 1.0, little-endian, C order). Throws
 * TypeError if `data` is not the typed array of `dtype`, RangeError if its length is not
 * `prod(shape)`.
 */
export function encodeNpy(arr: NpyArray): Uint8Array {
  const info = DTYPES[arr.dtype];
  if (!info) throw new TypeError(`Cannot encode npy: dtype ${arr.dtype} is not supported`);
  if (!info.check(arr.data)) {
    throw new TypeError(
      `Cannot encode npy: dtype ${arr.dtype} does not match data ${arr.data.constructor.name}`,
    );
  }
  for (const d of arr.shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`Cannot encode npy: shape (${arr.shape}) is not a list of sizes`);
    }
  }
  const n = numel(arr.shape);
  if (arr.data.length !== n) {
    throw new RangeError(
      `Cannot encode npy: shape (${arr.shape}) needs ${n} elements, data has ${arr.data.length}`,
    );
  }
  const header = formatNpyHeader(arr.dtype, arr.shape);
  const out = new Uint8Array(header.length + n * info.size);
  out.set(header, 0);
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, n * info.size), header.length);
  return out;
}

/** Writes `arr` to `path` as `.npy`, atomically (temp file + rename). */
export async function saveNpy(path: string, arr: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(arr));
}

/**
 * The array's values as float32 (C order), for motion features stored as float32 or float64.
 * Throws TypeError naming `name` for integer or bool arrays.
 */
export function npyToFloat32(arr: NpyArray, name = "<array>"): Float32Array {
  if (arr.data instanceof Float32Array) return arr.data;
  if (arr.data instanceof Float64Array) return Float32Array.from(arr.data);
  throw new TypeError(`Cannot use npy array "${name}" as float32: dtype ${arr.dtype} is not float`);
}
