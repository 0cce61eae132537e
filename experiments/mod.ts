/**
 * Experiments as data: manifests (schema, validation, loading), their identity (RFC 8785
 * canonical JSON + SHA-256), input locks, differences, the runner seam, what changed since the
 * last run, and the check of a published results table against the recorded runs.
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
export { changesSinceLastRun, type LastRunChanges, type LastRunOptions } from "./last_run.ts";
export {
  metricOfHeader,
  parseResultsTable,
  parseValue,
  type PublishedValue,
  readResultsTable,
  type ResultsTable,
  type RowTarget,
  rowTarget,
  TABLE_METRICS,
  TableError,
  type TableMetric,
  type TableRow,
} from "./results_table.ts";
export {
  checkTable,
  compareMetric,
  formatTableCheck,
  type TableCheck,
  type TableCheckOptions,
  type TableMetricCheck,
  type TableRowCheck,
} from "./table_check.ts";
export {
  formatDiff,
  formatList,
  formatShow,
  formatTable,
  type ListRow,
  listRows,
} from "./report.ts";
