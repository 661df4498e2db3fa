import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { bigintToBytes, bytesToBigint, FIELD_BYTES, FIELD_PRIME, invert, mod } from "./prime-field.ts";
import { SecAggError } from "./secagg-error.ts";
import { combineShares, splitSecret, type Share } from "./shamir.ts";

/** Every k-subset of xs. */
function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [head, ...rest] = xs as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [head, ...s]), ...subsets(rest, k)];
}

/** The polynomial of degree < points.length through the points, evaluated at x (Lagrange). */
function interpolateAt(points: readonly (readonly [bigint, bigint])[], x: bigint): bigint {
  let y = 0n;
  for (const [i, [xi, yi]] of points.entries()) {
    let term = yi;
    for (const [j, [xj]] of points.entries()) if (j !== i) term = mod(term * mod(x - xj) * invert(mod(xi - xj)));
    y = mod(y + term);
  }
  return y;
}

function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  for (let b = base % m, e = exponent; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) result = (result * b) % m;
  return result;
}

describe("the Shamir field", () => {
  it("is GF(p) for p = 2^256 + 297, a prime above every 32-byte secret (Miller–Rabin, 24 bases)", () => {
    // Prepare
    let d = FIELD_PRIME - 1n;
    let s = 0;
    while (d % 2n === 0n) [d, s] = [d / 2n, s + 1];

    // Execute: a composite survives 24 random bases with probability below 4^-24.
    const witnesses = Array.from({ length: 24 }, () => 2n + (bytesToBigint(randomBytes(40)) % (FIELD_PRIME - 3n)));
    const probablyPrime = witnesses.every((a) => {
      let x = modPow(a, d, FIELD_PRIME);
      if (x === 1n || x === FIELD_PRIME - 1n) return true;
      for (let r = 1; r < s; r++) if ((x = (x * x) % FIELD_PRIME) === FIELD_PRIME - 1n) return true;
      return false;
    });

    // Assert
    expect(FIELD_PRIME - (1n << 256n)).toBe(297n);
    expect(probablyPrime).toBe(true);
    expect(mod(invert(123456789n) * 123456789n)).toBe(1n);
  });
});

describe("splitSecret / combineShares", () => {
  it("rebuilds the secret from every t-subset of n shares", () => {
    // Prepare
    const secret = new Uint8Array(randomBytes(32));
    const shares = splitSecret(secret, 3, [1, 2, 4, 7, 9, 12]);

    // Execute
    const rebuilt = subsets(shares, 3).map((subset) => combineShares(subset, 3));

    // Assert
    expect(rebuilt).toHaveLength(20);
    for (const r of rebuilt) expect(r).toEqual(secret);
    expect(combineShares(shares, 3)).toEqual(secret);
  });

  it("shares a secret with its top bit set and site indices far above 255", () => {
    // Prepare
    const secret = new Uint8Array(32).fill(0xff);

    // Execute
    const shares = splitSecret(secret, 4, [300, 5000, 77_777, 99_999, 12]);

    // Assert
    expect(shares.every((s) => s.value.length === FIELD_BYTES)).toBe(true);
    expect(combineShares(shares.slice(1), 4)).toEqual(secret);
  });

  it("refuses to rebuild from t − 1 shares", () => {
    // Prepare
    const shares = splitSecret(new Uint8Array(randomBytes(32)), 5, [1, 2, 3, 4, 5, 6]);

    // Execute / Assert
    expect(() => combineShares(shares.slice(0, 4), 5, "the self-mask seed of site 9")).toThrow(
      new SecAggError("SECAGG_TOO_FEW_SHARES", "cannot recover the self-mask seed of site 9: 4 shares, the threshold is 5"),
    );
  });

  it("leaves any secret possible given t − 1 shares: each extends to a valid sharing of every candidate", () => {
    // Prepare: t = 4, three real shares, two unrelated candidate secrets.
    const shares = splitSecret(new Uint8Array(randomBytes(32)), 4, [2, 3, 5, 8]).slice(0, 3);
    const points = shares.map((s) => [BigInt(s.id), bytesToBigint(s.value)] as const);

    for (const candidate of [new Uint8Array(32), new Uint8Array(randomBytes(32))]) {
      // Execute: the unique degree-3 polynomial through (0, candidate) and the three shares gives a fourth share.
      const withCandidate = [[0n, bytesToBigint(candidate)] as const, ...points];
      const fourth: Share = { id: 11, value: bigintToBytes(interpolateAt(withCandidate, 11n), FIELD_BYTES) };

      // Assert: the three real shares plus that one rebuild the candidate.
      expect(combineShares([...shares, fourth], 4)).toEqual(candidate);
    }
  });

  it("rejects two different shares under one id, and accepts the same share twice", () => {
    // Prepare
    const shares = splitSecret(new Uint8Array(randomBytes(32)), 2, [1, 2, 3]);
    const forged: Share = { id: 1, value: new Uint8Array(FIELD_BYTES).fill(1) };

    // Execute / Assert
    expect(() => combineShares([shares[0]!, forged, shares[1]!], 2)).toThrow(new SecAggError("SECAGG_BAD_SHARE", "two different shares with id 1 of the secret"));
    expect(() => combineShares([shares[0]!, shares[0]!], 2)).toThrow(SecAggError);
    expect(combineShares([shares[0]!, shares[0]!, shares[2]!], 2)).toEqual(combineShares(shares, 2));
  });

  it("validates its arguments", () => {
    // Execute / Assert
    expect(() => splitSecret(new Uint8Array(31), 2, [1, 2])).toThrow(new ConfigError("a shared secret is 32 bytes, got 31"));
    expect(() => splitSecret(new Uint8Array(32), 3, [1, 2])).toThrow(new ConfigError("2 shares cannot meet threshold 3"));
    expect(() => splitSecret(new Uint8Array(32), 2, [0, 2])).toThrow(new ConfigError("share ids must be distinct positive integers, got 0, 2"));
    expect(() => splitSecret(new Uint8Array(32), 2, [3, 3])).toThrow(ConfigError);
  });
});
