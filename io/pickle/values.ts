/**
 * The value model the pickle writer serialises and the reader produces for Python objects that
 * have no natural JavaScript twin.
 *
 * Mapping used by both directions:
 * - `None` ↔ `null`; `bool` ↔ `boolean`; `str` ↔ `string`; `bytes` ↔ `Uint8Array`
 * - `int` ↔ safe-integer `number` (or `bigint` beyond 2^53); `float` ↔ any other `number`
 *   (non-integral, beyond 2^53, `-0`, NaN, ±Infinity), or any number wrapped in
 *   {@linkcode PyFloat} (so `1.0` stays a float)
 * - `list` ↔ `Array`; `tuple` → {@linkcode PyTuple} when writing, a frozen `Array` when reading
 * - `dict` ↔ `Map` (a plain object with string keys is also written as a dict)
 * @module
 */

/** A Python `tuple` to write (the reader returns tuples as frozen arrays instead). */
export class PyTuple {
  /** @param items the tuple's elements */
  constructor(readonly items: PyValue[]) {}
}

/** A Python `float`, written as BINFLOAT even when the number is integral. */
export class PyFloat {
  /** @param value the float's value */
  constructor(readonly value: number) {}
}

/** A module-level Python object referenced by name (GLOBAL opcode), e.g. a class or function. */
export class PyGlobal {
  /**
   * @param module dotted module path, e.g. `"collections"`
   * @param name attribute name, e.g. `"OrderedDict"`
   */
  constructor(readonly module: string, readonly name: string) {}
  /** `module.name`, as error messages print it. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `callable(*args)` (REDUCE opcode): how pickles construct most objects. */
export class PyReduce {
  /**
   * @param callable usually a {@linkcode PyGlobal}
   * @param args positional arguments (written as a tuple)
   */
  constructor(readonly callable: PyValue, readonly args: PyValue[]) {}
}

/** `obj.__setstate__(state)` or `obj.__dict__.update(state)` (BUILD opcode). */
export class PyBuild {
  /**
   * @param obj the object to finish, typically a {@linkcode PyReduce}
   * @param state its state, often a tuple or dict
   */
  constructor(readonly obj: PyValue, readonly state: PyValue) {}
}

/** A persistent id (BINPERSID opcode): the unpickler's `persistent_load(pid)` supplies the object. */
export class PyPersistentId {
  /** @param pid the id, a tuple for torch storages */
  constructor(readonly pid: PyValue) {}
}

/** Anything the pickle writer can serialise. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyFloat
  | PyGlobal
  | PyReduce
  | PyBuild
  | PyPersistentId
  | Map<PyValue, PyValue>
  | { [key: string]: PyValue };

/**
 * An instance of an allowed class that the reader cannot represent natively: it keeps the
 * constructor arguments and the BUILD state for the caller to interpret.
 */
export class PyObject {
  /** BUILD state applied to the object (undefined when never built). */
  state: unknown = undefined;
  /** Items appended (APPENDS on a list subclass) or set (SETITEMS on a dict subclass). */
  readonly items: unknown[] = [];
  /**
   * @param className `module.name` of the class
   * @param args constructor arguments
   */
  constructor(readonly className: string, readonly args: readonly unknown[]) {}
}

/** Shorthand for `new PyTuple(items)`. */
export function tuple(...items: PyValue[]): PyTuple {
  return new PyTuple(items);
}

/** Shorthand for `new PyGlobal(module, name)`. */
export function pyGlobal(module: string, name: string): PyGlobal {
  return new PyGlobal(module, name);
}
