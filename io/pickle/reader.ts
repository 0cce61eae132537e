/**
 * A safe unpickler: it interprets pickle protocols 0-5 without ever running code. Globals
 * (GLOBAL, STACK_GLOBAL, INST) resolve only through the caller's allow-list; anything else is a
 * {@linkcode ForbiddenGlobalError} naming the global. Persistent ids go to a caller callback.
 *
 * Python values come back as: `None` → `null`, `bool` → `boolean`, `int` → `number` (`bigint`
 * beyond 2^53), `float` → `number`, `str` → `string`, `bytes`/`bytearray` → `Uint8Array`,
 * `list` → `Array`, `tuple` → frozen `Array`, `dict` → `Map`, `set`/`frozenset` → `Set`;
 * allowed callables produce whatever their JavaScript stand-in returns.
 * @module
 */
import { OP } from "./_opcodes.ts";
import { PyObject } from "./values.ts";

/** Returns the stand-in for an allowed global, or `undefined` to refuse it. */
export type GlobalResolver = (module: string, name: string) => unknown;

/** Options of {@linkcode PickleReader}. */
export interface PickleReaderOptions {
  /** File name used in error messages. */
  name?: string;
  /**
   * Error message prefix (default `Cannot read pickle "<name>"`), e.g.
   * `Cannot load checkpoint "model.pt"`.
   */
  errorPrefix?: string;
  /** Which part of the file the stream is, for error messages (e.g. `"archive/data.pkl"`). */
  part?: string;
  /** Allow-list of globals; by default every global is refused. */
  findGlobal?: GlobalResolver;
  /** Supplies the object for a persistent id; when absent, persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

/** A pickle referenced a global that is not on the allow-list. */
export class ForbiddenGlobalError extends Error {
  /** `module.name` of the refused global. */
  readonly global: string;
  /**
   * @param message the full message
   * @param global `module.name`
   */
  constructor(message: string, global: string) {
    super(message);
    this.name = "ForbiddenGlobalError";
    this.global = global;
  }
}

/** A callable stand-in for an allowed class or function: REDUCE/NEWOBJ call it with the args. */
export type PyCallable = (...args: unknown[]) => unknown;

/** A stand-in that creates {@linkcode PyObject}s, for allowed classes kept opaque. */
export function opaqueClass(qualifiedName: string): PyCallable {
  return (...args: unknown[]) => new PyObject(qualifiedName, args);
}

/** BUILD states applied to readers' objects that have no slot for them (e.g. a dict's attributes). */
const buildStates = new WeakMap<object, unknown>();

/** The BUILD state the reader applied to `obj` (e.g. an `OrderedDict`'s `_metadata` attribute). */
export function pickleStateOf(obj: object): unknown {
  return obj instanceof PyObject ? obj.state : buildStates.get(obj);
}

/**
 * Globals that only build plain data: `collections.OrderedDict` (→ `Map`), `_codecs.encode`
 * (how protocol 2 writes bytes), `builtins.set`/`frozenset`/`bytearray` (and their `__builtin__` twins).
 */
export const DATA_GLOBALS: Readonly<Record<string, PyCallable>> = {
  "collections.OrderedDict": (items?: unknown) => {
    const m = new Map<unknown, unknown>();
    if (items !== undefined) {
      for (const kv of items as Iterable<unknown[]>) m.set(kv[0], kv[1]);
    }
    return m;
  },
  "_codecs.encode": (s: unknown, encoding?: unknown) => {
    const str = String(s);
    if (encoding === "latin1" || encoding === "latin-1") {
      const b = new Uint8Array(str.length);
      for (let i = 0; i < str.length; i++) b[i] = str.charCodeAt(i);
      return b;
    }
    return new TextEncoder().encode(str);
  },
  "builtins.set": (items?: unknown) => new Set(items as Iterable<unknown> ?? []),
  "builtins.frozenset": (items?: unknown) => new Set(items as Iterable<unknown> ?? []),
  "builtins.bytearray": bytearray,
  "__builtin__.bytearray": bytearray,
  "__builtin__.set": (items?: unknown) => new Set(items as Iterable<unknown> ?? []),
  "__builtin__.frozenset": (items?: unknown) => new Set(items as Iterable<unknown> ?? []),
};

/** `bytearray()`, `bytearray(b)` or `bytearray(str, encoding)` (protocols < 3 use the last). */
function bytearray(x?: unknown, encoding?: unknown): Uint8Array {
  if (x instanceof Uint8Array) return x.slice();
  if (typeof x === "string") {
    if (encoding === "latin-1" || encoding === "latin1") {
      return Uint8Array.from(x, (c) => c.charCodeAt(0));
    }
    return new TextEncoder().encode(x);
  }
  return new Uint8Array(0);
}

/** Builds a {@linkcode GlobalResolver} from a `"module.name" → stand-in` table. */
export function allowGlobals(table: Readonly<Record<string, unknown>>): GlobalResolver {
  return (module, name) => {
    const key = `${module}.${name}`;
    return Object.hasOwn(table, key) ? table[key] : undefined;
  };
}

/**
 * Reads one or more consecutive pickles from a byte array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PickleReader } from "./reader.ts";
 * // pickle.dumps([1, "a"], protocol=2)
 * const bytes = new Uint8Array([0x80, 2, 0x5d, 0x71, 0, 0x28, 0x4b, 1, 0x58, 1, 0, 0, 0, 0x61, 0x65, 0x2e]);
 * const v = new PickleReader(bytes).load() as unknown[];
 * assert.ok(v[0] === 1 && v[1] === "a");
 * ```
 */
export class PickleReader {
  /** Byte offset of the next opcode (after `load()`: just past its STOP). */
  offset: number;
  readonly #b: Uint8Array;
  readonly #view: DataView;
  readonly #o: PickleReaderOptions;
  readonly #prefix: string;
  #opAt = 0;

