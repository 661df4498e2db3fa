import { describe, expect, it } from "vitest";
import { generateIdentity } from "./identity.ts";
import type { AdvertiseKeys } from "./messages.ts";
import { sessionId } from "./secagg-config.ts";
import { SecAggError } from "./secagg-error.ts";
import { signMessage, verifyMessage } from "./signatures.ts";
import { testConfig } from "../../test/support/secagg.ts";

const config = testConfig({ sites: 5, length: 10 });
const alice = generateIdentity();
const mallory = generateIdentity();
const directory = new Map([[2, alice.publicKey], [3, mallory.publicKey]]);

function advert(fields: Partial<AdvertiseKeys> = {}, identity = alice): AdvertiseKeys {
  const unsigned = { kind: "advertise-keys" as const, session: sessionId(config), round: config.round, site: 2, cipherPublicKey: "0a".repeat(32), maskPublicKey: "0b".repeat(32) };
  return signMessage({ ...unsigned, ...fields }, identity.privateKey);
}

describe("signMessage / verifyMessage", () => {
  it("accepts a message signed by its site's registered identity", () => {
    // Execute / Assert
    expect(() => verifyMessage(config, advert(), directory)).not.toThrow();
    expect(() => verifyMessage(config, advert(), directory, 2)).not.toThrow();
  });

  it("rejects a signed field changed after signing", () => {
    // Prepare
    const forged = { ...advert(), maskPublicKey: "0c".repeat(32) };

    // Execute / Assert
    expect(() => verifyMessage(config, forged, directory)).toThrow(new SecAggError("SECAGG_BAD_SIGNATURE", "the advertise-keys message of site 2 in round 1 has an invalid signature"));
  });

  it("rejects a message signed by another site's identity, or by a site with none registered", () => {
    // Execute / Assert
    expect(() => verifyMessage(config, advert({}, mallory), directory)).toThrow(/invalid signature/);
    expect(() => verifyMessage(config, advert({ site: 4 }), directory)).toThrow(new SecAggError("SECAGG_BAD_SIGNATURE", "no identity key is registered for site 4"));
  });

  it("rejects a validly signed message of another round, session or site", () => {
    // Execute / Assert
    expect(() => verifyMessage(config, advert({ round: 2 }), directory)).toThrow(new SecAggError("SECAGG_BAD_MESSAGE", "the advertise-keys message of site 2 is for round 2, not 1"));
    expect(() => verifyMessage(config, advert({ session: "00".repeat(32) }), directory)).toThrow(/belongs to another session of round 1/);
    expect(() => verifyMessage(config, advert({ site: 6 }), directory)).toThrow(/names a site outside 1..5/);
    expect(() => verifyMessage(config, advert(), directory, 3)).toThrow("expected a message of site 3, got the advertise-keys message of site 2");
  });
});
