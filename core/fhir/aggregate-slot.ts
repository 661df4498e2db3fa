/**
 * @module
 * Running aggregates of one patient's readings for one feature, two float64 per slot, so that a
 * stream of resources in any order is reduced as it arrives and partial states merge exactly.
 *
 * | op | a | b |
 * |---|---|---|
 * | latest / earliest | time of the kept reading | its value |
 * | mean | sum | count |
 * | min / max | the extreme | — |
 * | count | — | count |
 * | presence | 1 when seen | — |
 */
import type { Aggregation } from "./cdm.ts";

export type SlotOp = Aggregation | "presence";

export function initSlot(state: Float64Array, at: number, op: SlotOp): void {
  const i = 2 * at;
  switch (op) {
    case "latest":
    case "max":
      state[i] = Number.NEGATIVE_INFINITY;
      state[i + 1] = Number.NaN;
      return;
    case "earliest":
    case "min":
      state[i] = Number.POSITIVE_INFINITY;
      state[i + 1] = Number.NaN;
      return;
    default:
      state[i] = 0;
      state[i + 1] = 0;
  }
}

/** Takes one reading; ties in time keep the reading seen first. */
export function pushSlot(state: Float64Array, at: number, op: SlotOp, time: number, value: number): void {
  const i = 2 * at;
  switch (op) {
    case "latest":
      if (time > state[i]!) {
        state[i] = time;
        state[i + 1] = value;
      }
      return;
    case "earliest":
      if (time < state[i]!) {
        state[i] = time;
        state[i + 1] = value;
      }
      return;
    case "mean":
      state[i] = state[i]! + value;
      state[i + 1] = state[i + 1]! + 1;
      return;
    case "min":
      if (value < state[i]!) state[i] = value;
      return;
    case "max":
      if (value > state[i]!) state[i] = value;
      return;
    case "count":
      state[i + 1] = state[i + 1]! + 1;
      return;
    case "presence":
      state[i] = 1;
  }
}

/** Folds `src`'s slot into `dst`'s, as if `dst` had seen `src`'s readings after its own. */
export function mergeSlot(dst: Float64Array, src: Float64Array, at: number, op: SlotOp): void {
  const i = 2 * at;
  switch (op) {
    case "latest":
    case "earliest":
      if (src[i + 1] === src[i + 1]) pushSlot(dst, at, op, src[i]!, src[i + 1]!);
      return;
    case "mean":
    case "count":
      dst[i] = dst[i]! + src[i]!;
      dst[i + 1] = dst[i + 1]! + src[i + 1]!;
      return;
    case "min":
    case "max":
      pushSlot(dst, at, op, 0, src[i]!);
      return;
    case "presence":
      dst[i] = Math.max(dst[i]!, src[i]!);
  }
}

/** The aggregate; NaN without readings (except `count`: 0, and `presence`: 0). */
export function readSlot(state: Float64Array, at: number, op: SlotOp): number {
  const i = 2 * at;
  const a = state[i]!;
  const b = state[i + 1]!;
  switch (op) {
    case "latest":
    case "earliest":
      return b;
    case "mean":
      return b > 0 ? a / b : Number.NaN;
    case "min":
    case "max":
      return Number.isFinite(a) ? a : Number.NaN;
    case "count":
      return b;
    case "presence":
      return a;
  }
}
