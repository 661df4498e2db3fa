/**
 * @module
 * Helpers for the strategy tests: updates from plain arrays, and one round of a spec.
 */
import { expect } from "vitest";
import { createStrategy } from "../../core/strategy/create-strategy.ts";
import type { AggregateResult, SiteUpdate, StrategyState } from "../../core/strategy/strategy.ts";

export const site = (siteId: string, delta: readonly number[] | Float32Array, weight: number): SiteUpdate => ({ siteId, delta: Float32Array.from(delta), weight });

export const modelOf = (r: AggregateResult): Float32Array => (r.kind === "model" ? r.model : expect.fail(`skipped: ${r.reason}`));

/** The delta `spec` aggregates `updates` into, from a zero model (with a plain step, the model is the delta). */
export function aggregated(spec: string, updates: readonly SiteUpdate[], state?: StrategyState): { delta: Float32Array; state: StrategyState } {
  const strategy = createStrategy(spec);
  const dim = updates[0]?.delta.length ?? 0;
  const result = strategy.aggregate({ global: new Float32Array(dim), updates }, state ?? strategy.init(dim));
  return { delta: modelOf(result), state: result.state };
}

/** Euclidean norm, in float64. */
export const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
