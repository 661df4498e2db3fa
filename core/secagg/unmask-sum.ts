import { ConfigError } from "../errors.ts";
import { applyMasks, type MaskTerm } from "./apply-masks.ts";
import { fromHex, toHex } from "./hex.ts";
import type { AdvertiseKeys, MaskedInputManifest, UnmaskingShares } from "./messages.ts";
import { graphOf } from "./neighbour-graph.ts";
import { pairwiseMaskSeed } from "./pair-keys.ts";
import { sessionId, type SecAggConfig } from "./secagg-config.ts";
import { SecAggError } from "./secagg-error.ts";
import { selfSeedCommitment } from "./self-seed-commitment.ts";
import { combineShares, type Share } from "./shamir.ts";
import { x25519PrivateKey, x25519PublicOf } from "./x25519.ts";

/** Everything the coordinator accepted in one round, as it stored it. */
export interface UnmaskInput {
  /** Phase 0: accepted advertisements (the mask public keys). */
  readonly adverts: readonly AdvertiseKeys[];
  /** Phase 1: sites whose share-keys messages were accepted and relayed. */
  readonly shared: readonly number[];
  /** Phase 2: accepted masked-input manifests; their sites are the survivors whose inputs are summed. */
  readonly manifests: readonly MaskedInputManifest[];
  /** Σ of the survivors' masked vectors mod 2^32 (`addWrapping` as they arrive). Not modified. */
  readonly maskedSum: Uint32Array;
  /** Phase 3: accepted answers (from any subset of the survivors). */
  readonly reveals: readonly UnmaskingShares[];
}

export interface UnmaskResult {
  /** Σ of the survivors' quantised updates mod 2^32: decode with `dequantiseSum(sum, spec, summands)`. */
  readonly sum: Uint32Array;
  readonly summands: number;
  /** The survivors, ascending. */
  readonly sites: readonly number[];
}

/**
 * Coordinator, after phase 3: removes every mask from the sum of the survivors' masked inputs
 * (Bonawitz et al. 2017, round Unmasking; per neighbourhood as in Bell et al. 2020). For each
 * site that shared keys but sent no accepted masked input, it rebuilds the mask secret key from t
 * of its neighbours' shares (checked against the advertised public key) and removes the pairwise
 * mask each surviving neighbour added for it; for each survivor it rebuilds the self-mask seed
 * (checked against the seed's commitment) and subtracts PRG(b). The result is exactly
 * Σ_survivors x_i mod 2^32.
 * All secrets are rebuilt before any mask is expanded, so a refusal costs little. Throws
 * `SecAggError`: `SECAGG_TOO_FEW_SHARES` (naming the site and the shares that arrived) when a
 * secret that must be recovered has fewer than t shares; `SECAGG_DOUBLE_REVEAL` /
 * `SECAGG_BAD_MESSAGE` for answers revealing what the protocol forbids; `SECAGG_BAD_SHARE` when a
 * rebuilt secret does not match.
 *
 * @example
 * const { sum, summands } = unmaskSum(config, { adverts, shared, manifests, maskedSum, reveals });
 * const total = dequantiseSum(sum, config.quantisation, summands);
 */
