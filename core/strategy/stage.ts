/**
 * @module
 * The three kinds of stage a strategy is composed of (`pipeline.ts`): update transforms, one
 * aggregator, one server step. Each stage is I/O-free and keeps no hidden state; what it carries
 * between rounds is its own `StrategyState`, which the pipeline stores under the stage's name.
 */
import type { SiteUpdate, StrategyState } from "./strategy.ts";

/** Rewrites the site updates before aggregation (e.g. norm bounding); never writes into its input. */
export interface UpdateTransform {
  readonly kind: "transform";
  /** Also the stage's state namespace. */
  readonly name: string;
  readonly spec: string;
  /** Receives the updates with positive weight, every delta of length `dim`. */
  apply(updates: readonly SiteUpdate[], dim: number): SiteUpdate[];
}

/** Turns the site deltas into one delta. */
export interface Aggregator {
  readonly kind: "aggregator";
  /** Also the stage's state namespace. */
  readonly name: string;
  /** Empty for the default aggregator (the sample-weighted mean), which a spec leaves unsaid. */
  readonly spec: string;
  init(dim: number): StrategyState;
  /**
   * Writes the aggregate of `updates` (positive weights, every delta of length `out.length`) into
   * `out` and returns the stage's next state; `state` is the stage's own, never written into.
   */
  aggregate(updates: readonly SiteUpdate[], state: StrategyState, out: Float32Array): StrategyState;
}

/** Moves the global model by the aggregated delta (plain step, server optimizer or SCAFFOLD). */
export interface ServerStep {
  readonly kind: "server";
  readonly name: string;
  /** Empty for the default step (apply the delta once) after an aggregator that is not the mean. */
  readonly spec: string;
  readonly controlVariates?: boolean;
  /** Its keys hold no ".": they are the strategy state's own (`m`, `v`, `t`, `c`), which stored states and the coordinator already name. */
  init(dim: number): StrategyState;
  /** `updates` are all the round's updates, lengths checked, for steps that read more than the aggregate (SCAFFOLD's controls). */
  step(global: Float32Array, delta: Float32Array, state: StrategyState, updates: readonly SiteUpdate[]): { model: Float32Array; state: StrategyState };
}

export type Stage = UpdateTransform | Aggregator | ServerStep;
