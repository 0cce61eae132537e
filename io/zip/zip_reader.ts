/**
 * A small zip reader for checkpoint archives: stored entries come back as views into the file
 * (no copy), deflated ones are inflated with fflate. Zip64 archives are supported.
 * @module
 */
import { inflateSync } from "fflate";
import { crc32 } from "./crc32.ts";

/** One archive member. */
export interface ZipEntry {
  /** Path inside the archive. */
  name: string;
  /** Uncompressed size in bytes. */
  size: number;
  /** Byte offset of the stored data in the file (stored entries only; -1 when deflated). */
  dataOffset: number;
  /** The uncompressed bytes (a view into the file for stored entries), CRC-checked. */
  read(): Uint8Array;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** Whether `bytes` starts like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 &&
    bytes[3] === 4;
}

/**
 * Lists the members of a zip archive, in central-directory order. Throws SyntaxError naming
 * `name` when the archive is malformed, truncated or encrypted.
 */
export function readZip(bytes: Uint8Array, name = "<bytes>"): Map<string, ZipEntry> {
  const fail = (detail: string): never => {
    throw new SyntaxError(`Cannot read zip archive "${name}": ${detail}`);
  };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => v.getUint16(at, true);
  const u32 = (at: number) => v.getUint32(at, true);
  const u64 = (at: number) => {
    const x = v.getBigUint64(at, true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) fail(`size field at byte ${at} is too large`);
    return Number(x);
  };

  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (u32(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail("no end-of-central-directory record (file truncated or not a zip)");
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(loc) !== SIG_LOCATOR64) fail("zip64 locator is missing");
    const e64 = u64(loc + 8);
    if (e64 + 56 > bytes.length || u32(e64) !== SIG_EOCD64) fail("zip64 end record is missing");
    count = u64(e64 + 32);
    cdSize = u64(e64 + 40);
    cdOffset = u64(e64 + 48);
  }
  if (cdOffset + cdSize > bytes.length) {
    fail(`central directory (${cdOffset}+${cdSize}) lies outside ${bytes.length} bytes`);
  }

  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || u32(p) !== SIG_CENTRAL) {
      fail(`central directory entry ${i} at byte ${p} is corrupt`);
    }
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let csize = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let local = u32(p + 42);
    const entryName = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extra field: 64-bit values for exactly the fields saturated at 0xFFFFFFFF.
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
      const id = u16(x), len = u16(x + 2);
      if (id === 0x0001) {
        let f = x + 4;
        if (size === 0xffffffff) (size = u64(f)), (f += 8);
        if (csize === 0xffffffff) (csize = u64(f)), (f += 8);
        if (local === 0xffffffff) local = u64(f);
      }
      x += 4 + len;
    }
    if (flags & 1) fail(`entry "${entryName}" is encrypted`);
    if (method !== 0 && method !== 8) {
      fail(`entry "${entryName}" uses compression method ${method} (only stored and deflate)`);
    }
    if (local + 30 > bytes.length || u32(local) !== SIG_LOCAL) {
      fail(`local header of "${entryName}" at byte ${local} is corrupt`);
    }
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + csize > bytes.length) {
      fail(`entry "${entryName}" is truncated (needs bytes ${start}..${start + csize})`);
    }
    const raw = bytes.subarray(start, start + csize);
    entries.set(entryName, {
      name: entryName,
      size,
      dataOffset: method === 0 ? start : -1,
      read() {
        const data = method === 0 ? raw : inflateSync(raw, { out: new Uint8Array(size) });
        if (data.length !== size) {
          fail(`entry "${entryName}" has ${data.length} bytes, not ${size}`);
        }
        if (crc32(data) !== crc) fail(`entry "${entryName}" fails its CRC-32 check`);
        return data;
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
