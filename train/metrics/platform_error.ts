/** The error raised when a `--train_platform_type` cannot be used in this build. @module */

/**
 * A training platform (W&B, ClearML) that cannot be used here. Raised before anything is
 * written, so the CLI can print its one-line message and exit.
 */
export class PlatformUnavailableError extends Error {
  /** @param message one line: what cannot be used, why, and what to do instead. */
  constructor(message: string) {
    super(message);
    this.name = "PlatformUnavailableError";
  }
}
