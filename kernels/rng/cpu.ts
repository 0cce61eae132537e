/**
 * Random normals, CPU twin: `randn` fills a host array from the Philox generator at a
 * `RandomAddress`, element `i` being element `offset + i` of stream `(seed, stream)` (see
 * `randnHost` in kernels/rng/philox.ts), so any slice of a stream can be drawn independently.
 * The normals are drawn in WebAssembly (`randnF32`), which gives the bits of `randnHost`.
 */
import type { RandomAddress } from "../backend.ts";
import { randnF32 } from "../wasm/philox_f32.ts";

/** Throws a RangeError unless `x` is a u32 integer. */
function checkU32(x: number, what: string): void {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) {
    throw new RangeError(`Cannot draw random normals: ${what} ${x} is not a u32 integer`);
  }
}

/** Fills `out[0..n)` with standard normals from `addr`. */
export function randn(
  out: Float32Array, // (n)
  n: number,
  addr: RandomAddress,
): void {
  checkU32(addr.seed, "seed");
  checkU32(addr.stream, "stream");
  checkU32(addr.offset, "offset");
  randnF32(out, n, addr.seed, addr.stream, addr.offset);
}
