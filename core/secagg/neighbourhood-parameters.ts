import { z } from "zod";
import { ConfigError } from "../errors.ts";

/**
 * What the neighbourhood must withstand, per round: each site fails independently with
 * probability `dropout` after sharing its keys (never sends its masked input or never answers the
 * unmasking), and each site colludes with the coordinator independently with probability
 * `collusion`. `failure` bounds the chance that some secret cannot be recovered (the round is then
 * skipped); `exposure` bounds the chance that some site has t colluding neighbours (who could then
 * rebuild both its secrets).
 */
export const NeighbourhoodTargets = z.object({
  dropout: z.number().min(0).lt(1).default(0.3),
  collusion: z.number().min(0).lt(1).default(0.1),
  failure: z.number().gt(0).lt(1).default(1e-4),
  exposure: z.number().gt(0).lt(1).default(1e-8),
});
export type NeighbourhoodTargets = z.infer<typeof NeighbourhoodTargets>;

export interface NeighbourhoodParameters {
  /** k, the config's `neighbours`. */
  readonly neighbours: number;
  /** t, the config's `threshold`. */
  readonly threshold: number;
  /** Whether k = n − 1 (the complete graph of SecAgg). */
  readonly complete: boolean;
  /** Bound on a failed unmasking: n · P[Binomial(k, 1 − dropout) < t] (union bound); P[Binomial(n, dropout) ≥ n − t] when complete. */
  readonly failureBound: number;
  /** Bound on a site with t colluding neighbours: n · P[Binomial(k, collusion) ≥ t]; P[Binomial(n, collusion) ≥ t] when complete. */
  readonly exposureBound: number;
  /** Whether both bounds meet the targets (false: the fallback below). */
  readonly meetsTargets: boolean;
}

/**
 * k and t for a round of `sites` sites, the way Bell et al. (CCS 2020, §5) size them: the smallest
 * even k for which some t keeps both union bounds within the targets, taking the largest such t
 * (privacy first); the complete graph when no sparse k does. Whatever the probabilities, the
 * Harary graph guarantees: any k − t dropouts are recovered, and no coalition of t − 1 sites learns
 * a secret (and, k-connectivity, removing those k − 1 sites never splits the survivors, so the
 * coordinator learns only their total).
 * With few sites no k meets the targets (at the defaults: below 50 sites, where the binomials are
 * too coarse); the result is then the complete graph with a majority threshold,
 * t = ⌊(n − 1)/2⌋ + 1, and `meetsTargets: false`.
 *
 * At the default targets (30 % dropout, 10 % collusion, failure ≤ 1e-4, exposure ≤ 1e-8):
 *
 * | n | k | t | dropouts always recovered (k − t) | coalition that learns nothing (t − 1) | failure at 30 % dropout | t colluding neighbours at 10 % |
 * |---|---|---|---|---|---|---|
 * | 10 | 9 (complete) | 5 | any 4 sites (40 %) | 4 | 0.15 (targets unreachable) | 1.6e-3 |
 * | 50 | 49 (complete) | 21 | any 28 sites (56 %) | 20 | 3.6e-5 | 3.7e-9 |
 * | 100 | 66 | 28 | any 38 sites (38 %) | 27 | ≤ 9.1e-5 | ≤ 7.3e-10 |
 * | 1000 | 74 | 30 | any 44 sites | 29 | ≤ 4.0e-5 | ≤ 5.4e-9 |
 *
 * @example
 * neighbourhoodParameters(10);  // { neighbours: 9, threshold: 5, complete: true, … }
 * neighbourhoodParameters(100); // { neighbours: 66, threshold: 28, … }
 */
export function neighbourhoodParameters(sites: number, targets: Partial<NeighbourhoodTargets> = {}): NeighbourhoodParameters {
  if (!Number.isInteger(sites) || sites < 3) throw new ConfigError(`secure aggregation needs at least 3 sites, got ${sites}`);
  const { dropout, collusion, failure, exposure } = NeighbourhoodTargets.parse(targets);
  const degrees: number[] = [];
  for (let k = 2; k < sites - 1; k += 2) degrees.push(k);
  degrees.push(sites - 1);
  const bounds = (k: number, t: number) =>
    k === sites - 1
      ? // Complete graph: some survivor lacks t answering neighbours iff ≥ n − t sites drop; some site sees t colluders iff ≥ t collude.
        { failureBound: binomialAtLeast(sites, sites - t, dropout), exposureBound: binomialAtLeast(sites, t, collusion) }
      : { failureBound: Math.min(1, sites * binomialBelow(k, t, 1 - dropout)), exposureBound: Math.min(1, sites * binomialAtLeast(k, t, collusion)) };
  for (const k of degrees) {
    for (let t = k; t >= 2; t--) {
      const b = bounds(k, t);
      if (b.failureBound > failure) continue;
      if (b.exposureBound <= exposure) return { neighbours: k, threshold: t, complete: k === sites - 1, ...b, meetsTargets: true };
      break;
    }
  }
  const k = sites - 1;
  const t = Math.floor(k / 2) + 1;
  return { neighbours: k, threshold: t, complete: true, ...bounds(k, t), meetsTargets: false };
}

const LOG_FACTORIALS: number[] = [0];
function logFactorial(n: number): number {
  for (let i = LOG_FACTORIALS.length; i <= n; i++) LOG_FACTORIALS.push(LOG_FACTORIALS[i - 1]! + Math.log(i));
  return LOG_FACTORIALS[n]!;
}

function binomialPmf(n: number, k: number, p: number): number {
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  return Math.exp(logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/** P[Binomial(n, p) < t]. */
export function binomialBelow(n: number, t: number, p: number): number {
  let sum = 0;
  for (let i = 0; i < Math.min(t, n + 1); i++) sum += binomialPmf(n, i, p);
  return Math.min(1, sum);
}

/** P[Binomial(n, p) ≥ t]. */
export function binomialAtLeast(n: number, t: number, p: number): number {
  let sum = 0;
  for (let i = Math.max(t, 0); i <= n; i++) sum += binomialPmf(n, i, p);
  return Math.min(1, sum);
}
