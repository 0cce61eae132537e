/**
 * The TFRecord container (the framing of TensorBoard event files). Each record is
 *
 *   uint64 length (little-endian) | uint32 masked_crc32c(length bytes) |
 *   byte data[length]             | uint32 masked_crc32c(data)
 *
 * with both CRCs little-endian (see `crc32c.ts` for the mask).
 *
 * @module
 */
import { crc32c, maskCrc32c } from "./crc32c.ts";

/** Bytes of framing around each record's data: 8 + 4 before, 4 after. */
const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;

/**
 * Frames one record.
 *
 * @param data the payload (a serialized protobuf for event files).
 * @returns `length | crc(length) | data | crc(data)`, `data.length + 16` bytes.
 */
export function encodeTfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + data.length + FOOTER_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskCrc32c(crc32c(out.subarray(0, 8))), true);
  out.set(data, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + data.length, maskCrc32c(crc32c(data)), true);
  return out;
}

/**
 * Splits a TFRecord byte stream into its records, verifying both CRCs of every record.
 *
 * @param bytes the whole file.
 * @param name the file name, for error messages.
 * @returns the payloads, in order (views into `bytes`).
 * @throws {SyntaxError} on a truncated record or a CRC mismatch, naming the byte offset.
 */
export function decodeTfRecords(bytes: Uint8Array, name = "TFRecord data"): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < HEADER_BYTES) {
      throw new SyntaxError(`Cannot read ${name}: truncated record header at byte ${off}`);
    }
    const lengthBig = view.getBigUint64(off, true);
    const lengthCrc = view.getUint32(off + 8, true);
    if (maskCrc32c(crc32c(bytes.subarray(off, off + 8))) !== lengthCrc) {
      throw new SyntaxError(
        `Cannot read ${name}: length CRC mismatch in the record at byte ${off}`,
      );
    }
    const end = off + HEADER_BYTES + Number(lengthBig) + FOOTER_BYTES;
    if (lengthBig > BigInt(bytes.length) || end > bytes.length) {
      throw new SyntaxError(
        `Cannot read ${name}: the record at byte ${off} claims ${lengthBig} bytes but the file ends`,
      );
    }
    const data = bytes.subarray(off + HEADER_BYTES, end - FOOTER_BYTES);
    if (maskCrc32c(crc32c(data)) !== view.getUint32(end - FOOTER_BYTES, true)) {
      throw new SyntaxError(`Cannot read ${name}: data CRC mismatch in the record at byte ${off}`);
    }
    records.push(data);
    off = end;
  }
  return records;
}