export function unmaskSum(config: SecAggConfig, input: UnmaskInput): UnmaskResult {
  if (input.maskedSum.length !== config.length) throw new ConfigError(`round ${config.round} sums vectors of ${config.length} values, got ${input.maskedSum.length}`);
  const graph = graphOf(config);
  const session = sessionId(config);
  const survivors = new Set(input.manifests.map((m) => m.site));
  const sharedSet = new Set(input.shared);
  const dropped = new Set(input.shared.filter((j) => !survivors.has(j)));
  const maskKeys = new Map(input.adverts.map((a) => [a.site, a.maskPublicKey]));
  const manifests = new Map(input.manifests.map((m) => [m.site, m]));
  if (survivors.size === 0) throw new SecAggError("SECAGG_TOO_FEW_SHARES", `round ${config.round} has no masked inputs to unmask`);

  const selfSeedShares = new Map<number, Share[]>();
  const maskKeyShares = new Map<number, Share[]>();
  const answered = new Set<number>();
  for (const reveal of input.reveals) {
    const from = reveal.site;
    if (!survivors.has(from)) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${from} revealed shares but sent no accepted masked input`);
    if (answered.has(from)) throw new SecAggError("SECAGG_BAD_MESSAGE", `two answers from site ${from}`);
    answered.add(from);
    const near = new Set(graph.get(from));
    const collect = (shares: readonly { of: number; share: string }[], into: Map<number, Share[]>, allowed: Set<number>, kind: string) => {
      for (const { of, share } of shares) {
        if (!near.has(of) || !sharedSet.has(of)) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${from} revealed a share of site ${of}, which did not entrust it one`);
        if (!allowed.has(of)) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${from} revealed a ${kind} share of site ${of}, which the protocol forbids for that site`);
        into.set(of, [...(into.get(of) ?? []), { id: from, value: fromHex(share) }]);
      }
    };
    const both = reveal.selfSeedShares.find((s) => reveal.maskKeyShares.some((k) => k.of === s.of));
    if (both !== undefined) throw new SecAggError("SECAGG_DOUBLE_REVEAL", `site ${from} revealed both kinds of share of site ${both.of}`);
    collect(reveal.selfSeedShares, selfSeedShares, survivors, "self-mask seed");
    collect(reveal.maskKeyShares, maskKeyShares, dropped, "mask-key");
  }

  const recover = (of: number, shares: Map<number, Share[]>, what: string): Uint8Array => {
    const got = shares.get(of) ?? [];
    if (got.length < config.threshold) {
      const from = got.map((s) => s.id).sort((a, b) => a - b);
      throw new SecAggError(
        "SECAGG_TOO_FEW_SHARES",
        `cannot unmask round ${config.round}: ${what} of site ${of} needs ${config.threshold} shares, only ${got.length} of its neighbours revealed one${from.length ? ` (sites ${from.join(", ")})` : ""}`,
      );
    }
    return combineShares(got, config.threshold, `${what} of site ${of}`);
  };

  const terms: MaskTerm[] = [];
  for (const site of [...dropped].sort((a, b) => a - b)) {
    const maskedBy = graph.get(site)!.filter((i) => survivors.has(i));
    if (maskedBy.length === 0) continue;
    const secret = x25519PrivateKey(recover(site, maskKeyShares, "the mask key"));
    const advertised = maskKeys.get(site);
    if (advertised === undefined || toHex(x25519PublicOf(secret)) !== advertised) {
      throw new SecAggError("SECAGG_BAD_SHARE", `the shares of site ${site}'s mask key rebuild a key that does not match its advertised public key`);
    }
    for (const survivor of maskedBy) {
      const survivorKey = maskKeys.get(survivor);
      if (survivorKey === undefined) throw new SecAggError("SECAGG_BAD_MESSAGE", `site ${survivor} has no accepted advertisement`);
      // The survivor added this mask if the dropped site's index is above its own, else subtracted it.
      terms.push({ seed: pairwiseMaskSeed(session, secret, fromHex(survivorKey), site, survivor), sign: site > survivor ? -1 : 1 });
    }
  }
  for (const site of [...survivors].sort((a, b) => a - b)) {
    const seed = recover(site, selfSeedShares, "the self-mask seed");
    if (selfSeedCommitment(session, site, seed) !== manifests.get(site)!.selfSeedCommitment) {
      throw new SecAggError("SECAGG_BAD_SHARE", `the shares of site ${site}'s self-mask seed rebuild a seed that does not match its commitment`);
    }
    terms.push({ seed, sign: -1 });
  }
  const sum = applyMasks(input.maskedSum.slice(), terms);
  // A 16-bit ring: the sum is its low half, sign-extended, which is the exact integer sum as an int32.
  if (config.quantisation.bits === 16) for (let i = 0; i < sum.length; i++) sum[i] = ((sum[i]! << 16) >> 16) >>> 0;
  return { sum, summands: survivors.size, sites: [...survivors].sort((a, b) => a - b) };
}
