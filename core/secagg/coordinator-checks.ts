/**
 * @module
 * Coordinator checks, one per inbound message: call them where the message arrives (after zod
 * parsing) and treat a throw as that site's failure in this phase — record it, leave the site out,
 * and let the round go on with the others.
 */
import { createHash } from "node:crypto";
import type { IdentityDirectory } from "./identity.ts";
import type { AdvertiseKeys, MaskedInputManifest, ShareKeys, UnmaskingShares, UnmaskRequest } from "./messages.ts";
import { bytesPerValue } from "./masked-bytes.ts";
import { graphOf } from "./neighbour-graph.ts";
import type { SecAggConfig } from "./secagg-config.ts";
import { SecAggError } from "./secagg-error.ts";
import { checkBinding, verifyMessage } from "./signatures.ts";

/**
 * Phase 0: an advertisement of this round and session, signed by its site.
 *
 * @example
 * acceptAdvertisement(config, AdvertiseKeys.parse(body), identities);
 */
export function acceptAdvertisement(config: SecAggConfig, advert: AdvertiseKeys, identities: IdentityDirectory): void {
  verifyMessage(config, advert, identities);
}

/**
 * Phase 1: a share-keys message from a site that advertised, holding exactly one share for each of
 * its neighbours that advertised (`advertised` lists the sites whose advertisements were accepted),
 * each routed from that site in this session and round.
 */
export function acceptShareKeys(config: SecAggConfig, message: ShareKeys, advertised: readonly number[]): void {
  checkBinding(config, message);
  const done = new Set(advertised);
  if (!done.has(message.site)) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${message.site} shares keys but advertised none`);
  const expected = graphOf(config).get(message.site)!.filter((j) => done.has(j));
  const got = message.shares.map((s) => s.to);
  if (got.join(",") !== expected.join(",")) {
    throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${message.site} must share with its neighbours ${expected.join(", ")}, it shares with ${got.join(", ") || "none"}`);
  }
  for (const share of message.shares) {
    if (share.from !== message.site || share.session !== message.session || share.round !== message.round) {
      throw new SecAggError("SECAGG_BAD_MESSAGE", `a share in the message of site ${message.site} is routed from site ${share.from}, round ${share.round}`);
    }
  }
}

/**
 * Phase 2: a masked input's signed manifest (and, when given, its bytes). `maskedWith` must be
 * exactly the site's neighbours that shared keys (`shared`), or its pairwise masks would not cancel.
 */
export function acceptMaskedInput(config: SecAggConfig, manifest: MaskedInputManifest, identities: IdentityDirectory, shared: readonly number[], bytes?: Uint8Array): void {
  verifyMessage(config, manifest, identities);
  const site = manifest.site;
  const sharedSet = new Set(shared);
  if (!sharedSet.has(site)) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} sends a masked input but shared no keys`);
  const size = bytesPerValue(config.quantisation.bits) * config.length;
  if (manifest.length !== config.length || manifest.byteLength !== size) {
    throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} sends ${manifest.length} values in ${manifest.byteLength} bytes; round ${config.round} takes ${config.length} in ${size}`);
  }
  const expected = graphOf(config).get(site)!.filter((j) => sharedSet.has(j));
  if (manifest.maskedWith.join(",") !== expected.join(",")) {
    throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} masked with ${manifest.maskedWith.join(", ") || "nobody"}, but its neighbours that shared keys are ${expected.join(", ")}`);
  }
  if (bytes !== undefined) {
    if (bytes.byteLength !== manifest.byteLength) throw new SecAggError("SECAGG_BAD_MESSAGE", `the masked input of site ${site} is ${bytes.byteLength} bytes, its manifest says ${manifest.byteLength}`);
    if (createHash("sha256").update(bytes).digest("hex") !== manifest.sha256) throw new SecAggError("SECAGG_BAD_MESSAGE", `the masked input of site ${site} does not match its manifest's SHA-256`);
  }
}

/** Phase 3: an answer signed by the site it was asked of, revealing exactly what was asked. */
export function acceptUnmasking(config: SecAggConfig, message: UnmaskingShares, identities: IdentityDirectory, request: UnmaskRequest): void {
  verifyMessage(config, message, identities, request.site);
  const peers = (shares: readonly { of: number }[]) => shares.map((s) => s.of).join(",");
  if (peers(message.selfSeedShares) !== request.selfSeedOf.join(",") || peers(message.maskKeyShares) !== request.maskKeyOf.join(",")) {
    throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${message.site} did not reveal exactly the shares it was asked for`);
  }
}
