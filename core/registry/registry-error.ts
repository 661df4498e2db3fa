import { ConsiliumError } from "../errors.ts";

/** Stable codes for errors raised while hashing, evaluating or judging registered models. */
export type RegistryErrorCode = "NOT_CANONICAL_JSON" | "THRESHOLD_OFF_BIN_EDGE";

/**
 * Input the registry cannot turn into a card or a decision (a value with no JSON form, a
 * threshold the histograms cannot resolve).
 *
 * @example
 * throw new RegistryError("NOT_CANONICAL_JSON", "NaN has no JSON form");
 */
export class RegistryError extends ConsiliumError {
  override readonly code: RegistryErrorCode;

  constructor(code: RegistryErrorCode, message: string) {
    super(code, message, 422);
    this.name = "RegistryError";
    this.code = code;
  }
}
