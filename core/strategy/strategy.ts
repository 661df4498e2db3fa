/**
 * @module
 * The aggregation strategy interface. A strategy holds no hidden state: whatever it carries from
 * one round to the next (server-optimizer moments, residuals, reputations) is a `StrategyState`
 * value passed in and returned, which the coordinator stores between stateless invocations.
 * `createStrategy` builds strategies as pipelines of stages (`stage.ts`, `pipeline.ts`).
 */

/** Serialisable strategy state: named scalars and named float vectors. */
export interface StrategyState {
  readonly scalars: Readonly<Record<string, number>>;
  readonly vectors: Readonly<Record<string, Float32Array>>;
}

export const emptyState: StrategyState = { scalars: {}, vectors: {} };

/** One site's decoded contribution: the change it made to the shared body, and its weight. */
export interface SiteUpdate {
  readonly siteId: string;
  readonly delta: Float32Array;
  /** Usually the site's number of training samples. */
  readonly weight: number;
  /** The change of the site's control variate, for strategies with `controlVariates`. */
  readonly control?: Float32Array;
}

export interface AggregateInput {
  /** The shared body the round started from. */
  readonly global: Float32Array;
  readonly updates: readonly SiteUpdate[];
}

export type AggregateResult =
  | { readonly kind: "model"; readonly model: Float32Array; readonly state: StrategyState }
  | { readonly kind: "skip"; readonly reason: string; readonly state: StrategyState };

export interface Strategy {
  /** The spec this strategy was built from, e.g. `fedadam:0.03`. */
  readonly spec: string;
  /**
   * Sites correct their local gradients with control variates and send the change of theirs with
   * each update (SCAFFOLD); the server's control is the state vector `c`, sent with every task.
   */
  readonly controlVariates?: boolean;
  init(dim: number): StrategyState;
  aggregate(input: AggregateInput, state: StrategyState): AggregateResult;
  /**
   * Present when the strategy is the sample-weighted mean followed by a server step (FedAvg,
   * the server optimizers, SCAFFOLD): it finishes the round from that mean, taken elsewhere
   * (streamed, `core/sum`), as `aggregate` would from the updates. `mean.weight` is ignored.
   */
  readonly fromMean?: (global: Float32Array, mean: SiteUpdate, state: StrategyState) => AggregateResult;
}
