/**
 * The `.safetensors` format: an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`, then the
 * raw little-endian tensor bytes; offsets are relative to the end of the header.
 * @module
 */
import {
  arrayFromBytes,
  type DType,
  DTYPE_SIZE,
  numel,
  type StateDict,
  tensorBytes,
} from "./state_dict.ts";
import { writeFileAtomic } from "./write_file_atomic.ts";

const TO_ST: Readonly<Record<DType, string>> = {
  float32: "F32",
  float64: "F64",
  float16: "F16",
  bfloat16: "BF16",
  int64: "I64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};
const FROM_ST: Readonly<Record<string, DType>> = Object.fromEntries(
  Object.entries(TO_ST).map(([k, v]) => [v, k as DType]),
);

/** Refuse absurd headers before decoding them (the reference implementation caps at 100 MB). */
const MAX_HEADER = 100_000_000;

/**
 * Parses a `.safetensors` file into a state dict (tensors copied out of `bytes`, file order kept
 * as the order of `data_offsets`). Throws SyntaxError naming `name` on any malformed input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const sd = new Map([["w", { dtype: "float32" as const, shape: [2], data: new Float32Array([1, 2]) }]]);
 * const back = readSafetensors(writeSafetensors(sd));
 * assert.ok(back.get("w")!.data[1] === 2);
 * ```
 */
export function readSafetensors(bytes: Uint8Array, name = "<bytes>"): StateDict {
  const fail = (detail: string): never => {
    throw new SyntaxError(`Cannot load safetensors file "${name}": ${detail}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header size`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) {
    fail(`header size ${headerLen} exceeds the file (${bytes.length} bytes)`);
  }
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("header is not a JSON object");
  }
  const data = bytes.subarray(8 + n);
  const entries: { key: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, raw] of Object.entries(header as Record<string, unknown>)) {
    if (key === "__metadata__") continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== "object" || info === null) fail(`entry "${key}" is not an object`);
    const dtype = FROM_ST[String(info.dtype)];
    if (dtype === undefined) fail(`tensor "${key}" has unsupported dtype ${String(info.dtype)}`);
    const shape = info.shape;
    if (
      !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
    ) {
      fail(`tensor "${key}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const off = info.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o)) ||
      off[0] < 0 || off[1] < off[0] || off[1] > data.length
    ) {
      fail(`tensor "${key}" has data_offsets ${JSON.stringify(off)} outside ${data.length} bytes`);
    }
    const [begin, end] = off as number[];
    const want = numel(shape as number[]) * DTYPE_SIZE[dtype];
    if (end - begin !== want) {
      fail(`tensor "${key}" spans ${end - begin} bytes, its shape and dtype need ${want}`);
    }
    entries.push({ key, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin);
  const sd: StateDict = new Map();
  for (const e of entries) {
    const n = numel(e.shape);
    sd.set(e.key, {
      dtype: e.dtype,
      shape: e.shape,
      data: arrayFromBytes(e.dtype, data.subarray(e.begin, e.end), n),
    });
  }
  return sd;
}

/** Reads the `__metadata__` string map of a `.safetensors` file (empty when absent). */
export function readSafetensorsMetadata(
  bytes: Uint8Array,
  name = "<bytes>",
): Record<string, string> {
  readSafetensors(bytes, name); // validates the whole file first
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  return (header.__metadata__ ?? {}) as Record<string, string>;
}

/** Writes {@linkcode writeSafetensors}'s output to `path` atomically (temp file + rename). */
export async function saveSafetensors(
  path: string,
  sd: StateDict,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, writeSafetensors(sd, metadata));
}

/**
 * Serialises a state dict as `.safetensors`. Tensors are laid out by descending element size
 * (stable in map order) after a header padded with spaces to 8 bytes, so every tensor's data is
 * aligned to its element size, as the reference writer does.
 */
export function writeSafetensors(sd: StateDict, metadata?: Record<string, string>): Uint8Array {
  const keys = [...sd.keys()];
  const order = keys.map((k, i) => ({ k, i })).sort((a, b) =>
    DTYPE_SIZE[sd.get(b.k)!.dtype] - DTYPE_SIZE[sd.get(a.k)!.dtype] || a.i - b.i
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const { k } of order) {
    const t = sd.get(k)!;
    const nbytes = numel(t.shape) * DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== nbytes) {
      throw new RangeError(
        `Cannot write safetensors: tensor "${k}" has ${t.data.byteLength} bytes, shape [${t.shape}] ${t.dtype} needs ${nbytes}`,
      );
    }
    header[k] = { dtype: TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const { k } of order) {
    const b = tensorBytes(sd.get(k)!);
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}
