import { seededSubset } from "../../../core/codec/seeded-subset.ts";
import { ConsiliumError } from "../../../core/errors.ts";
import type { PrivacySpent } from "../../../core/schemas/privacy.ts";
import { acceptMaskedInput, addWrapping, readMasked, SecAggError, secureMean, unmaskSum } from "../../../core/secagg/index.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { recordRejection } from "../record-rejection.ts";
import { readSecureInputs } from "./inputs.ts";

/** What unmasking a secure round yields: the weighted mean of the sites in its sum, with their public weights, rows and privacy ledgers. */
export interface Unmasked {
  readonly kept: { siteId: string; weight: number }[];
  readonly mean: Float32Array;
  readonly rows: ReadonlyMap<string, number>;
  readonly privacy: ReadonlyMap<string, PrivacySpent>;
}

/**
 * The one place a secure round is unmasked: adds up the accepted masked inputs mod 2^32 as they
 * are read (each checked again against its signed manifest), removes the masks with the shares
 * the unmasking phase collected (`unmaskSum`) and decodes the sum into the weighted mean
 * (`secureMean`). No single update is ever decoded. When the shares cannot rebuild a secret the
 * sum needs, the answer is the reason, recorded, and the round is to be skipped.
 */
export async function unmaskRound(deps: CoordinatorDeps, round: number, length: number): Promise<Unmasked | { reason: string }> {
  const inputs = await readSecureInputs(deps, round);
  const { session } = inputs;
  const { config } = session;
  const maskedSum = new Uint32Array(config.length);
  for (const { siteId, post } of inputs.posts) {
    const bytes = await deps.store.get(keys.acceptedBin(round, siteId, post.manifest.sha256));
    if (bytes === null) throw new ConsiliumError("MISSING_UPDATE", `the accepted copy of site ${siteId}'s update for round ${round} is missing`, 500);
    acceptMaskedInput(config, post.manifest, inputs.directory, inputs.shared, bytes);
    addWrapping(maskedSum, readMasked(bytes, config.length, config.quantisation.bits));
  }
  let sum: Uint32Array;
  try {
    sum = unmaskSum(config, { adverts: inputs.adverts, shared: inputs.shared, manifests: inputs.posts.map((p) => p.post.manifest), maskedSum, reveals: inputs.reveals }).sum;
  } catch (err) {
    if (!(err instanceof SecAggError)) throw err;
    await recordRejection(deps, { siteId: null, round, code: err.code, message: err.message });
    return { reason: `secure aggregation could not unmask the sum: ${err.message}` };
  }
  const index = (siteId: string) => session.participants.indexOf(siteId);
  const max = Math.max(...session.weights);
  const kept = inputs.posts.map(({ siteId }) => ({ siteId, weight: session.weights[index(siteId)]! }));
  const rows = new Map<string, number>();
  const privacy = new Map<string, PrivacySpent>();
  for (const { siteId, post } of inputs.posts) {
    rows.set(siteId, session.rows[index(siteId)]!);
    if (post.privacy) privacy.set(siteId, post.privacy);
  }
  const randk = session.randk && { kept: seededSubset(length, session.randk.kept, session.randk.seed), gain: session.randk.gain };
  const mean = secureMean(sum, { spec: config.quantisation, summands: inputs.posts.length, scaleSum: kept.reduce((a, k) => a + k.weight / max, 0), length, ...(randk && { randk }) });
  return { kept, mean, rows, privacy };
}
