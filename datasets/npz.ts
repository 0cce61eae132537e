/**
 * `.npz` archives (numpy `np.savez` / `np.savez_compressed`): a ZIP file with one `<key>.npy`
 * member per array, stored or deflated. Reading handles both (and ZIP64 members, which numpy
 * writes); writing stores members uncompressed unless `compress` is set, with a fixed timestamp
 * so that the same arrays give the same bytes.
 * @module
 */
import { unzipSync, type Zippable, zipSync } from "fflate";
import { encodeNpy, type NpyArray, readNpy } from "./npy.ts";
import { writeFileAtomic } from "./_atomic_write.ts";

/** ZIP's earliest representable time, as numpy uses: output bytes do not depend on the clock. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/**
 * Parses an `.npz` archive into arrays keyed by member name without `.npy`, in archive order.
 * Throws SyntaxError naming `name` (and the member) if the archive or a member is malformed.
 */
export function readNpz(bytes: Uint8Array, name = "<bytes>"): Map<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    throw new SyntaxError(
      `Cannot load npz file "${name}": not a readable zip archive (${(err as Error).message})`,
    );
  }
  const out = new Map<string, NpyArray>();
  for (const [member, data] of Object.entries(files)) {
    const key = member.endsWith(".npy") ? member.slice(0, -4) : member;
    out.set(key, readNpy(data, `${name}:${member}`));
  }
  return out;
}

/** Reads the `.npz` file at `path`. */
export async function loadNpz(path: string): Promise<Map<string, NpyArray>> {
  return readNpz(await Deno.readFile(path), path);
}

/** Encodes arrays as an `.npz` archive (`compress`: deflate level 6, like `savez_compressed`). */
export function encodeNpz(
  arrays: ReadonlyMap<string, NpyArray> | Readonly<Record<string, NpyArray>>,
  compress = false,
): Uint8Array {
  const entries = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  const zip: Zippable = {};
  for (const [key, arr] of entries) {
    if (key === "" || key.includes("/")) {
      throw new RangeError(`Cannot encode npz: key "${key}" is not a plain member name`);
    }
    zip[`${key}.npy`] = [encodeNpy(arr), { level: compress ? 6 : 0, mtime: FIXED_MTIME }];
  }
  return zipSync(zip);
}

/** Writes arrays to `path` as `.npz`, atomically. */
export async function writeNpz(
  path: string,
  arrays: ReadonlyMap<string, NpyArray> | Readonly<Record<string, NpyArray>>,
  compress = false,
): Promise<void> {
  await writeFileAtomic(path, encodeNpz(arrays, compress));
}
