/**
 * A minimal protobuf wire-format writer and the encoders of the ONNX messages this project
 * writes. Field numbers are those of `onnx/onnx.proto` (cited beside each field), so the bytes
 * parse as a regular `ModelProto` in onnxruntime and in the `onnx` Python package.
 *
 * Messages are built as lists of byte chunks: embedding a sub-message appends its chunks without
 * copying, so multi-megabyte weights are copied once, in {@linkcode ProtoWriter.finish}.
 * @module
 */

/** Protobuf wire types used here. */
const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const TEXT = new TextEncoder();

/** Builds one protobuf message; fields are appended in call order. */
export class ProtoWriter {
  /** Encoded chunks in order; their total length is {@linkcode ProtoWriter.length}. */
  readonly chunks: Uint8Array[] = [];
  /** Total encoded length in bytes. */
  length = 0;
  #scratch: number[] = [];

  #flushScratch(): void {
    if (this.#scratch.length === 0) return;
    this.#push(Uint8Array.from(this.#scratch));
    this.#scratch = [];
  }

  #push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  #rawVarint(value: bigint | number): void {
    // Negative int64 values are written as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      this.#scratch.push(v === 0n ? low : low | 0x80);
    } while (v !== 0n);
  }

  #tag(field: number, wire: number): void {
    this.#rawVarint((field << 3) | wire);
  }

  /** A varint field (int32, int64, enum, bool). */
  varint(field: number, value: bigint | number): this {
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new RangeError(`Cannot encode protobuf field ${field}: ${value} is not an integer`);
    }
    this.#tag(field, WIRE_VARINT);
    this.#rawVarint(value);
    return this;
  }

  /** A float field (wire type fixed32, little-endian IEEE binary32). */
  float(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#scratch.push(...b);
    return this;
  }

  /** A length-delimited bytes field (the bytes are referenced, not copied). */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(value.length);
    this.#flushScratch();
    if (value.length > 0) this.#push(value);
    return this;
  }

  /** A UTF-8 string field. */
  string(field: number, value: string): this {
    return this.bytes(field, TEXT.encode(value));
  }

  /** An embedded message field (its chunks are referenced, not copied). */
  message(field: number, value: ProtoWriter): this {
    value.#flushScratch();
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(value.length);
    this.#flushScratch();
    for (const c of value.chunks) this.#push(c);
    return this;
  }

  /** A packed repeated varint field (e.g. `repeated int64 ints`). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.#rawVarint(v);
    inner.#flushScratch();
    this.#tag(field, WIRE_LEN);
    this.#rawVarint(inner.length);
    this.#flushScratch();
    for (const c of inner.chunks) this.#push(c);
    return this;
  }

  /** A packed repeated float field (e.g. `repeated float floats`). */
  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(4 * values.length);
    const view = new DataView(b.buffer);
    values.forEach((v, i) => view.setFloat32(4 * i, v, true));
    return this.bytes(field, b);
  }

  /** The whole message as one contiguous array. */
  finish(): Uint8Array {
    this.#flushScratch();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX messages (onnx.proto, IR version 8 / opset 17)

/** `TensorProto.DataType` values (onnx.proto). */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
} as const;

/** Element types a graph tensor may have. */
export type OnnxDType = keyof typeof ONNX_DTYPE;

/** `AttributeProto.AttributeType` values (onnx.proto). */
const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 };

/** A tensor with raw little-endian element bytes. */
export interface OnnxTensor {
  name: string;
  dtype: OnnxDType;
  dims: readonly number[];
  /** Little-endian element bytes, `numel(dims) * elementSize` long. */
  raw: Uint8Array;
}

/** A graph input or output: element type and dims (numbers, or names for symbolic dims). */
export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDType;
  dims: readonly (number | string)[];
}

/** One attribute, already typed. */
export type OnnxAttribute =
  | { name: string; type: "float"; value: number }
  | { name: string; type: "int"; value: number | bigint }
  | { name: string; type: "string"; value: string }
  | { name: string; type: "tensor"; value: OnnxTensor }
  | { name: string; type: "floats"; value: readonly number[] }
  | { name: string; type: "ints"; value: readonly (number | bigint)[] }
  | { name: string; type: "strings"; value: readonly string[] };

