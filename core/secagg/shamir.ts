import { ConfigError } from "../errors.ts";
import { bigintToBytes, bytesToBigint, FIELD_BYTES, invert, mod, randomFieldElement } from "./prime-field.ts";
import { SecAggError } from "./secagg-error.ts";

/** Bytes of a secret that `splitSecret` shares: a seed or an X25519 secret key. */
export const SECRET_BYTES = 32;

/** One share: the evaluation at `id` (a site index, never 0) of the sharing polynomial. */
export interface Share {
  readonly id: number;
  /** `FIELD_BYTES` big-endian bytes. */
  readonly value: Uint8Array;
}

/**
 * Shamir t-of-n sharing over GF(p), p = 2^256 + 297 (Shamir, "How to Share a Secret", CACM 1979):
 * a polynomial f of degree t − 1 with f(0) = the secret and t − 1 uniform random coefficients,
 * evaluated at each id. Any t shares determine f, hence the secret; any t − 1 shares are uniformly
 * distributed whatever the secret (for every candidate secret exactly one polynomial of degree
 * t − 1 passes through it and those shares), so they reveal nothing about it, information-
 * theoretically. Ids are site indices, distinct integers from 1 upward.
 *
 * @example
 * const shares = splitSecret(selfSeed, 5, [2, 4, 7, 8, 9, 11]);
 */
export function splitSecret(secret: Uint8Array, threshold: number, ids: readonly number[]): Share[] {
  if (secret.length !== SECRET_BYTES) throw new ConfigError(`a shared secret is ${SECRET_BYTES} bytes, got ${secret.length}`);
  if (!Number.isInteger(threshold) || threshold < 1) throw new ConfigError(`threshold must be a positive integer, got ${threshold}`);
  if (ids.length < threshold) throw new ConfigError(`${ids.length} shares cannot meet threshold ${threshold}`);
  if (new Set(ids).size !== ids.length || ids.some((id) => !Number.isSafeInteger(id) || id < 1)) {
    throw new ConfigError(`share ids must be distinct positive integers, got ${ids.join(", ")}`);
  }
  const coefficients = [bytesToBigint(secret)];
  for (let i = 1; i < threshold; i++) coefficients.push(randomFieldElement());
  return ids.map((id) => {
    const x = BigInt(id);
    let y = 0n;
    for (let i = coefficients.length - 1; i >= 0; i--) y = mod(y * x + coefficients[i]!);
    return { id, value: bigintToBytes(y, FIELD_BYTES) };
  });
}

/**
 * The secret behind `threshold` shares, by Lagrange interpolation at 0 over the `threshold`
 * lowest ids (further shares are not read). Throws `SecAggError`: `SECAGG_TOO_FEW_SHARES` with
 * fewer than `threshold` distinct ids, `SECAGG_BAD_SHARE` for two different values at one id or a
 * result that is not a 32-byte secret. A wrong share otherwise yields a wrong secret: callers
 * check the result (a public key, a commitment).
 *
 * @example
 * const seed = combineShares(revealed, config.threshold, "the self-mask seed of site 4");
 */
export function combineShares(shares: readonly Share[], threshold: number, what = "the secret"): Uint8Array {
  const byId = new Map<number, bigint>();
  for (const share of shares) {
    if (share.value.length !== FIELD_BYTES) throw new SecAggError("SECAGG_BAD_SHARE", `share ${share.id} of ${what} is ${share.value.length} bytes, expected ${FIELD_BYTES}`);
    const y = bytesToBigint(share.value);
    const seen = byId.get(share.id);
    if (seen !== undefined && seen !== y) throw new SecAggError("SECAGG_BAD_SHARE", `two different shares with id ${share.id} of ${what}`);
    byId.set(share.id, y);
  }
  if (byId.size < threshold) {
    throw new SecAggError("SECAGG_TOO_FEW_SHARES", `cannot recover ${what}: ${byId.size} shares, the threshold is ${threshold}`);
  }
  const points = [...byId].sort((a, b) => a[0] - b[0]).slice(0, threshold);
  let secret = 0n;
  for (const [i, [xi, yi]] of points.entries()) {
    // Lagrange basis at 0: Π_{j≠i} x_j / (x_j − x_i); the products of small ids stay exact integers.
    let num = 1n;
    let den = 1n;
    for (const [j, [xj]] of points.entries()) {
      if (j === i) continue;
      num *= BigInt(xj);
      den *= BigInt(xj - xi);
    }
    secret = mod(secret + yi * mod(num) * invert(mod(den)));
  }
  if (secret >= 1n << BigInt(8 * 32)) throw new SecAggError("SECAGG_BAD_SHARE", `the shares of ${what} are inconsistent (they interpolate to no 32-byte secret)`);
  return bigintToBytes(secret, 32);
}
