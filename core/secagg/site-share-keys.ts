import { randomBytes } from "node:crypto";
import { fromHex, toHex } from "./hex.ts";
import type { IdentityDirectory } from "./identity.ts";
import type { AdvertiseKeys, ShareKeys } from "./messages.ts";
import { graphOf } from "./neighbour-graph.ts";
import { shareEncryptionKey } from "./pair-keys.ts";
import { sessionId } from "./secagg-config.ts";
import { SecAggError } from "./secagg-error.ts";
import { splitSecret } from "./shamir.ts";
import { encryptShares } from "./share-cipher.ts";
import { verifyMessage } from "./signatures.ts";
import type { NeighbourKeys, SiteState } from "./site-state.ts";
import { x25519PrivateKey } from "./x25519.ts";

/**
 * Site, phase 1 (ShareKeys): checks the advertisements of its neighbours that the coordinator
 * relayed (each signed by its site, of this session, from a neighbour in the round's graph, one per
 * site), draws the self-mask seed b, splits b and its mask secret key t-of-k among those neighbours
 * (share id = neighbour index) and encrypts each neighbour's pair of shares to it.
 * Throws `SecAggError`: any invalid advertisement; `SECAGG_TOO_FEW_SHARES` when fewer than t
 * neighbours advertised (its secrets could not be recovered, so it must not go on).
 *
 * @example
 * const { state: next, message } = shareKeys(state, task.neighbourKeys, identities);
 */
export function shareKeys(state: SiteState, adverts: readonly AdvertiseKeys[], identities: IdentityDirectory): { state: SiteState; message: ShareKeys } {
  const { config, site } = state;
  if (state.phase !== "advertised") throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} has already shared its keys in round ${config.round}`);
  const mine = new Set(graphOf(config).get(site));
  const seen = new Set<number>();
  for (const advert of adverts) {
    verifyMessage(config, advert, identities);
    if (!mine.has(advert.site)) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${advert.site} is not a neighbour of site ${site} in round ${config.round}`);
    if (seen.has(advert.site)) throw new SecAggError("SECAGG_BAD_MESSAGE", `two advertisements from site ${advert.site}`);
    seen.add(advert.site);
  }
  if (seen.size < config.threshold) {
    throw new SecAggError("SECAGG_TOO_FEW_SHARES", `only ${seen.size} neighbours of site ${site} advertised keys, fewer than the threshold ${config.threshold}: its secrets could not be recovered`);
  }
  const neighbours: NeighbourKeys[] = [...adverts]
    .sort((a, b) => a.site - b.site)
    .map((a) => ({ site: a.site, cipherPublicKey: a.cipherPublicKey, maskPublicKey: a.maskPublicKey }));
  const ids = neighbours.map((n) => n.site);
  const selfSeed = new Uint8Array(randomBytes(32));
  const maskKeyShares = splitSecret(fromHex(state.maskSecret), config.threshold, ids);
  const selfSeedShares = splitSecret(selfSeed, config.threshold, ids);
  const session = sessionId(config);
  const cipherKey = x25519PrivateKey(fromHex(state.cipherSecret));
  const shares = neighbours.map((n, i) =>
    encryptShares(
      shareEncryptionKey(session, cipherKey, fromHex(n.cipherPublicKey), site, n.site),
      { session, round: config.round, from: site, to: n.site },
      { maskKey: maskKeyShares[i]!.value, selfSeed: selfSeedShares[i]!.value },
    ),
  );
  return {
    state: { ...state, phase: "shared", selfSeed: toHex(selfSeed), neighbourKeys: neighbours },
    message: { kind: "share-keys", session, round: config.round, site, shares },
  };
}
