/**
 * The `.npy` header (numpy `lib/format.py`, format versions 1.0, 2.0 and 3.0):
 * magic `\x93NUMPY`, major and minor version bytes, the header length (u16 LE in v1, u32 LE in
 * v2/v3), then an ASCII (v3: UTF-8) Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces and ending in
 * `\n`, so that the data starts at a multiple of 64 bytes.
 * @module
 */

/** The parsed header of an `.npy` file. */
export interface NpyHeader {
  /** The dtype string as written, e.g. `<f4`, `>i8`, `|O`. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset where the data starts. */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses the header of `bytes`; `fail` throws with a detail message naming the file. */
export function parseNpyHeader(bytes: Uint8Array, fail: (detail: string) => never): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail("bad magic: not an npy file");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number, start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("header is truncated");
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    return fail(`format version ${major}.${bytes[7]} is not supported`);
  }
  if (start + headerLen > bytes.length) fail("header is truncated");
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, start + headerLen),
  );
  if (/'descr'\s*:\s*\[/.test(text)) fail("structured dtypes are not supported");
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`header is malformed: ${JSON.stringify(text.trim())}`);
  }
  const shape: number[] = [];
  for (const part of shapeText!.split(",")) {
    const s = part.trim().replace(/L$/, ""); // Python 2 longs: `(3L, 4L)`
    if (s === "") continue;
    if (!/^\d+$/.test(s)) fail(`header shape (${shapeText}) is malformed`);
    shape.push(Number(s));
  }
  return { descr: descr!, fortranOrder: fortran === "True", shape, dataOffset: start + headerLen };
}

/** Python's repr of a shape tuple: `()`, `(3,)`, `(2, 3)`. */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/**
 * The full header bytes (magic to `\n`) for a C-order array, as numpy writes them: version 1.0
 * unless the dict does not fit a u16 length (then 2.0), padded so that the data starts at a
 * multiple of 64 bytes.
 */
export function formatNpyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const headerLen = total - prefix;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (prefix === 10) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  const padded = dict + " ".repeat(headerLen - dict.length - 1) + "\n";
  for (let i = 0; i < padded.length; i++) out[prefix + i] = padded.charCodeAt(i);
  return out;
}
