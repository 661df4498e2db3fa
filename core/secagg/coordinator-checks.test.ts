import { describe, expect, it } from "vitest";
import { acceptMaskedInput, acceptShareKeys, acceptUnmasking } from "./coordinator-checks.ts";
import { advertsFor, sharesFor, unmaskRequest } from "./coordinator-routing.ts";
import { maskedBytes } from "./masked-bytes.ts";
import { SecAggError } from "./secagg-error.ts";
import { signMessage } from "./signatures.ts";
import { revealShares } from "./site-reveal.ts";
import { runToMasked, testConfig, testUpdates } from "../../test/support/secagg.ts";

const config = testConfig({ sites: 5, length: 10, neighbours: 4, threshold: 3 });
const round = runToMasked(config, testUpdates(5, 10));

describe("coordinator routing", () => {
  it("hands each site its neighbours' advertisements and the shares addressed to it", () => {
    // Execute
    const adverts = advertsFor(config, round.adverts, 3);
    const shares = sharesFor(round.shareMessages, 3);

    // Assert
    expect(adverts.map((a) => a.site)).toEqual([1, 2, 4, 5]);
    expect(shares.map((s) => [s.from, s.to])).toEqual([[1, 3], [2, 3], [4, 3], [5, 3]]);
  });

  it("asks a survivor for self-mask seed shares of survivors and mask-key shares of the dropped", () => {
    // Execute
    const request = unmaskRequest(config, 1, [1, 2, 3, 4, 5], [1, 2, 4]);

    // Assert
    expect(request).toMatchObject({ site: 1, selfSeedOf: [2, 4], maskKeyOf: [3, 5] });
  });
});

describe("acceptShareKeys", () => {
  it("rejects a site that leaves out a neighbour that advertised", () => {
    // Prepare
    const message = round.shareMessages[0]!;
    const short = { ...message, shares: message.shares.slice(0, 3) };

    // Execute / Assert
    expect(() => acceptShareKeys(config, message, [1, 2, 3, 4, 5])).not.toThrow();
    expect(() => acceptShareKeys(config, short, [1, 2, 3, 4, 5])).toThrow(new SecAggError("SECAGG_BAD_MESSAGE", "site 1 must share with its neighbours 2, 3, 4, 5, it shares with 2, 3, 4"));
    expect(() => acceptShareKeys(config, message, [2, 3, 4, 5])).toThrow("site 1 shares keys but advertised none");
  });
});

describe("acceptMaskedInput", () => {
  it("rejects a manifest whose pairwise masks would not cancel, or whose bytes do not match", () => {
    // Prepare
    const manifest = round.manifests[0]!;
    const { signature: _, ...unsigned } = manifest;
    const narrower = signMessage({ ...unsigned, maskedWith: [2, 3, 4] }, round.identities.get(1)!.privateKey);
    const bytes = maskedBytes(round.masked.get(1)!).slice();
    const flipped = bytes.slice();
    flipped[0]! ^= 1;

    // Execute / Assert
    expect(() => acceptMaskedInput(config, manifest, round.directory, round.shared, bytes)).not.toThrow();
    expect(() => acceptMaskedInput(config, narrower, round.directory, round.shared)).toThrow(
      new SecAggError("SECAGG_BAD_MESSAGE", "site 1 masked with 2, 3, 4, but its neighbours that shared keys are 2, 3, 4, 5"),
    );
    expect(() => acceptMaskedInput(config, manifest, round.directory, round.shared, flipped)).toThrow("the masked input of site 1 does not match its manifest's SHA-256");
    expect(() => acceptMaskedInput(config, { ...manifest, maskedWith: [2, 3, 4] }, round.directory, round.shared)).toThrow(/invalid signature/);
  });
});

describe("acceptUnmasking", () => {
  it("rejects an answer that reveals other shares than asked", () => {
    // Prepare
    const request = unmaskRequest(config, 1, round.shared, [1, 2, 3, 4, 5]);
    const { message } = revealShares(round.states.get(1)!, { ...request, selfSeedOf: [2, 3] }, round.identities.get(1)!.privateKey);

    // Execute / Assert
    expect(() => acceptUnmasking(config, message, round.directory, request)).toThrow(new SecAggError("SECAGG_BAD_MESSAGE", "site 1 did not reveal exactly the shares it was asked for"));
  });
});
