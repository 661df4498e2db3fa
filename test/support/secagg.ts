/**
 * @module
 * Helpers for the secure-aggregation tests and bench: configs, identities, reproducible updates,
 * and a whole round run in memory, every message passed through JSON and its zod schema as if
 * relayed by the coordinator, and every site state persisted the same way between phases.
 */
import type { z } from "zod";
import { seededRandom } from "../../core/random.ts";
import { addWrapping } from "../../core/secagg/add-wrapping.ts";
import { acceptAdvertisement, acceptMaskedInput, acceptShareKeys, acceptUnmasking } from "../../core/secagg/coordinator-checks.ts";
import { advertsFor, sharesFor, unmaskRequest } from "../../core/secagg/coordinator-routing.ts";
import { generateIdentity, type Identity } from "../../core/secagg/identity.ts";
import { maskedBytes, readMasked } from "../../core/secagg/masked-bytes.ts";
import { AdvertiseKeys, EncryptedShare, MaskedInputManifest, ShareKeys, UnmaskingShares, UnmaskRequest } from "../../core/secagg/messages.ts";
import { neighbourhoodParameters } from "../../core/secagg/neighbourhood-parameters.ts";
import { quantise } from "../../core/secagg/quantise.ts";
import { SecAggConfig } from "../../core/secagg/secagg-config.ts";
import { advertiseKeys } from "../../core/secagg/site-advertise.ts";
import { maskUpdate } from "../../core/secagg/site-mask.ts";
import { revealShares } from "../../core/secagg/site-reveal.ts";
import { shareKeys } from "../../core/secagg/site-share-keys.ts";
import { SiteState } from "../../core/secagg/site-state.ts";
import { unmaskSum, type UnmaskResult } from "../../core/secagg/unmask-sum.ts";

/** A parsed config for `sites` sites; k and t from `neighbourhoodParameters` unless given. */
export function testConfig(options: { sites: number; length: number; neighbours?: number; threshold?: number; round?: number; roundSeed?: string; clipNorm?: number; bits?: 16 | 32 }): SecAggConfig {
  const chosen = neighbourhoodParameters(options.sites);
  return SecAggConfig.parse({
    round: options.round ?? 1,
    roundSeed: options.roundSeed ?? "5e".repeat(32),
    sites: options.sites,
    neighbours: options.neighbours ?? chosen.neighbours,
    threshold: options.threshold ?? chosen.threshold,
    length: options.length,
    quantisation: { clipNorm: options.clipNorm ?? 10, maxSummands: options.sites, rounding: "stochastic", bits: options.bits ?? 32 },
  });
}

/** One identity per site 1..n, and the directory of their public keys. */
export function testIdentities(sites: number): { identities: Map<number, Identity>; directory: Map<number, Uint8Array> } {
  const identities = new Map(Array.from({ length: sites }, (_, i) => [i + 1, generateIdentity()] as const));
  return { identities, directory: new Map([...identities].map(([site, id]) => [site, id.publicKey])) };
}

/** `length` floats in [−spread, spread) from a seeded stream. */
export function randomUpdate(length: number, seed: number, spread = 0.01): Float32Array {
  const rng = seededRandom(seed);
  return Float32Array.from({ length }, () => (rng() * 2 - 1) * spread);
}

/** Which sites fail, and when. A site that fails at one phase takes no part in the later ones. */
export interface Dropouts {
  /** Advertise keys, then send nothing more. */
  readonly beforeShare?: readonly number[];
  /** Share keys, then send no masked input: their mask keys must be recovered. */
  readonly beforeMask?: readonly number[];
  /** Send masked inputs, then never answer the unmasking. */
  readonly beforeUnmask?: readonly number[];
}

/** A round run up to the end of phase 2, with everything the unmasking needs. */
export interface MaskedRound {
  readonly identities: ReadonlyMap<number, Identity>;
  readonly directory: ReadonlyMap<number, Uint8Array>;
  /** Each site's persisted state after its last phase. */
  readonly states: Map<number, SiteState>;
  readonly adverts: readonly AdvertiseKeys[];
  readonly shareMessages: readonly ShareKeys[];
  readonly shared: readonly number[];
  readonly manifests: readonly MaskedInputManifest[];
  readonly maskedSum: Uint32Array;
  /** The plain sum mod 2^32 of the quantised updates of the sites whose masked inputs arrived. */
  readonly expected: Uint32Array;
  readonly masked: ReadonlyMap<number, Uint32Array>;
  readonly quantised: ReadonlyMap<number, Uint32Array>;
}

export interface SimulatedRound extends MaskedRound {
  readonly result: UnmaskResult;
  readonly reveals: readonly UnmaskingShares[];
}

