/**
 * @module
 * Named errors with stable codes. A code is part of the wire format: the coordinator answers
 * `{ error: { code, message } }` with the error's HTTP status, and scripts may branch on the code.
 */

export class ConsiliumError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = "ConsiliumError";
    this.code = code;
    this.status = status;
  }
}

/** An update's bytes are not a valid update (bad container, checksum, length, non-finite values). */
export class UpdateFormatError extends ConsiliumError {
  constructor(code: string, message: string) {
    super(code, message, 422);
    this.name = "UpdateFormatError";
  }
}

/** A hyperparameter or configuration value is out of range. */
export class ConfigError extends ConsiliumError {
  constructor(message: string) {
    super("INVALID_CONFIG", message, 400);
    this.name = "ConfigError";
  }
}
