/** Every generated WASM module is exactly what tools/build_wasm.ts builds from its .wat. */
import assert from "node:assert/strict";
import { buildWasmModule, WASM_MODULES } from "../../tools/build_wasm.ts";

for (const spec of WASM_MODULES) {
  const name = spec.module.pathname.split("/").pop();
  Deno.test(`${name} is exactly what tools/build_wasm.ts builds from its .wat`, async () => {
    const committed = await Deno.readTextFile(spec.module);
    assert.equal(await buildWasmModule(spec), committed, "run `deno task build-wasm` and commit");
    const module = await import(spec.module.href);
    assert.ok(typeof module[spec.constant] === "string" && module[spec.constant].length > 0);
  });
}
