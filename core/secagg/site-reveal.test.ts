import { describe, expect, it } from "vitest";
import { addWrapping } from "./add-wrapping.ts";
import { unmaskRequest } from "./coordinator-routing.ts";
import type { UnmaskingShares, UnmaskRequest } from "./messages.ts";
import { SecAggError } from "./secagg-error.ts";
import { revealShares } from "./site-reveal.ts";
import { runToMasked, testConfig, testUpdates } from "../../test/support/secagg.ts";
import { unmaskSum } from "./unmask-sum.ts";

// n = 5 on the complete graph: k = 4, t = 3.
const config = testConfig({ sites: 5, length: 100, neighbours: 4, threshold: 3 });
const round = runToMasked(config, testUpdates(5, 100));
const request = (site: number, selfSeedOf: number[], maskKeyOf: number[]): UnmaskRequest => ({ ...unmaskRequest(config, site, round.shared, [1, 2, 3, 4, 5]), selfSeedOf, maskKeyOf });
const reveal = (site: number, req: UnmaskRequest, state = round.states.get(site)!) => revealShares(state, req, round.identities.get(site)!.privateKey);

describe("revealShares", () => {
  it("reveals the asked shares, signed, and records what it revealed", () => {
    // Execute
    const { state, message } = reveal(1, request(1, [2, 3], [4]));

    // Assert
    expect(message.selfSeedShares.map((s) => s.of)).toEqual([2, 3]);
    expect(message.maskKeyShares.map((s) => s.of)).toEqual([4]);
    expect(state.revealed).toEqual([{ of: 2, kind: "self-seed" }, { of: 3, kind: "self-seed" }, { of: 4, kind: "mask-key" }]);
  });

  it("refuses a request for both kinds of share of one peer, revealing nothing", () => {
    // Execute / Assert
    expect(() => reveal(1, request(1, [2, 3], [3]))).toThrow(
      new SecAggError("SECAGG_DOUBLE_REVEAL", "site 1 will not reveal both its self-mask seed share and its mask-key share of site 3 (it is asked for both in one request); it reveals nothing"),
    );
  });

  it("refuses the other kind of share of a peer in a later request, and repeats the same answer", () => {
    // Prepare
    const first = reveal(1, request(1, [2], []));

    // Execute / Assert
    expect(() => reveal(1, request(1, [], [2]), first.state)).toThrow(
      new SecAggError("SECAGG_DOUBLE_REVEAL", "site 1 will not reveal both its self-mask seed share and its mask-key share of site 2 (it already revealed its self-seed share); it reveals nothing"),
    );
    expect(reveal(1, request(1, [2], []), first.state).message.selfSeedShares).toEqual(first.message.selfSeedShares);
  });

  it("protects a late site: once its mask key is out, its self-mask seed never is, and the round completes without it", () => {
    // Prepare: site 5's masked input is late, so the coordinator treats it as dropped.
    const survivors = [1, 2, 3, 4];
    const answered = survivors.map((site) => reveal(site, unmaskRequest(config, site, round.shared, survivors)));
    const maskedSum = new Uint32Array(100);
    const expected = new Uint32Array(100);
    for (const site of survivors) addWrapping(maskedSum, round.masked.get(site)!), addWrapping(expected, round.quantised.get(site)!);

    // Execute
    const result = unmaskSum(config, {
      adverts: round.adverts,
      shared: round.shared,
      manifests: round.manifests.filter((m) => m.site !== 5),
      maskedSum,
      reveals: answered.map((a) => a.message),
    });

    // Assert: the sum of the four is exact, and no site will now hand over site 5's self-mask seed.
    expect(result.sum).toEqual(expected);
    for (const [i, site] of survivors.entries()) {
      expect(() => reveal(site, request(site, [5], []), answered[i]!.state)).toThrow(SecAggError);
      expect(() => reveal(site, request(site, [5], []), answered[i]!.state)).toThrow(/it already revealed its mask-key share/);
    }
  });

  it("refuses requests for another site, for peers it holds nothing of, and before it has masked", () => {
    // Prepare
    const early = runToMasked(testConfig({ sites: 5, length: 10, neighbours: 4, threshold: 3 }), testUpdates(5, 10), { beforeMask: [1] });

    // Execute / Assert
    expect(() => reveal(1, request(2, [3], []))).toThrow("expected a message of site 1, got the unmask-request message of site 2");
    expect(() => reveal(1, request(1, [1], []))).toThrow(new SecAggError("SECAGG_BAD_MESSAGE", "site 1 holds no shares of site 1 in round 1"));
    expect(() => revealShares(early.states.get(1)!, { ...request(1, [2], []), session: unmaskRequest(early.states.get(1)!.config, 1, [], []).session }, early.identities.get(1)!.privateKey)).toThrow(
      "site 1 has sent no masked input in round 1, so it reveals nothing",
    );
  });
});

describe("unmaskSum's own checks", () => {
  const answers = (): UnmaskingShares[] => [1, 2, 3, 4, 5].map((site) => reveal(site, unmaskRequest(config, site, round.shared, [1, 2, 3, 4, 5])).message);
  const input = (reveals: UnmaskingShares[]) => ({ adverts: round.adverts, shared: round.shared, manifests: round.manifests, maskedSum: round.maskedSum, reveals });

  it("rejects an answer revealing both kinds of share of one peer", () => {
    // Prepare
    const [first, ...rest] = answers();
    const both = { ...first!, maskKeyShares: [{ of: 2, share: first!.selfSeedShares[0]!.share }] };

    // Execute / Assert
    expect(() => unmaskSum(config, input([both, ...rest]))).toThrow(new SecAggError("SECAGG_DOUBLE_REVEAL", "site 1 revealed both kinds of share of site 2"));
  });

  it("rejects a mask-key share of a site whose masked input arrived", () => {
    // Prepare
    const [first, ...rest] = answers();
    const forbidden = { ...first!, selfSeedShares: first!.selfSeedShares.slice(1), maskKeyShares: [{ of: 2, share: first!.selfSeedShares[0]!.share }] };

    // Execute / Assert
    expect(() => unmaskSum(config, input([forbidden, ...rest]))).toThrow(new SecAggError("SECAGG_BAD_MESSAGE", "site 1 revealed a mask-key share of site 2, which the protocol forbids for that site"));
  });

  it("detects a wrong share through the self-mask seed's commitment", () => {
    // Prepare: site 1 lies about its share of site 2's seed.
    const [first, ...rest] = answers();
    const lying = { ...first!, selfSeedShares: first!.selfSeedShares.map((s) => (s.of === 2 ? { ...s, share: "00".repeat(32) + "01" } : s)) };

    // Execute / Assert
    expect(() => unmaskSum(config, input([lying, ...rest]))).toThrow(new SecAggError("SECAGG_BAD_SHARE", "the shares of site 2's self-mask seed rebuild a seed that does not match its commitment"));
  });
});
