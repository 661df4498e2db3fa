import type { Strategy } from "./strategy.ts";

/** Values in one site update: the body delta, followed by the control delta when the strategy keeps control variates. */
export const updateLength = (strategy: Strategy, bodySize: number): number => (strategy.controlVariates ? 2 * bodySize : bodySize);
