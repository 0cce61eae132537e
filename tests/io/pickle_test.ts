import assert from "node:assert/strict";
import { join } from "node:path";
import { hasTorch, runPython, tempDir } from "../_util.ts";
import {
  allowGlobals,
  DATA_GLOBALS,
  ForbiddenGlobalError,
  opaqueClass,
  PickleReader,
  pickleStateOf,
  unpickle,
} from "../../io/pickle/reader.ts";
import { PickleWriter } from "../../io/pickle/writer.ts";
import {
  PyBuild,
  PyFloat,
  pyGlobal,
  PyObject,
  PyPersistentId,
  PyReduce,
  type PyValue,
  tuple,
} from "../../io/pickle/values.ts";

const GOLDEN = new URL("../golden/pt/", import.meta.url).pathname;
const PICKLES: Record<string, string> = JSON.parse(
  await Deno.readTextFile(join(GOLDEN, "pickles.json")),
);
const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16)));

for (const protocol of ["0", "1", "2", "3", "4", "5"]) {
  Deno.test(`PickleReader reads CPython protocol ${protocol} output exactly`, () => {
    const v = unpickle(hex(PICKLES[protocol]), {
      name: `p${protocol}.pkl`,
      findGlobal: allowGlobals(DATA_GLOBALS),
    }) as Map<unknown, unknown>;
    assert.deepEqual(v.get("ints"), [
      0,
      1,
      255,
      256,
      65535,
      65536,
      -1,
      -(2 ** 31),
      2 ** 31,
      2n ** 62n,
      -(2n ** 70n),
    ]);
    assert.deepEqual(v.get("floats"), [0.5, -1e300, Infinity]);
    assert.deepEqual(v.get("consts"), [null, true, false]);
    const tuples = v.get("tuples") as unknown[][];
    assert.deepEqual(tuples, [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]);
    assert.ok(tuples.every((t) => Object.isFrozen(t)), "tuples are frozen arrays");
    assert.equal(v.get("text"), "h\u00e9llo \u2603\n\\ 'q\"");
    assert.deepEqual(v.get("bytes"), new Uint8Array([0, 0xff, 0x80, 0x61, 0x62, 0x63]));
    assert.deepEqual(v.get("bytearray"), new Uint8Array([0x78, 0x79]));
    assert.deepEqual(v.get("set"), new Set([3]));
    assert.deepEqual(v.get("frozenset"), new Set([4]));
    const nested = v.get("nested") as Map<unknown, unknown>;
    assert.deepEqual(nested.get("k"), new Map([["deep", [1.25]]]));
    assert.equal(nested.get(5), "int key");
    const shared = v.get("shared") as unknown[][];
    assert.equal(shared[0], shared[1], "memo keeps shared objects shared");
    assert.deepEqual(v.get("long_list"), Array.from({ length: 1500 }, (_, i) => i));
  });
}

Deno.test("PickleWriter output reads back through PickleReader unchanged", () => {
  const shared: PyValue[] = [1, "two"];
  const value = new Map<PyValue, PyValue>([
    ["ints", [
      0,
      255,
      256,
      65535,
      65536,
      -1,
      -(2 ** 31),
      2 ** 31,
      2 ** 53 - 1,
      2n ** 70n,
      -(2n ** 64n),
    ]],
    ["floats", [0.25, new PyFloat(3), -0, NaN, -Infinity]],
    ["misc", [null, true, false, "", "ünïcödé ☃", new Uint8Array([0, 200])]],
    ["tuple", tuple(1, tuple(), tuple(2, 3, 4, 5))],
    ["a", shared],
    ["b", shared],
    [7, { plain: "object" }],
    ["big", Array.from({ length: 2500 }, (_, i) => i)],
  ]);
  for (const protocol of [2, 3, 4, 5] as const) {
    for (const memoize of [true, false]) {
      const bytes = new PickleWriter({ protocol, memoize }).dump(value);
      const back = unpickle(bytes, { findGlobal: allowGlobals(DATA_GLOBALS) }) as Map<
        unknown,
        unknown
      >;
      const label = `protocol ${protocol}, memoize ${memoize}`;
      assert.deepEqual(back.get("ints"), [
        0,
        255,
        256,
        65535,
        65536,
        -1,
        -(2 ** 31),
        2 ** 31,
        2 ** 53 - 1,
        2n ** 70n,
        -(2n ** 64n),
      ], label);
      assert.deepEqual(back.get("floats"), [0.25, 3, -0, NaN, -Infinity], label);
      assert.deepEqual(back.get("misc"), [
        null,
        true,
        false,
        "",
        "ünïcödé ☃",
        new Uint8Array([0, 200]),
      ], label);
      assert.deepEqual(back.get("tuple"), [1, [], [2, 3, 4, 5]], label);
      assert.equal(back.get("a") === back.get("b"), memoize, label);
      assert.deepEqual(back.get(7), new Map([["plain", "object"]]), label);
      assert.equal((back.get("big") as number[]).length, 2500, label);
    }
  }
});

Deno.test("PickleWriter writes GLOBAL/REDUCE/BUILD/BINPERSID that the reader resolves", () => {
  const value = new PyBuild(
    new PyReduce(pyGlobal("my.module", "Thing"), [1, "a"]),
    new Map<PyValue, PyValue>([["state", new PyPersistentId(tuple("storage", 3))]]),
  );
  const bytes = new PickleWriter().dump(value);
  const pids: unknown[] = [];
  const back = unpickle(bytes, {
    findGlobal: allowGlobals({ "my.module.Thing": opaqueClass("my.module.Thing") }),
    persistentLoad: (pid) => (pids.push(pid), "loaded"),
  }) as PyObject;
  assert.ok(back instanceof PyObject);
  assert.equal(back.className, "my.module.Thing");
  assert.deepEqual(back.args, [1, "a"]);
  assert.deepEqual(pickleStateOf(back), new Map([["state", "loaded"]]));
  assert.deepEqual(pids, [["storage", 3]]);
});

