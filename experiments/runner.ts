/**
 * The seam where the experiment runner goes. This version validates the manifest and then stops:
 * the GRPO trainer and the mini models are not in it yet.
 * @module
 */
import type { Manifest } from "./schema.ts";

/** A run or verify that this version cannot perform; the message is the one line to show. */
export class RunnerUnavailableError extends Error {
  /** Creates the error with its whole message. */
  constructor(message: string) {
    super(message);
    this.name = "RunnerUnavailableError";
  }
}

const MISSING: Record<Manifest["command"], string> = {
  "train-grpo": "the GRPO trainer",
  "eval-humanml": "the evaluation runner",
  "construct-composite": "the experiment runner",
};

/**
 * Runs (`verb` "run") or reruns and compares (`verb` "verify") a validated manifest. In this
 * version it always throws a {@link RunnerUnavailableError}
 * (`Cannot run exp5: the GRPO trainer is not available in this version yet`).
 */
export function runManifest(manifest: Manifest, verb: "run" | "verify"): Promise<never> {
  return Promise.reject(
    new RunnerUnavailableError(
      `Cannot ${verb} ${manifest.name}: ${
        MISSING[manifest.command]
      } is not available in this version yet`,
    ),
  );
}
