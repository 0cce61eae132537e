/**
 * A pickle writer (protocol 2 by default, as `torch.save` writes; protocol 3+ adds BINBYTES).
 * Python's `pickle.load`, `torch.load` and `numpy.load(allow_pickle=True)` read its output.
 * @module
 */
import { OP } from "./_opcodes.ts";
import {
  PyBuild,
  PyFloat,
  PyGlobal,
  PyPersistentId,
  PyReduce,
  PyTuple,
  type PyValue,
} from "./values.ts";

/** Options of {@linkcode PickleWriter}. */
export interface PickleWriterOptions {
  /**
   * Protocol number written in the PROTO header (2..5, default 2). With 2, `bytes` values are
   * written the way CPython does for that protocol (`_codecs.encode(str, "latin1")`), so the
   * stream stays valid protocol 2; with 3 or more they use BINBYTES.
   */
  protocol?: 2 | 3 | 4 | 5;
  /**
   * Memoize objects (arrays, maps, tuples, reduce/build nodes, globals) so that one JS object
   * referenced twice is written once and read back as one shared Python object (default true).
   */
  memoize?: boolean;
}

const BATCH = 1000; // items per APPENDS/SETITEMS, as CPython batches them

/**
 * Serialises {@linkcode PyValue} trees as a pickle stream. Use {@linkcode PickleWriter.dump} for
 * a whole value; the low-level `write*` methods emit single opcodes for hand-built streams.
 *
 * @example A numpy object array holding one dict (what `np.save("x.npy", np.array([d], dtype=object))`
 * pickles), built from GLOBAL / REDUCE / BUILD nodes:
 * ```ts
 * import assert from "node:assert/strict";
 * import { PickleWriter } from "./writer.ts";
 * import { PyBuild, PyFloat, PyReduce, pyGlobal, tuple } from "./values.ts";
 *
 * const dtypeO = new PyBuild(
 *   new PyReduce(pyGlobal("numpy", "dtype"), ["O8", false, true]),
 *   tuple(3, "|", null, null, null, -1, -1, 63),
 * );
 * const arr = new PyBuild(
 *   new PyReduce(pyGlobal("numpy.core.multiarray", "_reconstruct"), [
 *     pyGlobal("numpy", "ndarray"),
 *     tuple(0),
 *     new Uint8Array([0x62]), // b"b"
 *   ]),
 *   // (version, shape, dtype, is_fortran, items): object arrays carry a list of items
 *   tuple(1, tuple(1), dtypeO, false, [new Map([["reward", new PyFloat(1)]])]),
 * );
 * const bytes = new PickleWriter().dump(arr);
 * assert.ok(bytes[0] === 0x80 && bytes[bytes.length - 1] === 0x2e);
 * ```
 */
export class PickleWriter {
  readonly #protocol: number;
  readonly #memoize: boolean;
  #buf = new Uint8Array(1024);
  #len = 0;
  readonly #memo = new Map<object, number>();
  readonly #active = new Set<object>();
  readonly #globals = new Map<string, number>(); // "module\nname" → memo index
  #nextMemo = 0;

  /** @param options protocol and memoization, see {@linkcode PickleWriterOptions} */
  constructor(options: PickleWriterOptions = {}) {
    this.#protocol = options.protocol ?? 2;
    this.#memoize = options.memoize ?? true;
    if (![2, 3, 4, 5].includes(this.#protocol)) {
      throw new RangeError(`Cannot write pickle: protocol ${this.#protocol} is not 2, 3, 4 or 5`);
    }
  }

  /** Writes `PROTO`, `value`, `STOP` and returns the finished stream (the writer is reset). */
  dump(value: PyValue): Uint8Array {
    this.take();
    this.writeProto();
    this.writeValue(value);
    this.writeOp(OP.STOP);
    return this.take();
  }

  /** Returns the bytes written so far and empties the writer (buffer and memo). */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    this.#len = 0;
    this.#memo.clear();
    this.#globals.clear();
    this.#nextMemo = 0;
    return out;
  }

