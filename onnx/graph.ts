/**
 * A small typed ONNX graph builder: declare inputs (with symbolic dims), add initializers and
 * nodes, declare outputs, serialise to `ModelProto` bytes (opset 17, IR 8).
 * @module
 */
import { numel, tensorBytes, type TensorData } from "../models/checkpoint/state_dict.ts";
import {
  encodeModel,
  type OnnxAttribute,
  type OnnxDType,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from "./proto.ts";

/** A float attribute whose value happens to be an integer (plain integers become INT). */
export class FloatAttr {
  constructor(readonly value: number) {}
}

/** A list attribute of floats (plain number lists of integers become INTS). */
export class FloatsAttr {
  constructor(readonly value: readonly number[]) {}
}

/**
 * Attribute values: integers → INT, other numbers → FLOAT, strings → STRING, number lists →
 * INTS when all are integers else FLOATS, string lists → STRINGS; wrap in {@linkcode FloatAttr} /
 * {@linkcode FloatsAttr} to force floats.
 */
export type AttrValue =
  | number
  | bigint
  | string
  | readonly number[]
  | readonly string[]
  | FloatAttr
  | FloatsAttr;

/** Options of {@linkcode GraphBuilder.toBytes}. */
export interface ModelOptions {
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Stored as `metadata_props` (e.g. the source checkpoint and its sizes). */
  metadata?: Readonly<Record<string, string>>;
}

/** Default-domain opset the builders target. */
export const OPSET = 17;
/** IR version that goes with {@linkcode OPSET}. */
export const IR_VERSION = 8;

/**
 * Builds one ONNX graph.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphBuilder } from "./graph.ts";
 * const g = new GraphBuilder("relu");
 * g.input("x", "float32", ["N"]);
 * g.node("Relu", ["x"], ["y"]);
 * g.output("y", "float32", ["N"]);
 * assert.ok(g.toBytes().length > 0);
 * ```
 */
export class GraphBuilder {
  readonly #nodes: OnnxNode[] = [];
  readonly #initializers: OnnxTensor[] = [];
  readonly #inputs: OnnxValueInfo[] = [];
  readonly #outputs: OnnxValueInfo[] = [];
  readonly #names = new Set<string>();
  #counter = 0;

  constructor(readonly name: string) {}

  #claim(name: string, what: string): string {
    if (this.#names.has(name)) {
      throw new Error(`Cannot add ${what} "${name}" to graph ${this.name}: the name is taken`);
    }
    this.#names.add(name);
    return name;
  }

  /** A fresh value name `prefix_<n>` not used so far. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.#counter++}`; while (this.#names.has(name));
    return name;
  }

  /** Declares a graph input; dims are numbers or symbolic names ("B", "T"). */
  input(name: string, dtype: OnnxDType, dims: readonly (number | string)[]): string {
    this.#inputs.push({ name: this.#claim(name, "input"), dtype, dims: [...dims] });
    return name;
  }

  /** Declares a graph output (a value some node produces). */
  output(name: string, dtype: OnnxDType, dims: readonly (number | string)[]): string {
    this.#outputs.push({ name, dtype, dims: [...dims] });
    return name;
  }

  /**
   * Adds a constant weight. A Float32Array needs `dims`; a TensorData keeps its dtype and uses
   * its own shape unless `dims` (same element count) is given.
   */
  initializer(name: string, value: TensorData | Float32Array, dims?: readonly number[]): string {
    const tensor = toOnnxTensor(name, value, dims);
    this.#claim(name, "initializer");
    this.#initializers.push(tensor);
    return name;
  }

  /** An int64 constant (shapes, axes, indices) as an initializer with a fresh name. */
  int64(prefix: string, values: readonly number[], dims: readonly number[] = [values.length]) {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.initializer(this.fresh(prefix), { dtype: "int64", shape: [...dims], data });
  }

  /** A float32 constant as an initializer with a fresh name. */
  float32(prefix: string, values: readonly number[], dims: readonly number[] = [values.length]) {
    return this.initializer(this.fresh(prefix), Float32Array.from(values), dims);
  }

  /**
   * Adds a node; returns its output names. An output written as a prefix ending in "?" gets a
   * fresh name (`"h?"` → `"h_7"`), an empty name omits an optional output; other output names
   * must be new to the graph.
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Readonly<Record<string, AttrValue>> = {},
  ): string[] {
    // An empty output name leaves an optional output out (ONNX convention).
    const outs = outputs.map((o) =>
      o === "" ? "" : o.endsWith("?") ? this.fresh(o.slice(0, -1)) : this.#claim(o, "value")
    );
    for (const o of outs) if (o !== "") this.#names.add(o);
    const attributes = Object.entries(attrs).map(([k, v]) => toAttribute(k, v));
    this.#nodes.push({
      opType,
      name: `${opType}_${this.#nodes.length}`,
      inputs: [...inputs],
      outputs: outs,
      attributes,
    });
    return outs;
  }

  /** Adds a single-output node with a fresh output name; returns that name. */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}) {
    return this.node(opType, inputs, [`${opType.toLowerCase()}?`], attrs)[0];
  }

  /** Serialises the graph as a `ModelProto`. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    if (this.#outputs.length === 0) {
      throw new Error(`Cannot serialise graph ${this.name}: it declares no outputs`);
    }
    return encodeModel({
      graph: {
        name: this.name,
        nodes: this.#nodes,
        initializers: this.#initializers,
        inputs: this.#inputs,
        outputs: this.#outputs,
      },
      opset: OPSET,
      irVersion: IR_VERSION,
      producerName: options.producerName ?? "motion-grpo",
      producerVersion: options.producerVersion ?? "0.1.0",
      docString: options.docString,
      metadata: options.metadata,
    });
  }
}

function toOnnxTensor(
  name: string,
  value: TensorData | Float32Array,
  dims?: readonly number[],
): OnnxTensor {
  const t: TensorData = value instanceof Float32Array
    ? { dtype: "float32", shape: [...(dims ?? [value.length])], data: value }
    : value;
  const shape = dims ?? t.shape;
  if (numel(shape) !== t.data.length) {
    throw new RangeError(
      `Cannot add initializer "${name}": dims [${shape.join(", ")}] need ${
        numel(shape)
      } elements, the data has ${t.data.length}`,
    );
  }
  return { name, dtype: t.dtype, dims: [...shape], raw: tensorBytes(t) };
}

function toAttribute(name: string, v: AttrValue): OnnxAttribute {
  if (v instanceof FloatAttr) return { name, type: "float", value: v.value };
  if (v instanceof FloatsAttr) return { name, type: "floats", value: v.value };
  if (typeof v === "bigint") return { name, type: "int", value: v };
  if (typeof v === "number") {
    return Number.isInteger(v)
      ? { name, type: "int", value: v }
      : { name, type: "float", value: v };
  }
  if (typeof v === "string") return { name, type: "string", value: v };
  if (v.length > 0 && v.every((x): x is string => typeof x === "string")) {
    return { name, type: "strings", value: v as readonly string[] };
  }
  const nums = v as readonly number[];
  return nums.every(Number.isInteger)
    ? { name, type: "ints", value: nums }
    : { name, type: "floats", value: nums };
}