/** Through JSON and back, as a relayed message or a persisted state would travel. */
export function wire<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  return schema.parse(JSON.parse(JSON.stringify(value)));
}

/** Runs phases 0 to 2 for every site in memory; throws whatever the protocol throws. */
export function runToMasked(config: SecAggConfig, updates: ReadonlyMap<number, Float32Array>, dropouts: Dropouts = {}): MaskedRound {
  const { identities, directory } = testIdentities(config.sites);
  const sites = [...updates.keys()].sort((a, b) => a - b);
  const out = (list?: readonly number[]) => new Set(list ?? []);
  const [beforeShare, beforeMask] = [out(dropouts.beforeShare), out(dropouts.beforeMask)];
  const states = new Map<number, SiteState>();
  const persist = (site: number, state: SiteState) => states.set(site, wire(SiteState, state));

  // Phase 0.
  const adverts: AdvertiseKeys[] = [];
  for (const site of sites) {
    const { state, message } = advertiseKeys(config, site, identities.get(site)!.privateKey);
    persist(site, state);
    const advert = wire(AdvertiseKeys, message);
    acceptAdvertisement(config, advert, directory);
    adverts.push(advert);
  }
  const advertised = adverts.map((a) => a.site);

  // Phase 1.
  const shareMessages: ShareKeys[] = [];
  for (const site of sites.filter((s) => !beforeShare.has(s))) {
    const relayed = advertsFor(config, adverts, site).map((a) => wire(AdvertiseKeys, a));
    const { state, message } = shareKeys(states.get(site)!, relayed, directory);
    persist(site, state);
    const received = wire(ShareKeys, message);
    acceptShareKeys(config, received, advertised);
    shareMessages.push(received);
  }
  const shared = shareMessages.map((m) => m.site);

  // Phase 2.
  const manifests: MaskedInputManifest[] = [];
  const maskedSum = new Uint32Array(config.length);
  const expected = new Uint32Array(config.length);
  const masked = new Map<number, Uint32Array>();
  const quantised = new Map<number, Uint32Array>();
  for (const site of shared.filter((s) => !beforeMask.has(s))) {
    const codes = quantise(updates.get(site)!, config.quantisation, { rng: seededRandom(1000 + site) });
    const incoming = sharesFor(shareMessages, site).map((s) => wire(EncryptedShare, s));
    const { state, masked: vector, manifest } = maskUpdate(states.get(site)!, incoming, codes, identities.get(site)!.privateKey);
    persist(site, state);
    const bytes = maskedBytes(vector, config.quantisation.bits).slice();
    const received = wire(MaskedInputManifest, manifest);
    acceptMaskedInput(config, received, directory, shared, bytes);
    manifests.push(received);
    addWrapping(maskedSum, readMasked(bytes, config.length, config.quantisation.bits));
    addWrapping(expected, codes);
    masked.set(site, vector);
    quantised.set(site, codes);
  }
  return { identities, directory, states, adverts, shareMessages, shared, manifests, maskedSum, expected, masked, quantised };
}

/** Runs the four phases for every site in memory; throws whatever the protocol throws. */
export function simulateRound(config: SecAggConfig, updates: ReadonlyMap<number, Float32Array>, dropouts: Dropouts = {}): SimulatedRound {
  const round = runToMasked(config, updates, dropouts);
  const { identities, directory, states, shared, manifests } = round;
  const maskedSites = manifests.map((m) => m.site);
  const beforeUnmask = new Set(dropouts.beforeUnmask ?? []);
  const reveals: UnmaskingShares[] = [];
  for (const site of maskedSites.filter((s) => !beforeUnmask.has(s))) {
    const request = wire(UnmaskRequest, unmaskRequest(config, site, shared, maskedSites));
    const { state, message } = revealShares(states.get(site)!, request, identities.get(site)!.privateKey);
    states.set(site, wire(SiteState, state));
    const received = wire(UnmaskingShares, message);
    acceptUnmasking(config, received, directory, request);
    reveals.push(received);
  }
  const result = unmaskSum(config, { adverts: round.adverts, shared, manifests, maskedSum: round.maskedSum, reveals });
  return { ...round, result, reveals };
}

/** Updates for sites 1..n. */
export function testUpdates(sites: number, length: number, seed = 1): Map<number, Float32Array> {
  return new Map(Array.from({ length: sites }, (_, i) => [i + 1, randomUpdate(length, seed * 7919 + i)] as const));
}

/** `count` distinct sites of 1..n, chosen by a seeded shuffle. */
export function pickSites(sites: number, count: number, seed: number): number[] {
  const rng = seededRandom(seed);
  const all = Array.from({ length: sites }, (_, i) => i + 1);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}
