import { ConsiliumError } from "../../core/errors.ts";
import { decodeState } from "../../core/strategy/state-codec.ts";
import type { Strategy, StrategyState } from "../../core/strategy/strategy.ts";
import type { CoordinatorDeps } from "../deps.ts";
import { keys } from "../keys.ts";

const isEmpty = (s: StrategyState): boolean => Object.keys(s.scalars).length === 0 && Object.keys(s.vectors).length === 0;

/**
 * The strategy state that came with model `baseVersion`: the round that produced a model writes its
 * state (an empty state too, encoded as a header with no entries) before closing. Model 0 starts
 * from `init`. A missing state is corrupt state, not a fresh start: resetting server moments or
 * control variates mid-federation would silently change the algorithm. Only a strategy whose state
 * is always empty (FedAvg) loses nothing by starting from `init`.
 */
export async function loadStrategyState(deps: CoordinatorDeps, strategy: Strategy, baseVersion: number, dim: number): Promise<StrategyState> {
  const fresh = strategy.init(dim);
  if (baseVersion === 0) return fresh;
  const key = keys.strategyState(baseVersion);
  const bytes = await deps.store.get(key);
  if (bytes === null) {
    if (isEmpty(fresh)) return fresh;
    throw new ConsiliumError("CORRUPT_STATE", `strategy state ${key} of model ${baseVersion} is missing; ${strategy.spec} cannot go on without it`, 500);
  }
  try {
    return decodeState(bytes);
  } catch (err) {
    throw new ConsiliumError("CORRUPT_STATE", `strategy state ${key} does not decode: ${err instanceof Error ? err.message : String(err)}`, 500);
  }
}
