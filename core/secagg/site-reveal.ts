import type { KeyObject } from "node:crypto";
import type { UnmaskingShares, UnmaskRequest } from "./messages.ts";
import { SecAggError } from "./secagg-error.ts";
import { checkBinding, signMessage } from "./signatures.ts";
import type { Revealed, SiteState } from "./site-state.ts";

/**
 * Site, phase 3 (Unmasking): reveals, for each neighbour the coordinator names, the one share it
 * may: of the self-mask seed of a neighbour whose masked input arrived, or of the mask key of one
 * that dropped. Never both for one peer, in one request or across requests (the record is in the
 * returned state): with both, the coordinator could strip every mask from a site that was only late.
 * Throws `SecAggError`: `SECAGG_DOUBLE_REVEAL` for a request that would reveal both kinds for a peer
 * (nothing is revealed); `SECAGG_BAD_MESSAGE` for a request of another round or site, before this
 * site has masked, or naming a peer whose shares it does not hold.
 *
 * @example
 * const { state: next, message } = revealShares(state, task.unmask, identity.privateKey);
 */
export function revealShares(state: SiteState, request: UnmaskRequest, identity: KeyObject): { state: SiteState; message: UnmaskingShares } {
  const { config, site } = state;
  checkBinding(config, request, site);
  if (state.phase !== "masked" && state.phase !== "revealing") throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} has sent no masked input in round ${config.round}, so it reveals nothing`);
  const before = new Map(state.revealed.map((r) => [r.of, r.kind]));
  const asked = new Set(request.selfSeedOf);
  for (const peer of request.maskKeyOf) {
    if (asked.has(peer)) throw doubleReveal(site, peer, "it is asked for both in one request");
  }
  for (const [peers, kind] of [[request.selfSeedOf, "self-seed"], [request.maskKeyOf, "mask-key"]] as const) {
    for (const peer of peers) {
      const earlier = before.get(peer);
      if (earlier !== undefined && earlier !== kind) throw doubleReveal(site, peer, `it already revealed its ${earlier} share`);
    }
  }
  const held = new Map(state.held.map((h) => [h.from, h]));
  const pick = (peers: readonly number[], field: "selfSeedShare" | "maskKeyShare") =>
    peers.map((peer) => {
      const h = held.get(peer);
      if (h === undefined) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${site} holds no shares of site ${peer} in round ${config.round}`);
      return { of: peer, share: h[field] };
    });
  const message = signMessage(
    {
      kind: "unmasking" as const,
      session: request.session,
      round: config.round,
      site,
      selfSeedShares: pick(request.selfSeedOf, "selfSeedShare"),
      maskKeyShares: pick(request.maskKeyOf, "maskKeyShare"),
    },
    identity,
  );
  const added: Revealed[] = [
    ...request.selfSeedOf.map((of) => ({ of, kind: "self-seed" as const })),
    ...request.maskKeyOf.map((of) => ({ of, kind: "mask-key" as const })),
  ].filter((r) => !before.has(r.of));
  return { state: { ...state, phase: "revealing", revealed: [...state.revealed, ...added] }, message };
}

function doubleReveal(site: number, peer: number, why: string): SecAggError {
  return new SecAggError("SECAGG_DOUBLE_REVEAL", `site ${site} will not reveal both its self-mask seed share and its mask-key share of site ${peer} (${why}); it reveals nothing`);
}
