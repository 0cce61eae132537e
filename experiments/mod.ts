/**
 * Experiments as data: manifests (schema, validation, loading), their identity (RFC 8785
 * canonical JSON + SHA-256), input locks, differences, and the runner seam.
 * @module
 */
export { canonicalJson, type JsonValue } from "./canonical_json.ts";
export { manifestId, sha256Hex, toHex } from "./hash.ts";
export {
  type ExpectedMetric,
  type Manifest,
  MANIFEST_COMMANDS,
  MANIFEST_SCHEMA,
  MANIFEST_VARIABLES,
  type ManifestCommand,
  ManifestError,
  type ManifestExpected,
  type ManifestInput,
  type ManifestStage,
  type ParamValue,
  type Profile,
  STAGE_COMMANDS,
  STAGE_NAMES,
  validateManifest,
} from "./schema.ts";
export {
  expandVars,
  findManifest,
  loadManifest,
  MANIFEST_DIR,
  manifestNames,
  type ManifestVars,
  MINI_DIR,
  paramsToArgs,
  resolvedParams,
  stageArgs,
} from "./manifest.ts";
export {
  checkInputs,
  hashFile,
  hashPath,
  type InputLock,
  type InputMismatch,
  inputPath,
  type LockedInput,
  lockInputs,
  readLock,
  writeLock,
} from "./lock.ts";
export { diffManifests, type ManifestDifference } from "./diff.ts";
export { lastVerified, RUNS_DIR, type VerifyRecord } from "./run_record.ts";
export { runManifest, RunnerUnavailableError } from "./runner.ts";
export {
  formatDiff,
  formatList,
  formatShow,
  formatTable,
  type ListRow,
  listRows,
} from "./report.ts";