/** One node of a graph. */
export interface OnnxNode {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: readonly OnnxAttribute[];
  domain?: string;
}

/** A whole graph. */
export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  docString?: string;
}

/** A model: one graph plus its opset imports and metadata. */
export interface OnnxModel {
  graph: OnnxGraph;
  /** Default-domain opset (17: LayerNormalization is available). */
  opset: number;
  /** IR version matching the opset (8 for opset 17). */
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Readonly<Record<string, string>>;
}

/** `TensorProto`. */
export function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedVarints(1, t.dims); // dims = 1
  w.varint(2, ONNX_DTYPE[t.dtype]); // data_type = 2
  w.string(8, t.name); // name = 8
  w.bytes(9, t.raw); // raw_data = 9
  return w;
}

/** `ValueInfoProto` with a `TypeProto.Tensor` type. */
export function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = new ProtoWriter();
    if (typeof d === "number") dim.varint(1, d); // Dimension.dim_value = 1
    else dim.string(2, d); // Dimension.dim_param = 2
    shape.message(1, dim); // TensorShapeProto.dim = 1
  }
  const tensorType = new ProtoWriter();
  tensorType.varint(1, ONNX_DTYPE[v.dtype]); // TypeProto.Tensor.elem_type = 1
  tensorType.message(2, shape); // TypeProto.Tensor.shape = 2
  const type = new ProtoWriter().message(1, tensorType); // TypeProto.tensor_type = 1
  const w = new ProtoWriter();
  w.string(1, v.name); // ValueInfoProto.name = 1
  w.message(2, type); // ValueInfoProto.type = 2
  return w;
}

/** `AttributeProto` (the `type` field is always set, as IR ≥ 2 requires). */
export function encodeAttribute(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name); // name = 1
  switch (a.type) {
    case "float":
      return w.float(2, a.value).varint(20, ATTR_TYPE.FLOAT); // f = 2, type = 20
    case "int":
      return w.varint(3, a.value).varint(20, ATTR_TYPE.INT); // i = 3
    case "string":
      return w.string(4, a.value).varint(20, ATTR_TYPE.STRING); // s = 4
    case "tensor":
      return w.message(5, encodeTensor(a.value)).varint(20, ATTR_TYPE.TENSOR); // t = 5
    case "floats":
      return w.packedFloats(7, a.value).varint(20, ATTR_TYPE.FLOATS); // floats = 7
    case "ints":
      return w.packedVarints(8, a.value).varint(20, ATTR_TYPE.INTS); // ints = 8
    case "strings":
      for (const s of a.value) w.string(9, s); // strings = 9
      return w.varint(20, ATTR_TYPE.STRINGS);
  }
}

/** `NodeProto`. */
export function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i); // input = 1
  for (const o of n.outputs) w.string(2, o); // output = 2
  w.string(3, n.name); // name = 3
  w.string(4, n.opType); // op_type = 4
  for (const a of n.attributes) w.message(5, encodeAttribute(a)); // attribute = 5
  if (n.domain) w.string(7, n.domain); // domain = 7
  return w;
}

/** `GraphProto`. */
export function encodeGraph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n)); // node = 1
  w.string(2, g.name); // name = 2
  for (const t of g.initializers) w.message(5, encodeTensor(t)); // initializer = 5
  if (g.docString) w.string(10, g.docString); // doc_string = 10
  for (const v of g.inputs) w.message(11, encodeValueInfo(v)); // input = 11
  for (const v of g.outputs) w.message(12, encodeValueInfo(v)); // output = 12
  return w;
}

/** `ModelProto`, serialised. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, m.irVersion); // ir_version = 1
  w.string(2, m.producerName); // producer_name = 2
  w.string(3, m.producerVersion); // producer_version = 3
  if (m.docString) w.string(6, m.docString); // doc_string = 6
  w.message(7, encodeGraph(m.graph)); // graph = 7
  // OperatorSetIdProto: domain = 1 (empty: the default ai.onnx domain), version = 2.
  w.message(8, new ProtoWriter().string(1, "").varint(2, m.opset)); // opset_import = 8
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    // StringStringEntryProto: key = 1, value = 2.
    w.message(14, new ProtoWriter().string(1, key).string(2, value)); // metadata_props = 14
  }
  return w.finish();
}
