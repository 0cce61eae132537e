/**
 * JSON Canonicalization Scheme (RFC 8785, "JCS"): the one byte-exact text of a JSON value that
 * experiment identities are hashed from.
 * @module
 */

/** A JSON value as JCS accepts it (I-JSON: finite numbers, well-formed strings). */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};

/**
 * Serialises `value` per RFC 8785: object members sorted by the UTF-16 code units of their names,
 * no whitespace, numbers in ECMAScript's shortest round-trip form (which is what
 * `JSON.stringify` of a finite number produces, `-0` giving `0`), strings with JSON's minimal
 * escapes (`\"`, `\\`, `\b\f\n\r\t`, other controls as lowercase `\u00xx`).
 *
 * Throws a TypeError naming the JSON path for what JCS cannot represent: NaN or Infinity,
 * `undefined`, functions, bigints, symbols, strings with lone surrogates, and objects that are
 * not plain objects or arrays.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "./canonical_json.ts";
 * console.assert(canonicalJson({ b: [1e30, 4.5], a: "€" }) === '{"a":"€","b":[1e+30,4.5]}');
 * ```
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, "$");
}

// Lone surrogates make a string that is not valid Unicode; I-JSON (RFC 7493) forbids them.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serialiseString(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) {
    throw new TypeError(`Cannot canonicalise ${path}: the string has a lone surrogate`);
  }
  // JSON.stringify applies exactly the escapes of RFC 8785 §3.2.2.2 to well-formed strings.
  return JSON.stringify(s);
}

function serialise(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) {
        throw new TypeError(`Cannot canonicalise ${path}: ${value} is not a JSON number`);
      }
      return JSON.stringify(value);
    case "string":
      return serialiseString(value, path);
    case "object":
      break;
    default:
      throw new TypeError(`Cannot canonicalise ${path}: a ${typeof value} is not a JSON value`);
  }
  if (Array.isArray(value)) {
    return "[" + value.map((v, i) => serialise(v, `${path}[${i}]`)).join(",") + "]";
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`Cannot canonicalise ${path}: only plain objects and arrays are JSON`);
  }
  const record = value as Record<string, unknown>;
  // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as JCS wants.
  const keys = Object.keys(record).sort();
  const members = keys.map((k) =>
    serialiseString(k, `${path} key`) + ":" + serialise(record[k], `${path}.${k}`)
  );
  return "{" + members.join(",") + "}";
}