  /**
   * @param bytes the stream
   * @param options allow-list, persistent ids, names for errors
   * @param offset where the first pickle starts
   */
  constructor(bytes: Uint8Array, options: PickleReaderOptions = {}, offset = 0) {
    this.#b = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#o = options;
    this.#prefix = options.errorPrefix ?? `Cannot read pickle "${options.name ?? "<bytes>"}"`;
    this.offset = offset;
  }

  /** Interprets opcodes up to the next STOP and returns the resulting value. */
  load(): unknown {
    const stack: unknown[] = [];
    const marks: number[] = [];
    const memo = new Map<number, unknown>();
    const pop = (): unknown => {
      if (stack.length === 0 || stack.length === marks.at(-1)) this.#fail("stack underflow");
      return stack.pop();
    };
    const top = (): unknown => {
      if (stack.length === 0 || stack.length === marks.at(-1)) this.#fail("stack underflow");
      return stack[stack.length - 1];
    };
    const popMark = (): unknown[] => {
      const m = marks.pop();
      if (m === undefined) this.#fail("no MARK on the stack");
      return stack.splice(m!);
    };
    for (;;) {
      this.#opAt = this.offset;
      const op = this.#u8();
      switch (op) {
        case OP.PROTO: {
          const p = this.#u8();
          if (p > 5) this.#fail(`unsupported protocol ${p}`);
          break;
        }
        case OP.FRAME:
          this.#take(8); // frame length: the stream is already in memory
          break;
        case OP.STOP: {
          if (stack.length !== 1 || marks.length) this.#fail("STOP with a malformed stack");
          return stack[0];
        }
        case OP.MARK:
          marks.push(stack.length);
          break;
        case OP.POP:
          if (stack.length === marks.at(-1)) marks.pop(); // CPython pops a bare MARK too
          else pop();
          break;
        case OP.POP_MARK:
          popMark();
          break;
        case OP.DUP:
          stack.push(top());
          break;
        // ints
        case OP.NONE:
          stack.push(null);
          break;
        case OP.NEWTRUE:
          stack.push(true);
          break;
        case OP.NEWFALSE:
          stack.push(false);
          break;
        case OP.BININT:
          stack.push(this.#view.getInt32(this.#take(4), true));
          break;
        case OP.BININT1:
          stack.push(this.#u8());
          break;
        case OP.BININT2:
          stack.push(this.#view.getUint16(this.#take(2), true));
          break;
        case OP.LONG1:
          stack.push(this.#long(this.#u8()));
          break;
        case OP.LONG4: {
          const n = this.#view.getInt32(this.#take(4), true);
          if (n < 0) this.#fail("negative LONG4 length");
          stack.push(this.#long(n));
          break;
        }
        case OP.INT: {
          const s = this.#line();
          if (s === "01") stack.push(true);
          else if (s === "00") stack.push(false);
          else stack.push(this.#parseInt(s));
          break;
        }
        case OP.LONG:
          stack.push(this.#parseInt(this.#line().replace(/L$/, "")));
          break;
        // floats
        case OP.BINFLOAT:
          stack.push(this.#view.getFloat64(this.#take(8), false));
          break;
        case OP.FLOAT: {
          const s = this.#line();
          const x = Number(s.replace(/^(-?)inf$/, "$1Infinity").replace(/^nan$/, "NaN"));
          if (Number.isNaN(x) && s !== "nan") this.#fail(`bad float ${JSON.stringify(s)}`);
          stack.push(x);
          break;
        }
        // strings and bytes
        case OP.BINUNICODE:
          stack.push(this.#utf8(this.#view.getUint32(this.#take(4), true)));
          break;
        case OP.SHORT_BINUNICODE:
          stack.push(this.#utf8(this.#u8()));
          break;
        case OP.BINUNICODE8:
          stack.push(this.#utf8(this.#u64()));
          break;
        case OP.UNICODE:
          stack.push(rawUnicodeEscape(this.#line()));
          break;
        case OP.STRING:
          stack.push(this.#pyStringLiteral(this.#line()));
          break;
        case OP.BINSTRING: {
          const n = this.#view.getInt32(this.#take(4), true);
          if (n < 0) this.#fail("negative BINSTRING length");
          stack.push(decodeLegacyString(this.#bytes(n)));
          break;
        }
        case OP.SHORT_BINSTRING:
          stack.push(decodeLegacyString(this.#bytes(this.#u8())));
          break;
        case OP.BINBYTES:
          stack.push(this.#bytes(this.#view.getUint32(this.#take(4), true)).slice());
          break;
        case OP.SHORT_BINBYTES:
          stack.push(this.#bytes(this.#u8()).slice());
          break;
        case OP.BINBYTES8:
        case OP.BYTEARRAY8:
          stack.push(this.#bytes(this.#u64()).slice());
          break;
        case OP.NEXT_BUFFER:
          this.#fail("out-of-band buffers (NEXT_BUFFER) are not supported");
          break;
        case OP.READONLY_BUFFER:
          top();
          break;
        // containers
        case OP.EMPTY_TUPLE:
          stack.push(Object.freeze([]));
          break;
        case OP.TUPLE:
          stack.push(Object.freeze(popMark()));
          break;
        case OP.TUPLE1:
        case OP.TUPLE2:
        case OP.TUPLE3: {
          const n = op - OP.TUPLE1 + 1;
          const items: unknown[] = [];
          for (let i = 0; i < n; i++) items.unshift(pop());
          stack.push(Object.freeze(items));
          break;
        }
        case OP.EMPTY_LIST:
          stack.push([]);
          break;
        case OP.LIST:
          stack.push(popMark());
          break;
        case OP.APPEND: {
          const x = pop();
          this.#extend(top(), [x]);
          break;
        }
        case OP.APPENDS: {
          const items = popMark();
          this.#extend(top(), items);
          break;
        }
        case OP.EMPTY_DICT:
          stack.push(new Map());
          break;
        case OP.DICT: {
          const items = popMark();
          if (items.length % 2) this.#fail("DICT with an odd number of items");
          const m = new Map<unknown, unknown>();
          for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
          stack.push(m);
          break;
        }
        case OP.SETITEM: {
          const v = pop();
          const k = pop();
          this.#setItems(top(), [k, v]);
          break;
        }
        case OP.SETITEMS: {
          const items = popMark();
          if (items.length % 2) this.#fail("SETITEMS with an odd number of items");
          this.#setItems(top(), items);
          break;
        }
        case OP.EMPTY_SET:
          stack.push(new Set());
          break;
        case OP.ADDITEMS: {
          const items = popMark();
          const s = top();
          if (!(s instanceof Set)) this.#fail("ADDITEMS on a value that is not a set");
          for (const x of items) (s as Set<unknown>).add(x);
          break;
        }
        case OP.FROZENSET:
          stack.push(new Set(popMark()));
          break;
        // memo
        case OP.PUT:
          memo.set(this.#parseIndex(this.#line()), top());
          break;
        case OP.BINPUT:
          memo.set(this.#u8(), top());
          break;
        case OP.LONG_BINPUT:
          memo.set(this.#view.getUint32(this.#take(4), true), top());
          break;
        case OP.MEMOIZE:
          memo.set(memo.size, top());
          break;
        case OP.GET:
          stack.push(this.#memoGet(memo, this.#parseIndex(this.#line())));
          break;
        case OP.BINGET:
          stack.push(this.#memoGet(memo, this.#u8()));
          break;
        case OP.LONG_BINGET:
          stack.push(this.#memoGet(memo, this.#view.getUint32(this.#take(4), true)));
          break;
        // objects
        case OP.GLOBAL: {
          const module = this.#line();
          const name = this.#line();
          stack.push(this.#global(module, name));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = pop();
          const module = pop();
          if (typeof module !== "string" || typeof name !== "string") {
            this.#fail("STACK_GLOBAL with a module or name that is not a str");
          }
          stack.push(this.#global(module as string, name as string));
          break;
        }
        case OP.EXT1:
        case OP.EXT2:
        case OP.EXT4:
          this.#fail("extension-registry globals (EXT1/EXT2/EXT4) are not supported");
          break;
        case OP.REDUCE: {
          const args = pop();
          const fn = pop();
          stack.push(this.#call(fn, args));
          break;
        }
        case OP.NEWOBJ: {
          const args = pop();
          const cls = pop();
          stack.push(this.#call(cls, args));
          break;
        }
        case OP.NEWOBJ_EX: {
          const kwargs = pop();
          const args = pop();
          const cls = pop();
          if (!(kwargs instanceof Map) || kwargs.size) {
            this.#fail("NEWOBJ_EX with keyword arguments is not supported");
          }
          stack.push(this.#call(cls, args));
          break;
        }
        case OP.INST: {
          const module = this.#line();
          const name = this.#line();
          const cls = this.#global(module, name);
          stack.push(this.#call(cls, Object.freeze(popMark())));
          break;
        }
        case OP.OBJ: {
          const items = popMark();
          if (items.length === 0) this.#fail("OBJ without a class");
          stack.push(this.#call(items[0], Object.freeze(items.slice(1))));
          break;
        }
        case OP.BUILD: {
          const state = pop();
          this.#build(top(), state);
          break;
        }
        case OP.PERSID:
          stack.push(this.#persistent(this.#line()));
          break;
        case OP.BINPERSID:
          stack.push(this.#persistent(pop()));
          break;
        default:
          this.#fail(`unknown opcode 0x${op.toString(16).padStart(2, "0")}`);
      }
    }
  }

  #fail(detail: string, at = this.#opAt): never {
    const part = this.#o.part ? ` of ${this.#o.part}` : "";
    throw new SyntaxError(`${this.#prefix}: ${detail} at byte ${at}${part}`);
  }

  #take(n: number): number {
    if (this.offset + n > this.#b.length) {
      this.#fail(
        `pickle is truncated (needs ${n} more bytes, ${this.#b.length - this.offset} left)`,
      );
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  #u8(): number {
    return this.#b[this.#take(1)];
  }

  #u64(): number {
    const n = this.#view.getBigUint64(this.#take(8), true);
    if (n > BigInt(this.#b.length)) this.#fail(`length ${n} exceeds the stream`);
    return Number(n);
  }

  #bytes(n: number): Uint8Array {
    const at = this.#take(n);
    return this.#b.subarray(at, at + n);
  }

  #utf8(n: number): string {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.#bytes(n));
    } catch (e) {
      if (e instanceof SyntaxError) throw e;
      return this.#fail("string is not valid UTF-8");
    }
  }

  #line(): string {
    const end = this.#b.indexOf(0x0a, this.offset);
    if (end < 0) this.#fail("pickle is truncated (missing end of line)");
    let s = "";
    for (let i = this.offset; i < end; i++) s += String.fromCharCode(this.#b[i]);
    this.offset = end + 1;
    return s.replace(/\r$/, "");
  }

  #long(n: number): number | bigint {
    const b = this.#bytes(n);
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
    if (n > 0 && b[n - 1] & 0x80) x -= 1n << BigInt(8 * n);
    return toIntValue(x);
  }

  #parseInt(s: string): number | bigint {
    if (!/^[+-]?\d+$/.test(s)) this.#fail(`bad int ${JSON.stringify(s)}`);
    return toIntValue(BigInt(s));
  }

  #parseIndex(s: string): number {
    if (!/^\d+$/.test(s)) this.#fail(`bad memo index ${JSON.stringify(s)}`);
    return Number(s);
  }

  #memoGet(memo: Map<number, unknown>, i: number): unknown {
    if (!memo.has(i)) this.#fail(`memo entry ${i} was never stored`);
    return memo.get(i);
  }

  #pyStringLiteral(s: string): string {
    const q = s[0];
    if (s.length < 2 || (q !== "'" && q !== '"') || s.at(-1) !== q) {
      this.#fail("STRING argument is not a quoted literal");
    }
    return s.slice(1, -1).replace(
      /\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g,
      (_m, e: string) => {
        if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
        if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
        const simple: Record<string, string> = {
          n: "\n",
          t: "\t",
          r: "\r",
          "0": "\0",
          "\\": "\\",
          "'": "'",
          '"': '"',
        };
        return simple[e] ?? `\\${e}`;
      },
    );
  }

  #global(module: string, name: string): unknown {
    const v = this.#o.findGlobal?.(module, name);
    if (v === undefined) {
      throw new ForbiddenGlobalError(
        `${this.#prefix}: pickle references forbidden global ${module}.${name}`,
        `${module}.${name}`,
      );
    }
    return v;
  }

  #call(fn: unknown, args: unknown): unknown {
    if (typeof fn !== "function") this.#fail("REDUCE/NEWOBJ on a value that is not callable");
    if (!Array.isArray(args)) this.#fail("REDUCE/NEWOBJ arguments are not a tuple");
    try {
      return (fn as PyCallable)(...(args as unknown[]));
    } catch (e) {
      if (e instanceof SyntaxError || e instanceof ForbiddenGlobalError) throw e;
      return this.#fail((e as Error).message);
    }
  }

  #build(obj: unknown, state: unknown): void {
    if (obj instanceof PyObject) obj.state = state;
    else if (typeof obj === "object" && obj !== null) buildStates.set(obj, state);
    else this.#fail("BUILD on a value that is not an object");
  }

  #extend(target: unknown, items: unknown[]): void {
    if (Array.isArray(target) && !Object.isFrozen(target)) target.push(...items);
    else if (target instanceof PyObject) target.items.push(...items);
    else this.#fail("APPEND on a value that is not a list");
  }

  #setItems(target: unknown, kv: unknown[]): void {
    if (target instanceof Map) {
      for (let i = 0; i < kv.length; i += 2) target.set(kv[i], kv[i + 1]);
    } else if (target instanceof PyObject) {
      for (let i = 0; i < kv.length; i += 2) target.items.push(Object.freeze([kv[i], kv[i + 1]]));
    } else this.#fail("SETITEM on a value that is not a dict");
  }

  #persistent(pid: unknown): unknown {
    if (!this.#o.persistentLoad) this.#fail("persistent ids are not allowed in this file");
    try {
      return this.#o.persistentLoad!(pid);
    } catch (e) {
      if (e instanceof SyntaxError || e instanceof ForbiddenGlobalError) throw e;
      return this.#fail((e as Error).message);
    }
  }
}

/** Unpickles the single pickle at the start of `bytes` (see {@linkcode PickleReader}). */
export function unpickle(bytes: Uint8Array, options: PickleReaderOptions = {}): unknown {
  return new PickleReader(bytes, options).load();
}

function toIntValue(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(x)
    : x;
}

/** Python 2 `str` (BINSTRING): UTF-8 when valid, as torch.load decodes, else Latin-1. */
function decodeLegacyString(b: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    let s = "";
    for (const c of b) s += String.fromCharCode(c);
    return s;
  }
}

/** Decodes Python's raw-unicode-escape (the UNICODE opcode's argument, read as Latin-1). */
function rawUnicodeEscape(s: string): string {
  return s.replace(
    /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
    (_m, u4?: string, u8?: string) => String.fromCodePoint(parseInt(u4 ?? u8!, 16)),
  ); // other characters are Latin-1 bytes, already read as the same code points
}
