/**
 * Private protobuf wire-format helpers: just what Event/Summary need (varint, fixed64 double,
 * fixed32 float, length-delimited strings and sub-messages). Field key = (field << 3) | wire type.
 *
 * @module
 */

/** Protobuf wire types used here (3 and 4, the deprecated groups, are rejected). */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Appends protobuf fields to a growing byte list. */
export class ProtoWriter {
  #out: number[] = [];
  #scratch = new DataView(new ArrayBuffer(8));

  /** Writes an unsigned varint (7 bits per byte, low group first, high bit = more). */
  #varint(v: bigint): void {
    while (v >= 0x80n) {
      this.#out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#out.push(Number(v));
  }

  #key(field: number, wire: number): void {
    this.#varint(BigInt((field << 3) | wire));
  }

  /** A `double` field (wire type 1, little-endian IEEE 754). */
  double(field: number, v: number): this {
    this.#key(field, WIRE_FIXED64);
    this.#scratch.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.#out.push(this.#scratch.getUint8(i));
    return this;
  }

  /** A `float` field (wire type 5); `v` is rounded to float32. */
  float(field: number, v: number): this {
    this.#key(field, WIRE_FIXED32);
    this.#scratch.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.#out.push(this.#scratch.getUint8(i));
    return this;
  }

  /** An `int64` field (varint; negatives as 10-byte two's complement, as protobuf does). */
  int64(field: number, v: number): this {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`Cannot encode int64 field ${field}: ${v} is not a safe integer`);
    }
    this.#key(field, WIRE_VARINT);
    this.#varint(BigInt.asUintN(64, BigInt(v)));
    return this;
  }

  /** A length-delimited field: raw bytes or an encoded sub-message. */
  bytes(field: number, b: Uint8Array): this {
    this.#key(field, WIRE_LEN);
    this.#varint(BigInt(b.length));
    for (let i = 0; i < b.length; i++) this.#out.push(b[i]);
    return this;
  }

  /** A `string` field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return Uint8Array.from(this.#out);
  }
}

/** One decoded field: varints as bigint, every other wire type as its raw bytes. */
export interface ProtoField {
  field: number;
  wire: number;
  varint: bigint;
  /** fixed64: 8 bytes, fixed32: 4 bytes, length-delimited: the payload; empty for varints. */
  data: Uint8Array;
}

/**
 * Splits one message into its fields, in wire order.
 *
 * @throws {SyntaxError} on truncation, an overlong varint or an unsupported wire type.
 */
export function readProtoFields(bytes: Uint8Array, what: string): ProtoField[] {
  const fields: ProtoField[] = [];
  let off = 0;
  const varint = (): bigint => {
    let v = 0n, shift = 0n;
    for (;;) {
      if (off >= bytes.length) throw new SyntaxError(`Cannot parse ${what}: truncated varint`);
      if (shift > 63n) throw new SyntaxError(`Cannot parse ${what}: varint longer than 10 bytes`);
      const b = bytes[off++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  const take = (n: number): Uint8Array => {
    if (n > bytes.length - off) throw new SyntaxError(`Cannot parse ${what}: truncated field`);
    const d = bytes.subarray(off, off + n);
    off += n;
    return d;
  };
  while (off < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n), wire = Number(key & 7n);
    const empty = new Uint8Array(0);
    if (wire === WIRE_VARINT) fields.push({ field, wire, varint: varint(), data: empty });
    else if (wire === WIRE_FIXED64) fields.push({ field, wire, varint: 0n, data: take(8) });
    else if (wire === WIRE_FIXED32) fields.push({ field, wire, varint: 0n, data: take(4) });
    else if (wire === WIRE_LEN) {
      const n = varint();
      if (n > BigInt(bytes.length)) throw new SyntaxError(`Cannot parse ${what}: truncated field`);
      fields.push({ field, wire, varint: 0n, data: take(Number(n)) });
    } else {
      throw new SyntaxError(`Cannot parse ${what}: unsupported wire type ${wire} (field ${field})`);
    }
  }
  return fields;
}

/** Little-endian float64 from 8 bytes. */
export function f64(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, 8).getFloat64(0, true);
}

/** Little-endian float32 from 4 bytes. */
export function f32(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, 4).getFloat32(0, true);
}
