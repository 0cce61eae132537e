/**
 * Loading manifests from `experiments/manifests/*.json`, and what a runner needs from them: the
 * parameters as command-line words and the variables expanded.
 * @module
 */
import { fileURLToPath } from "node:url";
import { COMMAND_FLAGS } from "./_command_flags.ts";
import { type Manifest, ManifestError, type ParamValue, validateManifest } from "./schema.ts";

/** What `$MINI` stands for by default: the mini profile's folder (`deno task make-mini` output). */
export const MINI_DIR: string = fileURLToPath(new URL("../datasets/mini_cache/", import.meta.url));

/** What `$MINI_ASSETS` stands for by default: the small models the project ships. */
export const MINI_ASSETS_DIR: string = fileURLToPath(new URL("../assets/mini/", import.meta.url));

/** The folder that holds the project's manifests. */
export const MANIFEST_DIR: string = fileURLToPath(new URL("./manifests/", import.meta.url));

/**
 * Reads and validates one manifest file. Throws a {@link ManifestError} naming the file for bad
 * JSON or a schema fault, and a `Deno.errors.NotFound` for a missing file.
 */
export async function loadManifest(path: string): Promise<Manifest> {
  const file = path.split(/[\\/]/).pop() ?? path;
  const text = await Deno.readTextFile(path);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(file, "", `the file is not valid JSON: ${(e as Error).message}`);
  }
  return validateManifest(data, file);
}

/** Names of the manifests in `dir` (file names without `.json`), sorted. */
export async function manifestNames(dir: string = MANIFEST_DIR): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".json")) names.push(e.name.slice(0, -5));
  }
  return names.sort();
}

/**
 * Loads the manifest called `name` from `dir`. An unknown name throws a `Deno.errors.NotFound`
 * whose message lists the known names.
 */
export async function findManifest(name: string, dir: string = MANIFEST_DIR): Promise<Manifest> {
  const names = await manifestNames(dir);
  if (!names.includes(name)) {
    throw new Deno.errors.NotFound(
      `Cannot find experiment "${name}": known experiments are ${names.join(", ")}`,
    );
  }
  return await loadManifest(`${dir.replace(/\/$/, "")}/${name}.json`);
}

/**
 * The manifest's params with every flag the manifest leaves out filled in from the command's
 * defaults, in the command's flag order; `sources` says which came from the manifest.
 */
export function resolvedParams(
  m: Manifest,
): { params: Record<string, ParamValue>; sources: Record<string, "manifest" | "default"> } {
  const params: Record<string, ParamValue> = {};
  const sources: Record<string, "manifest" | "default"> = {};
  for (const spec of COMMAND_FLAGS[m.command]) {
    const given = spec.name in m.params;
    params[spec.name] = given ? m.params[spec.name] : spec.default;
    sources[spec.name] = given ? "manifest" : "default";
  }
  return { params, sources };
}

/** Folders the manifest variables stand for. */
export interface ManifestVars {
  /** `$ASSETS`: the paper profile's asset folder. */
  assets?: string;
  /** `$MINI`: the mini profile's folder. */
  mini?: string;
  /** `$RUN`: the run folder. */
  run?: string;
  /** `$MINI_ASSETS`: the shipped small models (default {@link MINI_ASSETS_DIR}). */
  miniAssets?: string;
}

/**
 * Expands `$ASSETS`, `$MINI`, `$MINI_ASSETS` (default {@link MINI_ASSETS_DIR}) and `$RUN` in
 * `s`; throws a RangeError for one left unset.
 */
export function expandVars(s: string, vars: ManifestVars): string {
  return s.replace(/\$(ASSETS|MINI_ASSETS|MINI|RUN)\b/g, (v) => {
    const value = v === "$ASSETS"
      ? vars.assets
      : v === "$MINI"
      ? vars.mini
      : v === "$MINI_ASSETS"
      ? vars.miniAssets ?? MINI_ASSETS_DIR
      : vars.run;
    if (value === undefined) {
      throw new RangeError(`Cannot expand ${v} in "${s}": no folder was given for it`);
    }
    return value.replace(/\/$/, "");
  });
}

/**
 * The params as command-line words (`--flag value`; a true switch is the bare flag, a false
 * switch and a null value are left out), in the command's flag order, variables expanded.
 */
export function paramsToArgs(m: Manifest, vars: ManifestVars): string[] {
  const args: string[] = [];
  for (const spec of COMMAND_FLAGS[m.command]) {
    const v = m.params[spec.name];
    if (v === undefined || v === null || v === false) continue;
    args.push(`--${spec.name}`);
    if (v !== true) args.push(typeof v === "string" ? expandVars(v, vars) : String(v));
  }
  return args;
}

/** A stage's argument words with `$PARAMS` replaced and variables expanded. */
export function stageArgs(m: Manifest, stageIndex: number, vars: ManifestVars): string[] {
  const stage = m.stages[stageIndex];
  if (stage === undefined) {
    throw new RangeError(
      `Cannot read stage ${stageIndex} of "${m.name}": it has ${m.stages.length}`,
    );
  }
  return stage.args.flatMap((a) => a === "$PARAMS" ? paramsToArgs(m, vars) : [expandVars(a, vars)]);
}