  /** PROTO header with this writer's protocol. */
  writeProto(): void {
    this.writeOp(OP.PROTO);
    this.#byte(this.#protocol);
  }

  /** One opcode byte with no argument (MARK, TUPLE, REDUCE, BUILD, STOP, ...). */
  writeOp(op: number): void {
    this.#byte(op);
  }

  /** Any value, recursively (see the mapping in `values.ts`). */
  writeValue(v: PyValue): void {
    if (v === null) return this.writeOp(OP.NONE);
    switch (typeof v) {
      case "boolean":
        return this.writeOp(v ? OP.NEWTRUE : OP.NEWFALSE);
      case "number":
        return Number.isSafeInteger(v) && !Object.is(v, -0) ? this.writeInt(v) : this.writeFloat(v);
      case "bigint":
        return this.writeInt(v);
      case "string":
        return this.writeString(v);
    }
    if (v instanceof PyFloat) return this.writeFloat(v.value);
    if (v instanceof PyGlobal) return this.writeGlobal(v.module, v.name);
    if (this.#memoize && this.#memo.has(v)) return this.#get(this.#memo.get(v)!);
    if (this.#active.has(v)) {
      throw new TypeError("Cannot write pickle: value contains a cycle through a tuple or call");
    }
    this.#active.add(v);
    if (v instanceof Uint8Array) this.writeBytes(v);
    else if (Array.isArray(v)) this.#list(v);
    else if (v instanceof PyTuple) this.#tuple(v.items);
    else if (v instanceof PyReduce) {
      this.writeValue(v.callable);
      this.#tuple(v.args);
      this.writeOp(OP.REDUCE);
    } else if (v instanceof PyBuild) {
      this.writeValue(v.obj);
      this.writeValue(v.state);
      this.writeOp(OP.BUILD);
    } else if (v instanceof PyPersistentId) {
      this.writeValue(v.pid);
      this.writeOp(OP.BINPERSID);
    } else if (v instanceof Map) this.#dict(v, v.entries());
    else this.#dict(v, Object.entries(v));
    this.#active.delete(v);
    // Lists and dicts were memoized before their items (so self-references resolve).
    if (this.#memoize && !this.#memo.has(v)) this.#put(v);
  }

  /** An int with the shortest opcode (BININT1, BININT2, BININT or LONG1). */
  writeInt(n: number | bigint): void {
    if (typeof n === "number" && !Number.isSafeInteger(n)) {
      throw new RangeError(`Cannot write pickle: ${n} is not a safe integer`);
    }
    const b = BigInt(n);
    if (b >= 0n && b < 256n) {
      this.writeOp(OP.BININT1);
      this.#byte(Number(b));
    } else if (b >= 0n && b < 65536n) {
      this.writeOp(OP.BININT2);
      this.#u16(Number(b));
    } else if (b >= -(2n ** 31n) && b < 2n ** 31n) {
      this.writeOp(OP.BININT);
      this.#i32(Number(b));
    } else {
      // LONG1: little-endian two's complement, as few bytes as keep the sign.
      const bytes: number[] = [];
      let x = b;
      for (;;) {
        const byte = Number(x & 0xffn);
        bytes.push(byte);
        x >>= 8n;
        if ((x === 0n && !(byte & 0x80)) || (x === -1n && byte & 0x80)) break;
      }
      if (bytes.length > 255) throw new RangeError("Cannot write pickle: int is too large");
      this.writeOp(OP.LONG1);
      this.#byte(bytes.length);
      for (const byte of bytes) this.#byte(byte);
    }
  }

  /** A float (BINFLOAT: 8-byte big-endian double). */
  writeFloat(x: number): void {
    this.writeOp(OP.BINFLOAT);
    const at = this.#reserve(8);
    new DataView(this.#buf.buffer).setFloat64(at, x, false);
  }

  /** A str (BINUNICODE, UTF-8). */
  writeString(s: string): void {
    const b = new TextEncoder().encode(s);
    this.writeOp(OP.BINUNICODE);
    this.#u32(b.length);
    this.#raw(b);
  }

  /** A bytes object (BINBYTES / SHORT_BINBYTES, or `_codecs.encode` under protocol 2). */
  writeBytes(b: Uint8Array): void {
    if (this.#protocol >= 3) {
      if (b.length < 256) {
        this.writeOp(OP.SHORT_BINBYTES);
        this.#byte(b.length);
      } else {
        this.writeOp(OP.BINBYTES);
        this.#u32(b.length);
      }
      this.#raw(b);
      return;
    }
    this.writeGlobal("_codecs", "encode");
    let latin1 = "";
    for (let i = 0; i < b.length; i++) latin1 += String.fromCharCode(b[i]);
    this.writeString(latin1);
    this.writeString("latin1");
    this.writeOp(OP.TUPLE2);
    this.writeOp(OP.REDUCE);
  }

  /** GLOBAL `module\nname\n` (memoized per name when memoization is on). */
  writeGlobal(module: string, name: string): void {
    if (/[\n]/.test(module + name)) {
      throw new TypeError(`Cannot write pickle: global ${module}.${name} contains a newline`);
    }
    const key = `${module}\n${name}`;
    const known = this.#globals.get(key);
    if (this.#memoize && known !== undefined) return this.#get(known);
    this.writeOp(OP.GLOBAL);
    this.#raw(new TextEncoder().encode(`${key}\n`));
    if (this.#memoize) this.#globals.set(key, this.#put(null));
  }

  #list(items: PyValue[]): void {
    this.writeOp(OP.EMPTY_LIST);
    if (this.#memoize) this.#put(items);
    for (let i = 0; i < items.length; i += BATCH) {
      this.writeOp(OP.MARK);
      for (const x of items.slice(i, i + BATCH)) this.writeValue(x);
      this.writeOp(OP.APPENDS);
    }
  }

  #dict(obj: object, entries: Iterable<[PyValue, PyValue]>): void {
    this.writeOp(OP.EMPTY_DICT);
    const all = [...entries];
    if (this.#memoize) this.#put(obj);
    for (let i = 0; i < all.length; i += BATCH) {
      this.writeOp(OP.MARK);
      for (const [k, x] of all.slice(i, i + BATCH)) {
        this.writeValue(k);
        this.writeValue(x);
      }
      this.writeOp(OP.SETITEMS);
    }
  }

  #tuple(items: PyValue[]): void {
    const n = items.length;
    if (n === 0) return this.writeOp(OP.EMPTY_TUPLE);
    if (n > 3) this.writeOp(OP.MARK);
    for (const x of items) this.writeValue(x);
    this.writeOp(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : n === 3 ? OP.TUPLE3 : OP.TUPLE);
  }

  /** Stores the top of the stack in the next memo slot; `obj` (if any) maps to that slot. */
  #put(obj: object | null): number {
    const idx = this.#nextMemo++;
    if (obj !== null) this.#memo.set(obj, idx);
    if (idx < 256) {
      this.writeOp(OP.BINPUT);
      this.#byte(idx);
    } else {
      this.writeOp(OP.LONG_BINPUT);
      this.#u32(idx);
    }
    return idx;
  }

  #get(idx: number): void {
    if (idx < 256) {
      this.writeOp(OP.BINGET);
      this.#byte(idx);
    } else {
      this.writeOp(OP.LONG_BINGET);
      this.#u32(idx);
    }
  }

  #reserve(n: number): number {
    if (this.#len + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    const at = this.#len;
    this.#len += n;
    return at;
  }

  #byte(b: number): void {
    const at = this.#reserve(1); // may replace #buf: reserve before reading the field
    this.#buf[at] = b;
  }

  #u16(x: number): void {
    const at = this.#reserve(2);
    new DataView(this.#buf.buffer).setUint16(at, x, true);
  }

  #u32(x: number): void {
    const at = this.#reserve(4);
    new DataView(this.#buf.buffer).setUint32(at, x, true);
  }

  #i32(x: number): void {
    const at = this.#reserve(4);
    new DataView(this.#buf.buffer).setInt32(at, x, true);
  }

  #raw(b: Uint8Array): void {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
  }
}
