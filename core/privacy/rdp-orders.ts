import { ConfigError } from "../errors.ts";

/** Largest order the sampled Gaussian's RDP is computed at: the exact sum has one term per integer up to the order. */
export const MAX_ORDER = 10_000;

/**
 * Rényi orders the accountant tries unless told otherwise: every integer from 2 to 64, then 80,
 * 96, 128 and 256. The best order grows roughly as 1 + log(1/δ)/ε, so the dense range covers ε from
 * about 0.2 to 10 at δ = 1e-5 order by order, and the sparse tail serves small ε (tiny q, few steps).
 * Orders are integers because the RDP is computed exactly at integer orders only; above ε ≈ 10
 * the best order would lie below 2, and the bound from order 2 is valid but looser.
 */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([...Array.from({ length: 63 }, (_, i) => i + 2), 80, 96, 128, 256]);

/** Throws `ConfigError` unless `order` is an integer from 2 to `MAX_ORDER`. */
export function checkOrder(order: number): void {
  if (!(Number.isInteger(order) && order >= 2 && order <= MAX_ORDER)) {
    throw new ConfigError(`RDP orders must be integers from 2 to ${MAX_ORDER}, got ${order}`);
  }
}

/** Throws `ConfigError` unless `orders` is non-empty and each passes `checkOrder`. */
export function checkOrders(orders: readonly number[]): void {
  if (orders.length === 0) throw new ConfigError("at least one RDP order is needed");
  for (const order of orders) checkOrder(order);
}
