import { describe, expect, it } from "vitest";
import { unmaskRequest } from "./coordinator-routing.ts";
import { SecAggMessage, ShareKeys, UnmaskRequest } from "./messages.ts";
import { revealShares } from "./site-reveal.ts";
import { runToMasked, testConfig, testUpdates } from "../../test/support/secagg.ts";

const config = testConfig({ sites: 4, length: 8, neighbours: 3, threshold: 2 });
const round = runToMasked(config, testUpdates(4, 8));

describe("SecAggMessage", () => {
  it("parses every message of a round from JSON, by kind", () => {
    // Prepare
    const request = unmaskRequest(config, 1, round.shared, [1, 2, 3, 4]);
    const answer = revealShares(round.states.get(1)!, request, round.identities.get(1)!.privateKey).message;
    const messages = [round.adverts[0], round.shareMessages[0], round.shareMessages[0]!.shares[0], round.manifests[0], request, answer];

    // Execute
    const kinds = messages.map((m) => SecAggMessage.parse(JSON.parse(JSON.stringify(m))).kind);

    // Assert
    expect(kinds).toEqual(["advertise-keys", "share-keys", "encrypted-share", "masked-input", "unmask-request", "unmasking"]);
  });

  it("rejects peer lists out of order, and binary fields of the wrong length", () => {
    // Prepare
    const message = round.shareMessages[0]!;

    // Execute / Assert
    expect(ShareKeys.safeParse({ ...message, shares: [...message.shares].reverse() }).error?.issues[0]?.message).toBe("shares must be strictly ascending by recipient");
    expect(UnmaskRequest.safeParse({ ...unmaskRequest(config, 1, round.shared, [1, 2, 3, 4]), selfSeedOf: [3, 2] }).error?.issues[0]?.message).toBe("site lists must be strictly ascending");
    expect(SecAggMessage.safeParse({ ...round.adverts[0]!, maskPublicKey: "ab" }).error?.issues[0]?.message).toBe("expected 32 bytes as lower-case hex");
  });
});
