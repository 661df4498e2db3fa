import { ConsiliumError } from "../errors.ts";

/**
 * Stable codes of secure-aggregation failures:
 * - `SECAGG_TOO_FEW_SHARES`: fewer than the threshold of shares exist for a secret that must be
 *   recovered (or a site has too few neighbours to take part safely);
 * - `SECAGG_DOUBLE_REVEAL`: a site is asked to reveal both kinds of share of the same peer;
 * - `SECAGG_BAD_SIGNATURE`: a signed message does not verify under its site's identity key;
 * - `SECAGG_DECRYPT_FAILED`: an encrypted share does not open (wrong key, ids, round or bytes);
 * - `SECAGG_BAD_MESSAGE`: a message names the wrong session, round, site or peers for its phase;
 * - `SECAGG_BAD_SHARE`: shares reconstruct a secret that does not match its public key or commitment.
 */
export type SecAggErrorCode =
  | "SECAGG_TOO_FEW_SHARES"
  | "SECAGG_DOUBLE_REVEAL"
  | "SECAGG_BAD_SIGNATURE"
  | "SECAGG_DECRYPT_FAILED"
  | "SECAGG_BAD_MESSAGE"
  | "SECAGG_BAD_SHARE";

/** Protocol refusals: the round (or this message) cannot go on, and nothing secret was revealed. */
const CONFLICTS: ReadonlySet<SecAggErrorCode> = new Set(["SECAGG_TOO_FEW_SHARES", "SECAGG_DOUBLE_REVEAL"]);

/**
 * A secure-aggregation message or state that the protocol refuses. Refusals of the round (too
 * few shares, a double reveal) answer 409; malformed or forged messages answer 422.
 *
 * @example
 * throw new SecAggError("SECAGG_DOUBLE_REVEAL", "site 3 will not reveal both shares of site 5");
 */
export class SecAggError extends ConsiliumError {
  override readonly code: SecAggErrorCode;

  constructor(code: SecAggErrorCode, message: string) {
    super(code, message, CONFLICTS.has(code) ? 409 : 422);
    this.name = "SecAggError";
    this.code = code;
  }
}
