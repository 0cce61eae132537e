import assert from "node:assert/strict";
import { canonicalJson } from "../../experiments/canonical_json.ts";
import { manifestId, sha256Hex } from "../../experiments/hash.ts";

/** The IEEE 754 double with the given bit pattern (RFC 8785 Appendix B lists numbers so). */
function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt("0x" + hex));
  return view.getFloat64(0);
}

Deno.test("canonicalJson() reproduces the RFC 8785 §3.2.2 example", () => {
  const input = JSON.parse(String.raw`{
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  }`);
  const expected = String
    .raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
  assert.equal(canonicalJson(input), expected);
});

Deno.test("canonicalJson() sorts keys by UTF-16 code units (RFC 8785 §3.2.3)", () => {
  const input = {
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis",
  };
  const keys = Object.keys(JSON.parse(canonicalJson(input)));
  // Integer-like keys come first in JS key order, so compare the text order instead.
  const order = [...canonicalJson(input).matchAll(/"([^"]*)":/g)].map((m) =>
    JSON.parse(`"${m[1]}"`)
  );
  assert.deepEqual(order, ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"]);
  assert.equal(keys.length, 7);
});

Deno.test("canonicalJson() writes RFC 8785 Appendix B numbers", () => {
  const vectors: [string, string][] = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ];
  for (const [bits, text] of vectors) assert.equal(canonicalJson(double(bits)), text, bits);
});

Deno.test("canonicalJson() rejects NaN, Infinity and non-JSON values, naming the path", () => {
  assert.throws(() => canonicalJson(double("7fffffffffffffff")), /\$: NaN is not a JSON number/);
  assert.throws(() => canonicalJson({ a: [1, Infinity] }), /\$\.a\[1\]: Infinity/);
  assert.throws(() => canonicalJson({ a: undefined }), /\$\.a: a undefined/);
  assert.throws(() => canonicalJson({ d: new Date(0) }), /\$\.d: only plain objects/);
  assert.throws(() => canonicalJson("\ud800x"), /lone surrogate/);
});

Deno.test("canonicalJson() has no whitespace and keeps nested key order canonical", () => {
  assert.equal(canonicalJson({ b: { d: [], c: {} }, a: " x " }), '{"a":" x ","b":{"c":{},"d":[]}}');
});

Deno.test("sha256Hex() matches the FIPS 180-2 'abc' vector", async () => {
  assert.equal(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("manifestId() is the SHA-256 of the canonical JSON, whatever the key order", async () => {
  const a = { name: "x", params: { alpha: 0.5, beta_s: 1 } };
  const b = { params: { beta_s: 1, alpha: 0.5 }, name: "x" };
  assert.equal(await manifestId(a), await manifestId(b));
  assert.equal(
    await manifestId(a),
    await sha256Hex('{"name":"x","params":{"alpha":0.5,"beta_s":1}}'),
  );
  assert.notEqual(
    await manifestId(a),
    await manifestId({ ...a, params: { alpha: 0.0, beta_s: 1 } }),
  );
});
