/**
 * Loads an export of a project module that may not be present in every checkout (the mini
 * profile's encoders, the pretraining featurizers) without making the type check depend on it:
 * the specifier is computed, so only a real run resolves it.
 */

/** The function `name` exported by the first of `paths` (relative to eval/run/) that loads. */
export async function optionalExport(
  paths: readonly string[],
  name: string,
): Promise<((...args: unknown[]) => unknown) | null> {
  for (const path of paths) {
    const url = new URL(path, import.meta.url);
    const exists = await Deno.stat(url).then((s) => s.isFile, () => false);
    if (!exists) continue;
    const mod: Record<string, unknown> = await import(url.href);
    const value = mod[name];
    if (typeof value === "function") return value as (...args: unknown[]) => unknown;
  }
  return null;
}
