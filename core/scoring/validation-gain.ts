/**
 * @module
 * Validation-based contribution: the marginal gain of each site's update on a validation set the
 * coordinator holds — how much worse (or better) the round's model would be without it. Leave-one-
 * out over the round's own strategy and state, so that a robust aggregator's damping is counted:
 * an update the aggregator already neutralises costs little and scores near zero.
 */
import type { Strategy, StrategyState, SiteUpdate } from "../strategy/strategy.ts";

export interface GainInput {
  readonly strategy: Strategy;
  /** The strategy state the round aggregated with (not modified). */
  readonly state: StrategyState;
  readonly global: Float32Array;
  /** The updates in the round's aggregate, with the weights they were aggregated with. */
  readonly kept: readonly SiteUpdate[];
  /** Updates scored but left out of the aggregate (sites in quarantine). */
  readonly excluded: readonly SiteUpdate[];
  /** The round's model. */
  readonly model: Float32Array;
  /** Validation loss of a body. */
  readonly loss: (body: Float32Array) => number;
}

/**
 * Each site's gain as a share of the round model's validation loss: (L(without it) − L(round)) /
 * L(round) for a site in the aggregate, (L(round) − L(with it)) / L(round) for a site left out.
 * Positive: the update helps. A leave-one-out aggregate the strategy skips, or a non-finite loss,
 * gives no gain for that site (absent from the map).
 *
 * @example
 * marginalGains({ strategy, state, global, kept, excluded: [], model, loss }) // Map { "site-01" => 0.031, "site-04" => -0.12 }
 */
export function marginalGains(input: GainInput): Map<string, number> {
  const base = input.loss(input.model);
  const gains = new Map<string, number>();
  if (!(Number.isFinite(base) && base > 0)) return gains;
  const lossWith = (updates: readonly SiteUpdate[]): number | null => {
    if (updates.length === 0) return input.loss(input.global);
    const result = input.strategy.aggregate({ global: input.global, updates }, input.state);
    if (result.kind !== "model") return null;
    const l = input.loss(result.model);
    return Number.isFinite(l) ? l : null;
  };
  for (const u of input.kept) {
    const without = lossWith(input.kept.filter((k) => k !== u));
    if (without !== null) gains.set(u.siteId, (without - base) / base);
  }
  for (const u of input.excluded) {
    const withIt = lossWith([...input.kept, u]);
    if (withIt !== null) gains.set(u.siteId, (base - withIt) / base);
  }
  return gains;
}
