/** Atomic file writes: a reader never sees a half-written checkpoint. */

/**
 * Writes `bytes` to a temporary file beside `path`, then renames it over `path` (atomic on one
 * file system). The temporary file is removed if anything fails.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${Date.now()}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
