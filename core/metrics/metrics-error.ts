import { ConsiliumError } from "../errors.ts";

/** Stable codes for errors raised while counting, merging or scoring predictions. */
export type MetricsErrorCode = "INVALID_PREDICTIONS" | "BINS_MISMATCH" | "NO_COUNTS";

/**
 * Counts or predictions that cannot yield a metric (mismatched bins, labels other than 0/1, …).
 *
 * @example
 * throw new MetricsError("NO_COUNTS", "cannot merge an empty list of counts");
 */
export class MetricsError extends ConsiliumError {
  override readonly code: MetricsErrorCode;

  constructor(code: MetricsErrorCode, message: string) {
    super(code, message, 422);
    this.name = "MetricsError";
    this.code = code;
  }
}
