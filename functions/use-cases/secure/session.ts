import { randomBytes } from "node:crypto";
import { sharedSeed } from "../../../core/codec/index.ts";
import { keptCount } from "../../../core/codec/kept-count.ts";
import { neighbourhoodParameters, SecAggConfig } from "../../../core/secagg/index.ts";
import type { FederationConfig } from "../../../core/schemas/federation.ts";
import { Preprocessing } from "../../../core/schemas/preprocessing.ts";
import { RoundRecord } from "../../../core/schemas/round.ts";
import { SecureSession } from "../../../core/schemas/secure-aggregation.ts";
import { SiteStats } from "../../../core/schemas/site-stats.ts";
import { taskSeed } from "../../../core/schemas/task-seed.ts";
import type { CoordinatorDeps } from "../../deps.ts";
import { keys } from "../../keys.ts";
import { mustReadJson, readJson, writeJson } from "../../repo.ts";
import { loadQuality } from "../quality.ts";
import { updateShape } from "../update-shape.ts";

/** Fewest sites a secure round runs with: the sum of two would give each the other's update. */
export const MIN_SECURE_SITES = 3;

/** Per-coordinate range of the codes under client-level privacy, in clips: the noise is added before quantising, so no L2 clip applies. */
const NOISY_RANGE_CLIPS = 64;

/**
 * The round's session, created by the first caller that needs it: the sites with a registered
 * identity and reported statistics that the data-quality checks kept, sorted by id; the neighbour
 * graph for their number (`neighbourhoodParameters` with the policy's targets); a fresh round seed;
 * the quantisation (L2 clip, or a wide range under client-level privacy, whose noise is added
 * first); the sites' public weights. `null` while fewer than three sites can take part.
 */
export async function secureSession(deps: CoordinatorDeps, config: FederationConfig, record: RoundRecord): Promise<SecureSession | null> {
  const existing = await readJson(deps.store, keys.secureSession(record.round), SecureSession);
  if (existing) return existing;
  const policy = config.secureAggregation!;
  const excluded = new Set((await loadQuality(deps))?.excluded ?? []);
  const registered = (await deps.store.list(keys.identitiesPrefix)).map((k) => k.slice(keys.identitiesPrefix.length, -".json".length)).filter((id) => !excluded.has(id));
  const candidates: { id: string; rows: number }[] = [];
  for (const id of registered.sort()) {
    const stats = await readJson(deps.store, keys.stats(id), SiteStats);
    if (stats) candidates.push({ id, rows: Math.max(1, stats.rows) });
  }
  const n = candidates.length;
  if (n < MIN_SECURE_SITES) return null;
  const prep = await mustReadJson(deps.store, keys.preprocessing, Preprocessing, "NO_PREPROCESSING", "preprocessing");
  const shape = updateShape(config, prep);
  const { neighbours, threshold } = neighbourhoodParameters(n, policy.targets);
  const dp = config.privacy?.level === "client";
  const clip = dp ? config.privacy!.clip : policy.clip;
  const dropout = policy.targets?.dropout ?? 0.3;
  // A survivor's self-mask seed is rebuilt from t answers of its surviving neighbours; under
  // client-level privacy the noise shares must add up to the full noise.
  const noiseShares = dp ? Math.max(threshold + 1, Math.ceil((1 - dropout) * n)) : undefined;
  const minSummands = Math.max(threshold + 1, noiseShares ?? 2);
  const randk = shape.codec.name === "randk-int8" ? randkOf(shape.length, shape.codec.fraction ?? 1, sharedSeed(taskSeed(config.seed, record.round))) : undefined;
  const now = deps.clock.now();
  const session: SecureSession = {
    config: SecAggConfig.parse({
      round: record.round,
      roundSeed: randomBytes(32).toString("hex"),
      sites: n,
      neighbours,
      threshold,
      length: randk?.kept ?? shape.length,
      quantisation: {
        ...(dp ? { range: NOISY_RANGE_CLIPS * clip } : { clipNorm: clip, ...(policy.range !== undefined && { range: policy.range }) }),
        maxSummands: n,
        rounding: "stochastic",
        bits: ringBits(policy, n, dp),
      },
    }),
    participants: candidates.map((c) => c.id),
    // Client-level privacy weighs sites equally (its noise is calibrated to equally weighted, clipped updates).
    weights: candidates.map((c) => (dp ? 1 : c.rows)),
    rows: candidates.map((c) => c.rows),
    minSummands,
    ...(noiseShares !== undefined && { noiseShares }),
    ...(randk && { randk }),
    createdAt: now,
    advertiseBy: now + policy.phaseSeconds * 1000,
  };
  await writeJson(deps.store, keys.secureSession(record.round), session, { ifAbsent: true });
  // Whoever wrote first fixed the session.
  const stored = await mustReadJson(deps.store, keys.secureSession(record.round), SecureSession, "NO_SESSION", `secure session of round ${record.round}`);
  deps.logger.info("secure round opened", { round: record.round, sites: n, neighbours, threshold });
  return stored;
}

/** Most sites a 16-bit ring takes: each site's codes keep at least 127 steps either side of zero. */
export const MAX_SITES_16_BIT = Math.floor((2 ** 15 - 1) / 127);

/**
 * The ring a round masks in: the policy's, but Z_2^32 for rounds of more than `MAX_SITES_16_BIT`
 * sites and under client-level privacy, whose noise (64 clips wide) would leave 16 bits too few
 * steps. Whatever the codec: its per-site scales cannot be summed under masks, so the shared
 * fixed point replaces them.
 */
export function ringBits(policy: { readonly bits?: 16 | 32 }, sites: number, noised: boolean): 16 | 32 {
  return policy.bits === 16 && sites <= MAX_SITES_16_BIT && !noised ? 16 : 32;
}

function randkOf(length: number, fraction: number, seed: number): SecureSession["randk"] {
  const kept = keptCount(fraction, length);
  return { seed, kept, gain: length / kept };
}
