import { z } from "zod";

/** Largest int32: the bound on |sum of codes| that keeps the mod-2^32 sum readable as a signed integer. */
const INT32_MAX = 2 ** 31 - 1;
/** Largest int16: the same bound for sums in Z_2^16. */
const INT16_MAX = 2 ** 15 - 1;

/**
 * How a float update becomes a vector in Z_2^32 (or Z_2^16, `bits`) before masking (and how the
 * unmasked sum comes back). The update is scaled down to L2 norm `clipNorm` if it is longer, then each coordinate is
 * clamped to [−range, range] (`range` defaults to `clipNorm`, the only per-coordinate bound an
 * L2 bound implies), then multiplied by `scale = Q / range` and rounded to an integer code in
 * [−Q, Q], with `Q = floor((2^(bits − 1) − 1) / maxSummands)`.
 *
 * No-overflow bound: the sum of m ≤ maxSummands codes lies in [−m·Q, m·Q] ⊆ [−(2^(bits−1) − 1),
 * 2^(bits−1) − 1], so the sum mod 2^bits, read as a signed integer, is the exact integer sum. Set `maxSummands` to
 * the round's number of sites (secure aggregation sums at most that many updates). The price is
 * resolution: one step is `range / Q`, e.g. 4.7e-8 · range for 100 sites in 32 bits, 3.1e-3 · range
 * in 16.
 */
export const QuantisationSpec = z
  .object({
    clipNorm: z.number().positive().finite().optional(),
    range: z.number().positive().finite().optional(),
    maxSummands: z.number().int().min(1).max(INT32_MAX),
    /** Stochastic rounding is unbiased (error < 1 step); nearest has error ≤ ½ step but is biased per coordinate. */
    rounding: z.enum(["stochastic", "nearest"]).default("stochastic"),
    /**
     * The ring the sum lives in, Z_2^bits: 32, or 16 for integer codecs (sites upload the low 16
     * bits of each masked value, 2 bytes instead of 4; Q then bounds the sum by 2^15 − 1).
     */
    bits: z.union([z.literal(16), z.literal(32)]).default(32),
  })
  .refine((spec) => spec.clipNorm !== undefined || spec.range !== undefined, { message: "quantisation needs a clipNorm, a range or both" })
  .refine((spec) => spec.bits === 32 || spec.maxSummands <= INT16_MAX, { message: `a 16-bit ring holds sums of at most ${INT16_MAX} codes`, path: ["maxSummands"] });
export type QuantisationSpec = z.infer<typeof QuantisationSpec>;

/** The per-coordinate bound R: `range`, else `clipNorm`. */
export function coordinateRange(spec: QuantisationSpec): number {
  return spec.range ?? (spec.clipNorm as number);
}

/**
 * Q, the largest |code| one update may hold so that `maxSummands` of them sum without overflow.
 *
 * @example
 * codeBound({ range: 1, maxSummands: 100, rounding: "nearest", bits: 32 }); // 21474836
 * codeBound({ range: 1, maxSummands: 100, rounding: "nearest", bits: 16 }); // 327
 */
export function codeBound(spec: QuantisationSpec): number {
  return Math.floor((spec.bits === 16 ? INT16_MAX : INT32_MAX) / spec.maxSummands);
}

/**
 * One quantisation step in float units, `range / Q`: the decoded sum of n updates is within
 * n steps of the sum of their clipped floats (n / 2 steps with nearest rounding).
 *
 * @example
 * quantisationStep({ clipNorm: 1, maxSummands: 10, rounding: "stochastic", bits: 32 }); // ≈ 4.66e-9
 */
export function quantisationStep(spec: QuantisationSpec): number {
  return coordinateRange(spec) / codeBound(spec);
}
