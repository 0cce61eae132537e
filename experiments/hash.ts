/**
 * SHA-256 helpers and the identity of an experiment manifest: the SHA-256 of its canonical JSON
 * (RFC 8785).
 * @module
 */
import { canonicalJson } from "./canonical_json.ts";

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** SHA-256 (WebCrypto) of a string's UTF-8 bytes or of raw bytes, as 64 lowercase hex digits. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}

/**
 * The identity of a manifest: `sha256(canonicalJson(manifest))` in hex. Two manifests have the
 * same id exactly when they hold the same data, whatever the key order or spacing of their files.
 *
 * @example
 * ```ts
 * import { manifestId } from "./hash.ts";
 * console.assert((await manifestId({ a: 1, b: 2 })) === (await manifestId({ b: 2, a: 1 })));
 * ```
 */
export function manifestId(manifest: unknown): Promise<string> {
  return sha256Hex(canonicalJson(manifest));
}
