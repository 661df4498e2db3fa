/**
 * @module
 * What the coordinator hands each site between phases. It relays, it never opens: the shares are
 * end-to-end encrypted between sites, and the requests only name peers.
 */
import type { AdvertiseKeys, EncryptedShare, ShareKeys, UnmaskRequest } from "./messages.ts";
import { graphOf } from "./neighbour-graph.ts";
import { sessionId, type SecAggConfig } from "./secagg-config.ts";

/**
 * Phase 0 → 1: the accepted advertisements of `site`'s neighbours, for its `shareKeys`.
 *
 * @example
 * task.neighbourKeys = advertsFor(config, accepted, site);
 */
export function advertsFor(config: SecAggConfig, adverts: readonly AdvertiseKeys[], site: number): AdvertiseKeys[] {
  const mine = new Set(graphOf(config).get(site));
  return adverts.filter((a) => mine.has(a.site)).sort((a, b) => a.site - b.site);
}

/** Phase 1 → 2: the encrypted shares addressed to `site` in the accepted share-keys messages, for its `maskUpdate`. */
export function sharesFor(messages: readonly ShareKeys[], site: number): EncryptedShare[] {
  return messages.flatMap((m) => m.shares.filter((s) => s.to === site)).sort((a, b) => a.from - b.from);
}

/**
 * Phase 2 → 3: what `site` (one whose masked input was accepted) must reveal: its shares of the
 * self-mask seeds of its neighbours whose masked inputs were accepted (`masked`), and of the mask
 * keys of its neighbours that shared keys (`shared`) but whose masked input was not accepted.
 *
 * @example
 * const request = unmaskRequest(config, site, sharedSites, maskedSites);
 */
export function unmaskRequest(config: SecAggConfig, site: number, shared: readonly number[], masked: readonly number[]): UnmaskRequest {
  const sharedSet = new Set(shared);
  const maskedSet = new Set(masked);
  const neighbours = graphOf(config).get(site)!.filter((j) => sharedSet.has(j));
  return {
    kind: "unmask-request",
    session: sessionId(config),
    round: config.round,
    site,
    selfSeedOf: neighbours.filter((j) => maskedSet.has(j)),
    maskKeyOf: neighbours.filter((j) => !maskedSet.has(j)),
  };
}
