/**
 * CRC-32C (Castagnoli), the checksum of TFRecord files, and the "masked" form TFRecord stores.
 *
 * CRC-32C uses the reflected polynomial 0x82F63B78 (bit-reversed 0x1EDC6F41), initial value
 * 0xFFFFFFFF and a final XOR with 0xFFFFFFFF; known answer `crc32c("123456789") = 0xE3069283`.
 * It is computed with one 256-entry table, byte by byte: event records are a few hundred bytes,
 * so slicing-by-8 would buy nothing measurable.
 *
 * @module
 */

/** The reflected Castagnoli polynomial. */
const POLY_REFLECTED = 0x82f63b78;

/** TFRecord's mask constant, added after the rotation. */
const MASK_DELTA = 0xa282ead8;

/** table[b] = CRC of the single byte b (without the initial/final inversion). */
const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256); // (256)
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = (c & 1) ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[b] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32C of `bytes`, as an unsigned 32-bit integer.
 *
 * @param bytes the data.
 * @returns the checksum in [0, 2^32).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
 * ```
 */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * TFRecord's masked CRC: `((crc >>> 15) | (crc << 17)) + 0xa282ead8` modulo 2^32. The mask keeps
 * a CRC stored next to the data it covers from being confused with data (a CRC of a CRC is
 * degenerate).
 *
 * @param crc an unsigned 32-bit CRC.
 * @returns the masked value in [0, 2^32).
 */
export function maskCrc32c(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + MASK_DELTA) >>> 0;
}

/**
 * The inverse of `maskCrc32c()`.
 *
 * @param masked a masked CRC as stored in a TFRecord.
 * @returns the plain CRC.
 */
export function unmaskCrc32c(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}
