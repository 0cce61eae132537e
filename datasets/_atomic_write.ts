/** Atomic file writes for the dataset writers: a temp file beside the target, then a rename. */

/**
 * Writes `bytes` to `path` atomically: readers see the old file or the whole new one, never a
 * partial write (the rename is atomic within one file system, so the temp file lives beside the
 * target). The temp file is removed if the write fails.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash + 1) : "";
  const base = slash >= 0 ? path.slice(slash + 1) : path;
  const tmp = `${dir}.${base}.${Deno.pid}.${Date.now()}.tmp`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