Deno.test("PickleReader refuses globals off the allow-list and names them", () => {
  // pickle.dumps(os.system) style stream: GLOBAL 'os system', then STOP.
  const enc = new TextEncoder();
  const bytes = new Uint8Array([0x80, 2, ...enc.encode("cos\nsystem\n"), 0x2e]);
  assert.throws(() => unpickle(bytes, { name: "evil.pkl" }), (e: Error) => {
    assert.ok(e instanceof ForbiddenGlobalError);
    assert.equal(e.global, "os.system");
    assert.equal(
      e.message,
      'Cannot read pickle "evil.pkl": pickle references forbidden global os.system',
    );
    return true;
  });
  // STACK_GLOBAL (protocol 4) is checked the same way.
  const w = new PickleWriter({ protocol: 4 });
  w.writeProto();
  w.writeString("builtins");
  w.writeString("eval");
  w.writeOp(0x93);
  w.writeOp(0x2e);
  assert.throws(
    () =>
      unpickle(w.take(), {
        findGlobal: allowGlobals(DATA_GLOBALS),
        errorPrefix: 'Cannot load checkpoint "m.pt"',
      }),
    { message: 'Cannot load checkpoint "m.pt": pickle references forbidden global builtins.eval' },
  );
});

Deno.test("PickleReader reports truncated and malformed streams with the byte offset", () => {
  const good = new PickleWriter().dump(["abc", 1.5, 70000]);
  assert.throws(() => unpickle(good.subarray(0, good.length - 1), { name: "t.pkl" }), {
    name: "SyntaxError",
    message:
      `Cannot read pickle "t.pkl": pickle is truncated (needs 1 more bytes, 0 left) at byte ${
        good.length - 1
      }`,
  });
  assert.throws(() => unpickle(good.subarray(0, 9), { name: "t.pkl" }), /truncated .* at byte 6$/);
  assert.throws(
    () => unpickle(new Uint8Array([0x80, 2, 0xff]), { name: "x.pkl", part: "archive/data.pkl" }),
    { message: 'Cannot read pickle "x.pkl": unknown opcode 0xff at byte 2 of archive/data.pkl' },
  );
  assert.throws(() => unpickle(new Uint8Array([0x80, 2, 0x61, 0x2e])), /stack underflow at byte 2/);
  assert.throws(
    () => unpickle(new Uint8Array([0x80, 2, 0x68, 9, 0x2e])),
    /memo entry 9 was never stored/,
  );
  assert.throws(
    () => unpickle(new Uint8Array([0x80, 2, 0x4e, 0x51, 0x2e])),
    /persistent ids are not allowed in this file at byte 3/,
  );
});

Deno.test("PickleReader reads consecutive pickles and reports where each ends", () => {
  const a = new PickleWriter().dump("first");
  const b = new PickleWriter().dump(2);
  const both = new Uint8Array([...a, ...b, 0xaa]);
  const r = new PickleReader(both);
  assert.equal(r.load(), "first");
  assert.equal(r.offset, a.length);
  assert.equal(r.load(), 2);
  assert.equal(r.offset, a.length + b.length);
});

Deno.test({
  name: "PickleWriter builds a numpy object array that np.load(allow_pickle=True) reads",
  ignore: !hasTorch,
  fn: async () => {
    const dir = await tempDir();
    try {
      // (version, shape, dtype, is_fortran, items): object arrays carry a list of items.
      const dtypeO = new PyBuild(
        new PyReduce(pyGlobal("numpy", "dtype"), ["O8", false, true]),
        tuple(3, "|", null, null, null, -1, -1, 63),
      );
      const items: PyValue[] = [
        new Map<PyValue, PyValue>([["reward", new PyFloat(1)], ["caption", "a person walks"]]),
        new Map<PyValue, PyValue>([["reward", 0.25], ["lengths", [40, 196]]]),
      ];
      const array = new PyBuild(
        new PyReduce(pyGlobal("numpy.core.multiarray", "_reconstruct"), [
          pyGlobal("numpy", "ndarray"),
          tuple(0),
          new Uint8Array([0x62]),
        ]),
        tuple(1, tuple(items.length), dtypeO, false, items),
      );
      const pkl = new PickleWriter().dump(array);
      // .npy v1.0: magic, version, header length, header padded to 64 bytes, then the pickle.
      let header = `{'descr': '|O', 'fortran_order': False, 'shape': (${items.length},), }`;
      header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
      const head = new TextEncoder().encode(header);
      const npy = new Uint8Array(10 + head.length + pkl.length);
      npy.set([
        0x93,
        ...new TextEncoder().encode("NUMPY"),
        1,
        0,
        head.length & 0xff,
        head.length >> 8,
      ]);
      npy.set(head, 10);
      npy.set(pkl, 10 + head.length);
      const path = join(dir.path, "dicts.npy");
      await Deno.writeFile(path, npy);
      const out = await runPython([
        "-c",
        `import numpy as np, sys
a = np.load(sys.argv[1], allow_pickle=True)
assert a.dtype == object and a.shape == (2,), (a.dtype, a.shape)
assert a[0] == {"reward": 1.0, "caption": "a person walks"} and type(a[0]["reward"]) is float
assert a[1] == {"reward": 0.25, "lengths": [40, 196]}
print("ok")`,
        path,
      ]);
      assert.equal(out.trim(), "ok");
    } finally {
      await dir.remove();
    }
  },
});
