import { ConfigError } from "../errors.ts";

const MAX_LENGTH = 0xffffffff;

/**
 * Throws `ConfigError` unless `length` is a count of values a container can hold (its header
 * stores it as a u32).
 *
 * @example
 * checkLength(model.length); // throws for -1, 1.5 or 2 ** 32
 */
export function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_LENGTH) {
    throw new ConfigError(`an update holds 0 to ${MAX_LENGTH} values, got ${length}`);
  }
}
