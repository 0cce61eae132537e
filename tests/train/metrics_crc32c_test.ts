/** CRC-32C known answers, the TFRecord mask, and TFRecord framing. */
import assert from "node:assert/strict";
import { crc32c, maskCrc32c, unmaskCrc32c } from "../../train/metrics/crc32c.ts";
import { decodeTfRecords, encodeTfRecord } from "../../train/metrics/tfrecord.ts";
import { Rng } from "../../kernels/rng/philox.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

Deno.test("crc32c() matches the published check values", () => {
  assert.equal(crc32c(ascii("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // RFC 3720 (iSCSI) appendix B.4 test vectors.
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

Deno.test("maskCrc32c() rotates right by 15 and adds 0xa282ead8", () => {
  assert.equal(maskCrc32c(0), 0xa282ead8);
  // 0x80000000 rotated right by 15 is 0x00010000.
  assert.equal(maskCrc32c(0x80000000), 0xa283ead8);
  // 0xffffffff rotates to itself; + delta wraps modulo 2^32.
  assert.equal(maskCrc32c(0xffffffff), 0xa282ead7);
  const rng = new Rng(7);
  for (let i = 0; i < 100; i++) {
    const c = rng.nextU32();
    assert.equal(unmaskCrc32c(maskCrc32c(c)), c);
  }
});

Deno.test("encodeTfRecord() frames data and decodeTfRecords() reads it back", () => {
  const a = ascii("hello"), b = new Uint8Array(0);
  const rec = encodeTfRecord(a);
  assert.equal(rec.length, 5 + 16);
  const view = new DataView(rec.buffer);
  assert.equal(view.getBigUint64(0, true), 5n);
  assert.equal(view.getUint32(8, true), maskCrc32c(crc32c(rec.subarray(0, 8))));
  assert.equal(view.getUint32(17, true), maskCrc32c(crc32c(a)));
  const stream = new Uint8Array([...rec, ...encodeTfRecord(b)]);
  const out = decodeTfRecords(stream);
  assert.deepEqual(out.map((r) => [...r]), [[...a], []]);
});

Deno.test("decodeTfRecords() rejects any flipped byte and a truncated file", () => {
  const stream = new Uint8Array([...encodeTfRecord(ascii("abc")), ...encodeTfRecord(ascii("de"))]);
  for (let i = 0; i < stream.length; i++) {
    const bad = stream.slice();
    bad[i] ^= 0x01;
    assert.throws(() => decodeTfRecords(bad, "x"), SyntaxError, `flip at byte ${i}`);
  }
  assert.throws(
    () => decodeTfRecords(stream.subarray(0, stream.length - 1), "x"),
    /Cannot read x: the record at byte 19 claims 2 bytes but the file ends/,
  );
});
