/**
 * The shared memories of the kernel modules (kernels/wasm/*.wat import theirs as "env.memory",
 * shared, up to 65536 pages) and the one way each module is compiled and instantiated on one, by
 * the calling thread and by the worker threads of kernels/wasm/pool.ts alike.
 */

/** Bytes per wasm page. */
export const PAGE = 65536;
/** Pages of the modules' memories at most: 4 GiB, all a wasm32 address reaches. */
export const MAX_PAGES = 65536;

/** A new shared memory of one page that can grow to MAX_PAGES. */
export function newSharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
}

/** Grows `memory` to at least `bytes`; a RangeError naming `what` past 4 GiB. */
export function growTo(memory: WebAssembly.Memory, bytes: number, what: string): void {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return;
  if (bytes > MAX_PAGES * PAGE) {
    throw new RangeError(
      `Cannot run ${what}: it needs ${bytes} bytes of memory, over the 4 GiB of wasm32`,
    );
  }
  memory.grow(Math.ceil((bytes - have) / PAGE));
}

/**
 * A function that instantiates the module whose bytes are `base64` on a shared memory, returning
 * its exports; the module is compiled once, on first use.
 */
export function moduleInstantiator<T>(base64: string): (memory: WebAssembly.Memory) => T {
  let compiled: WebAssembly.Module | null = null;
  return (memory) => {
    if (compiled === null) {
      compiled = new WebAssembly.Module(Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0)));
    }
    return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as T;
  };
}
