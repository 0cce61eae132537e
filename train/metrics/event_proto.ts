/**
 * TensorFlow's `Event` protobuf (tensorflow/core/util/event.proto), reduced to scalars and
 * encoded by hand. Field numbers, checked against event.proto and summary.proto:
 *
 *   Event   { double wall_time = 1; int64 step = 2;
 *             oneof what { string file_version = 3; Summary summary = 5; ... } }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; oneof value { float simple_value = 2; ... } }
 *
 * Encoding follows proto3: `step` is left out when 0 (its default); `simple_value` is always
 * written, even when 0, because it sits in a oneof and its presence is what makes the value a
 * scalar. TensorBoard reads `simple_value` scalars as its Scalars dashboard series.
 *
 * @module
 */
import {
  f32,
  f64,
  ProtoWriter,
  readProtoFields,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
} from "./_protobuf.ts";

/** The version string TensorBoard expects in the first event of a file. */
export const EVENT_FILE_VERSION = "brain.Event:2";

/** One scalar of a summary. `value` is stored as float32. */
export interface ScalarValue {
  tag: string;
  value: number;
}

/** An event: either a file-version marker or a summary of scalars (or, when read, neither). */
export interface TbEvent {
  /** Seconds since the Unix epoch. */
  wallTime: number;
  step: number;
  fileVersion?: string;
  values?: ScalarValue[];
}

/**
 * Serializes an event.
 *
 * @param e the event; set exactly one of `fileVersion` and `values`.
 * @returns the protobuf bytes (to be framed by `encodeTfRecord()`).
 */
export function encodeEvent(e: TbEvent): Uint8Array {
  const w = new ProtoWriter().double(1, e.wallTime);
  if (e.step !== 0) w.int64(2, e.step);
  if (e.fileVersion !== undefined) w.string(3, e.fileVersion);
  if (e.values !== undefined) {
    const summary = new ProtoWriter();
    for (const v of e.values) {
      summary.bytes(1, new ProtoWriter().string(1, v.tag).float(2, v.value).finish());
    }
    w.bytes(5, summary.finish());
  }
  return w.finish();
}

/**
 * Parses an event, keeping wall time, step, file version and `simple_value` scalars; other
 * fields (graphs, images, tensors, ...) are skipped.
 *
 * @throws {SyntaxError} on malformed protobuf.
 */
export function decodeEvent(bytes: Uint8Array): TbEvent {
  const e: TbEvent = { wallTime: 0, step: 0 };
  for (const f of readProtoFields(bytes, "Event")) {
    if (f.field === 1 && f.wire === WIRE_FIXED64) e.wallTime = f64(f.data);
    else if (f.field === 2 && f.wire === WIRE_VARINT) e.step = Number(BigInt.asIntN(64, f.varint));
    else if (f.field === 3 && f.wire === WIRE_LEN) e.fileVersion = new TextDecoder().decode(f.data);
    else if (f.field === 5 && f.wire === WIRE_LEN) {
      // Repeated message fields concatenate; a second summary field would add its values.
      e.values = [...(e.values ?? []), ...decodeSummary(f.data)];
    }
  }
  return e;
}

function decodeSummary(bytes: Uint8Array): ScalarValue[] {
  const values: ScalarValue[] = [];
  for (const f of readProtoFields(bytes, "Summary")) {
    if (f.field !== 1 || f.wire !== WIRE_LEN) continue;
    let tag = "", value: number | undefined;
    for (const g of readProtoFields(f.data, "Summary.Value")) {
      if (g.field === 1 && g.wire === WIRE_LEN) tag = new TextDecoder().decode(g.data);
      else if (g.field === 2 && g.wire === WIRE_FIXED32) value = f32(g.data);
    }
    if (value !== undefined) values.push({ tag, value });
  }
  return values;
}
