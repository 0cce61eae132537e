import assert from "node:assert/strict";
import { join } from "node:path";
import { zipSync } from "fflate";
import { hasTorch, runPython, tempDir } from "../_util.ts";
import { Rng } from "../../kernels/rng/philox.ts";
import { crc32 } from "../../io/zip/crc32.ts";
import { isZip, readZip } from "../../io/zip/zip_reader.ts";
import { writeZip } from "../../io/zip/zip_writer.ts";

const enc = new TextEncoder();

Deno.test("crc32() matches the standard check value and a bitwise reference", () => {
  assert.equal(crc32(enc.encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const bitwise = (b: Uint8Array) => {
    let c = 0xffffffff;
    for (const x of b) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  const rng = new Rng(3);
  for (const n of [1, 7, 8, 9, 15, 16, 17, 1000]) {
    const b = Uint8Array.from({ length: n }, () => rng.int(256));
    assert.equal(crc32(b), bitwise(b), `length ${n}`);
  }
});

Deno.test("writeZip() aligns every entry's data to 64 bytes and readZip() reads it back", () => {
  const entries = [
    { name: "archive/data.pkl", data: enc.encode("pickle bytes") },
    { name: "archive/data/0", data: new Uint8Array(100).map((_, i) => i) },
    { name: "archive/empty", data: new Uint8Array(0) },
    { name: "archive/ünï", data: enc.encode("utf-8 name") },
  ];
  const zip = writeZip(entries);
  assert.ok(isZip(zip));
  const back = readZip(zip, "mem.zip");
  assert.deepEqual([...back.keys()], entries.map((e) => e.name));
  for (const e of entries) {
    const r = back.get(e.name)!;
    assert.equal(r.dataOffset % 64, 0, e.name);
    assert.deepEqual(r.read(), e.data, e.name);
  }
  // Deterministic: the same input gives the same bytes.
  assert.deepEqual(writeZip(entries), zip);
});

Deno.test("readZip() inflates deflated entries written by another zip writer", () => {
  const text = enc.encode("motion ".repeat(500));
  const zip = zipSync({
    "a/b.txt": [text, { level: 9 }],
    "a/c.bin": [new Uint8Array([1, 2]), { level: 0 }],
  });
  const back = readZip(zip, "fflate.zip");
  assert.equal(back.get("a/b.txt")!.dataOffset, -1, "deflated entries have no raw offset");
  assert.deepEqual(back.get("a/b.txt")!.read(), text);
  assert.deepEqual(back.get("a/c.bin")!.read(), new Uint8Array([1, 2]));
});

Deno.test("readZip() rejects truncated or corrupt archives naming the file", () => {
  const zip = writeZip([{ name: "x", data: enc.encode("hello") }]);
  assert.throws(() => readZip(zip.subarray(0, zip.length - 5), "cut.zip"), {
    name: "SyntaxError",
    message:
      'Cannot read zip archive "cut.zip": no end-of-central-directory record (file truncated or not a zip)',
  });
  const bad = zip.slice();
  const entry = readZip(zip).get("x")!;
  bad[entry.dataOffset] ^= 1;
  assert.throws(
    () => readZip(bad, "bad.zip").get("x")!.read(),
    /"bad.zip": entry "x" fails its CRC-32 check/,
  );
});

Deno.test({
  name: "writeZip() output opens in Python's zipfile with intact CRCs",
  ignore: !hasTorch,
  fn: async () => {
    const dir = await tempDir();
    try {
      const path = join(dir.path, "t.zip");
      await Deno.writeFile(
        path,
        writeZip([
          { name: "d/one", data: enc.encode("first") },
          { name: "d/two", data: new Uint8Array(300).fill(9) },
        ]),
      );
      const out = await runPython([
        "-c",
        `import zipfile, sys
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(z.read("d/one").decode(), len(z.read("d/two")), [i.header_offset for i in z.infolist()])`,
        path,
      ]);
      assert.match(out, /^first 300 \[0, \d+\]/);
    } finally {
      await dir.remove();
    }
  },
});

Deno.test("readZip() follows the zip64 end records when the classic fields are saturated", () => {
  const plain = writeZip([{ name: "a", data: enc.encode("zip64 body") }]);
  const eocd = plain.length - 22;
  const pv = new DataView(plain.buffer);
  const count = pv.getUint16(eocd + 10, true);
  const cdSize = pv.getUint32(eocd + 12, true);
  const cdOffset = pv.getUint32(eocd + 16, true);
  // Insert a zip64 end record (56 bytes) and its locator (20 bytes) before the classic record.
  const out = new Uint8Array(plain.length + 76);
  out.set(plain.subarray(0, eocd));
  const v = new DataView(out.buffer);
  const e64 = eocd;
  v.setUint32(e64, 0x06064b50, true);
  v.setBigUint64(e64 + 4, 44n, true); // size of the remaining record
  v.setBigUint64(e64 + 24, BigInt(count), true);
  v.setBigUint64(e64 + 32, BigInt(count), true);
  v.setBigUint64(e64 + 40, BigInt(cdSize), true);
  v.setBigUint64(e64 + 48, BigInt(cdOffset), true);
  v.setUint32(e64 + 56, 0x07064b50, true);
  v.setBigUint64(e64 + 64, BigInt(e64), true);
  v.setUint32(e64 + 72, 1, true); // total disks
  const end = e64 + 76;
  out.set(plain.subarray(eocd), end);
  v.setUint16(end + 8, 0xffff, true);
  v.setUint16(end + 10, 0xffff, true);
  v.setUint32(end + 12, 0xffffffff, true);
  v.setUint32(end + 16, 0xffffffff, true);
  assert.deepEqual(readZip(out, "z64.zip").get("a")!.read(), enc.encode("zip64 body"));
});
