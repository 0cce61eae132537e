/**
 * Entry point for commands whose implementation is not in this version yet: they stop with one
 * clear line and exit code 2 instead of pretending to run.
 */
export function unavailable(command: string, what: string): never {
  console.error(`Cannot run ${command}: ${what} is not available in this version yet.`);
  Deno.exit(2);
}
