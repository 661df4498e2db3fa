import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "./hex.ts";
import { pairwiseMaskSeed, shareEncryptionKey } from "./pair-keys.ts";
import { FIELD_BYTES } from "./prime-field.ts";
import { SecAggError } from "./secagg-error.ts";
import { decryptShares, encryptShares, type ShareRoute } from "./share-cipher.ts";
import { generateX25519, x25519PrivateKey } from "./x25519.ts";

const SESSION = "11".repeat(32);
const route: ShareRoute = { session: SESSION, round: 4, from: 3, to: 7 };
const pair = { maskKey: new Uint8Array(FIELD_BYTES).fill(0xaa), selfSeed: new Uint8Array(FIELD_BYTES).fill(0x55) };

/** Cipher keys of sites 3 and 7, and the key each derives for the pair. */
function keys() {
  const [a, b] = [generateX25519(), generateX25519()];
  return {
    a,
    b,
    at3: shareEncryptionKey(SESSION, x25519PrivateKey(a.secret), b.publicKey, 3, 7),
    at7: shareEncryptionKey(SESSION, x25519PrivateKey(b.secret), a.publicKey, 7, 3),
  };
}

describe("pair keys", () => {
  it("derive the same share key and mask seed at both ends, distinct from each other and per session", () => {
    // Prepare
    const { a, b, at3, at7 } = keys();

    // Execute
    const seed3 = pairwiseMaskSeed(SESSION, x25519PrivateKey(a.secret), b.publicKey, 3, 7);
    const seed7 = pairwiseMaskSeed(SESSION, x25519PrivateKey(b.secret), a.publicKey, 7, 3);
    const otherSession = pairwiseMaskSeed("22".repeat(32), x25519PrivateKey(a.secret), b.publicKey, 3, 7);

    // Assert
    expect(at3).toEqual(at7);
    expect(seed3).toEqual(seed7);
    expect(seed3).not.toEqual(at3);
    expect(otherSession).not.toEqual(seed3);
  });

  it("refuse a low-order public key", () => {
    // Execute / Assert
    expect(() => pairwiseMaskSeed(SESSION, x25519PrivateKey(generateX25519().secret), new Uint8Array(32), 1, 2)).toThrow(SecAggError);
  });
});

describe("encryptShares / decryptShares", () => {
  it("round-trips a share pair between the two sites", () => {
    // Prepare
    const { at3, at7 } = keys();

    // Execute
    const opened = decryptShares(at7, encryptShares(at3, route, pair), route);

    // Assert
    expect(opened).toEqual(pair);
  });

  it("fails to open under another pair's key", () => {
    // Prepare
    const { at3 } = keys();
    const wrong = keys().at7;
    const share = encryptShares(at3, route, pair);

    // Execute / Assert
    expect(() => decryptShares(wrong, share, route)).toThrow(new SecAggError("SECAGG_DECRYPT_FAILED", "the share from site 3 to site 7 in round 4 does not authenticate"));
  });

  it.each([
    ["recipient", { to: 8 }],
    ["sender", { from: 5 }],
    ["round", { round: 5 }],
    ["session", { session: "33".repeat(32) }],
  ])("fails to open when the relay rewrites the %s (authenticated as associated data)", (_, change) => {
    // Prepare: the relay edits the routing fields, and the recipient checks against the edited route.
    const { at3, at7 } = keys();
    const tampered = { ...encryptShares(at3, route, pair), ...change };

    // Execute / Assert
    expect(() => decryptShares(at7, tampered, { ...route, ...change })).toThrow(SecAggError);
    expect(() => decryptShares(at7, tampered, { ...route, ...change })).toThrow(/does not authenticate/);
  });

  it("fails to open a ciphertext with one flipped bit", () => {
    // Prepare
    const { at3, at7 } = keys();
    const share = encryptShares(at3, route, pair);
    const bytes = fromHex(share.ciphertext);
    bytes[10]! ^= 1;

    // Execute / Assert
    expect(() => decryptShares(at7, { ...share, ciphertext: toHex(bytes) }, route)).toThrow(/does not authenticate/);
  });

  it("rejects a share routed elsewhere than expected before trying to open it", () => {
    // Prepare
    const { at3, at7 } = keys();
    const share = encryptShares(at3, route, pair);

    // Execute / Assert
    expect(() => decryptShares(at7, share, { ...route, to: 9 })).toThrow(new SecAggError("SECAGG_BAD_MESSAGE", "an encrypted share says to 7, expected 9"));
  });
});
