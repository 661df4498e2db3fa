import { createStrategy } from "./create-strategy.ts";

/**
 * Whether a strategy can run under secure aggregation: it must finish from the weighted mean alone
 * (`fromMean`) and keep no control variates, since the coordinator sees only the sum.
 *
 * @example
 * secureCompatible("fedadam:0.05"); // true
 * secureCompatible("median");       // false
 */
export function secureCompatible(spec: string): boolean {
  const strategy = createStrategy(spec);
  return strategy.fromMean !== undefined && !strategy.controlVariates;
}
