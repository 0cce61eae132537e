/**
 * A zip writer for checkpoint archives: stored (uncompressed) entries, each entry's data padded
 * to an alignment with an extra field as PyTorch's writer does (id "FB"), fixed timestamps so
 * the output is a pure function of the input.
 * @module
 */
import { crc32 } from "./crc32.ts";

/** One member to write. */
export interface ZipInput {
  /** Path inside the archive (UTF-8). */
  name: string;
  /** The member's bytes. */
  data: Uint8Array;
}

const DOS_DATE_1980_01_01 = (1 << 5) | 1; // (year-1980)<<9 | month<<5 | day
const PAD_ID = 0x4246; // "FB": the extra-field id PyTorch uses for alignment padding
const LIMIT = 0xfffffffe; // beyond this the archive would need zip64, which we do not write

/**
 * Builds a zip archive of stored entries, with every entry's data at a multiple of `align`
 * bytes from the start of the file (default 64, as `torch.save` aligns tensor data).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeZip } from "./zip_writer.ts";
 * import { readZip } from "./zip_reader.ts";
 * const zip = writeZip([{ name: "a/b.txt", data: new TextEncoder().encode("hi") }]);
 * assert.ok(new TextDecoder().decode(readZip(zip).get("a/b.txt")!.read()) === "hi");
 * ```
 */
export function writeZip(entries: readonly ZipInput[], align = 64): Uint8Array {
  const enc = new TextEncoder();
  const names = entries.map((e) => enc.encode(e.name));
  // Pass 1: layout (local header offsets and padding).
  const locals: { offset: number; pad: number; crc: number }[] = [];
  let pos = 0;
  entries.forEach((e, i) => {
    const headerEnd = pos + 30 + names[i].length;
    // Extra field = 4-byte header + padding; find the smallest padding reaching the alignment.
    let pad = (align - ((headerEnd + 4) % align)) % align;
    if (align <= 1) pad = -1; // no extra field at all
    locals.push({ offset: pos, pad, crc: crc32(e.data) });
    pos = headerEnd + (pad >= 0 ? 4 + pad : 0) + e.data.length;
  });
  const cdOffset = pos;
  const cdSize = names.reduce((s, n) => s + 46 + n.length, 0);
  const total = cdOffset + cdSize + 22;
  if (total > LIMIT || entries.length > 0xfffe) {
    throw new RangeError(`Cannot write zip archive: ${total} bytes exceeds the 4 GiB zip limit`);
  }
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const u16 = (at: number, x: number) => v.setUint16(at, x, true);
  const u32 = (at: number, x: number) => v.setUint32(at, x, true);
  // Pass 2: local headers and data.
  entries.forEach((e, i) => {
    const { offset: p, pad, crc } = locals[i];
    const extraLen = pad >= 0 ? 4 + pad : 0;
    u32(p, 0x04034b50);
    u16(p + 4, 20); // version needed: 2.0
    u16(p + 6, 0x0800); // flags: UTF-8 names
    u16(p + 8, 0); // method: stored
    u16(p + 10, 0); // time 00:00
    u16(p + 12, DOS_DATE_1980_01_01);
    u32(p + 14, crc);
    u32(p + 18, e.data.length);
    u32(p + 22, e.data.length);
    u16(p + 26, names[i].length);
    u16(p + 28, extraLen);
    out.set(names[i], p + 30);
    let q = p + 30 + names[i].length;
    if (pad >= 0) {
      u16(q, PAD_ID);
      u16(q + 2, pad);
      out.fill(0x5a, q + 4, q + 4 + pad); // "Z", like PyTorch's padding
      q += 4 + pad;
    }
    out.set(e.data, q);
  });
  // Central directory.
  let p = cdOffset;
  entries.forEach((e, i) => {
    u32(p, 0x02014b50);
    u16(p + 4, 20); // made by: 2.0
    u16(p + 6, 20);
    u16(p + 8, 0x0800);
    u16(p + 10, 0);
    u16(p + 12, 0);
    u16(p + 14, DOS_DATE_1980_01_01);
    u32(p + 16, locals[i].crc);
    u32(p + 20, e.data.length);
    u32(p + 24, e.data.length);
    u16(p + 28, names[i].length);
    // extra, comment, disk, internal and external attributes stay 0
    u32(p + 42, locals[i].offset);
    out.set(names[i], p + 46);
    p += 46 + names[i].length;
  });
  u32(p, 0x06054b50);
  u16(p + 8, entries.length);
  u16(p + 10, entries.length);
  u32(p + 12, cdSize);
  u32(p + 16, cdOffset);
  return out;
}
