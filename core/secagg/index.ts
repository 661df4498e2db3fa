/**
 * @module
 * Secure aggregation, the pure core of SecAgg+ (Bonawitz et al., CCS 2017; Bell et al., CCS 2020):
 * the coordinator learns the sum of the surviving sites' quantised updates and nothing else, even
 * when sites drop out, while relaying every message between sites (pairwise messages are
 * end-to-end authenticated-encrypted). No I/O: the coordinator and the site runner move the
 * messages and the masked vectors, persist the states, and call these functions.
 *
 * One round, as the parties call it (U1 ⊇ U2 ⊇ U3 ⊇ U4 are the sites still in at each phase):
 *
 * | phase | site | coordinator |
 * |---|---|---|
 * | open | — | `neighbourhoodParameters(n)` → k, t; `SecAggConfig.parse({ round, roundSeed, sites, neighbours, threshold, length, quantisation })` |
 * | 0 advertise | `advertiseKeys(config, i, identity)` → state, `AdvertiseKeys` | `acceptAdvertisement` each (U1); `advertsFor(config, accepted, i)` to each site |
 * | 1 share keys | `shareKeys(state, adverts, identities)` → state, `ShareKeys` | `acceptShareKeys` each (U2); `sharesFor(messages, i)` to each site |
 * | 2 masked input | `quantise(delta, spec, { rng })`, `maskUpdate(state, shares, codes, identity)` → state, masked vector (`maskedBytes`), manifest | `acceptMaskedInput` each (U3), `addWrapping(maskedSum, readMasked(bytes))`; `unmaskRequest(config, i, U2, U3)` to each site in U3 |
 * | 3 unmasking | `revealShares(state, request, identity)` → state (persist first), `UnmaskingShares` | `acceptUnmasking` each (U4); `unmaskSum(config, …)` → sum; `dequantiseSum(sum, spec, summands)` |
 *
 * Threat model. The coordinator is honest-but-curious and may collude with sites: it learns
 * nothing beyond the survivors' sum while no site has t colluding neighbours (any coalition of
 * t − 1 sites qualifies), and the graph guarantees the sum is not split into smaller sums while
 * fewer than k sites are dropped or colluding. Every signed message is checked against the sites'
 * registered Ed25519 identities, and every share travels AES-256-GCM-encrypted between the two
 * sites with its route authenticated. Not covered: an actively malicious coordinator that tells
 * different sites different survivor sets. The double-reveal rule holds at each site, but with
 * t ≤ k/2 two disjoint halves of a neighbourhood could each be asked for a different kind of
 * share; against that, use t > k/2 and add the ConsistencyCheck round of Bonawitz et al.
 * (survivors sign the survivor set before anyone reveals), which is not built here.
 */
export { addWrapping } from "./add-wrapping.ts";
export { applyMasks, type MaskTerm } from "./apply-masks.ts";
export { acceptAdvertisement, acceptMaskedInput, acceptShareKeys, acceptUnmasking } from "./coordinator-checks.ts";
export { advertsFor, sharesFor, unmaskRequest } from "./coordinator-routing.ts";
export { dequantiseSum } from "./dequantise-sum.ts";
export { expandMask } from "./expand-mask.ts";
export { generateIdentity, type Identity, type IdentityDirectory } from "./identity.ts";
export { bytesPerValue, maskedBytes, readMasked } from "./masked-bytes.ts";
export { AdvertiseKeys, EncryptedShare, MaskedInputManifest, RevealedShare, SecAggMessage, ShareKeys, UnmaskingShares, UnmaskRequest } from "./messages.ts";
export { graphOf, neighbourGraph, type NeighbourGraph } from "./neighbour-graph.ts";
export { neighbourhoodParameters, NeighbourhoodTargets, type NeighbourhoodParameters } from "./neighbourhood-parameters.ts";
export { codeBound, QuantisationSpec, quantisationStep } from "./quantisation-spec.ts";
export { quantise, type QuantiseOptions } from "./quantise.ts";
export { MAX_SITES, SecAggConfig, sessionId } from "./secagg-config.ts";
export { SecAggError, type SecAggErrorCode } from "./secagg-error.ts";
export { secureCodes, secureMean, type SecureCodesOptions, type SecureMeanOptions } from "./secure-vector.ts";
export { combineShares, splitSecret, type Share } from "./shamir.ts";
export { decryptShares, encryptShares } from "./share-cipher.ts";
export { signMessage, verifyMessage } from "./signatures.ts";
export { advertiseKeys } from "./site-advertise.ts";
export { maskUpdate } from "./site-mask.ts";
export { revealShares } from "./site-reveal.ts";
export { shareKeys } from "./site-share-keys.ts";
export { SiteState } from "./site-state.ts";
export { unmaskSum, type UnmaskInput, type UnmaskResult } from "./unmask-sum.ts";
