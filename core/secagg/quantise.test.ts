import { describe, expect, it } from "vitest";
import { ConfigError, UpdateFormatError } from "../errors.ts";
import { seededRandom } from "../random.ts";
import { addWrapping } from "./add-wrapping.ts";
import { dequantiseSum } from "./dequantise-sum.ts";
import { codeBound, QuantisationSpec, quantisationStep } from "./quantisation-spec.ts";
import { quantise } from "./quantise.ts";
import { randomUpdate } from "../../test/support/secagg.ts";

const spec = (fields: Partial<QuantisationSpec> & { maxSummands: number }) => QuantisationSpec.parse({ rounding: "nearest", ...fields });

/** The update after the spec's L2 clip and per-coordinate clamp, in float64. */
function clipped(update: Float32Array, s: QuantisationSpec): Float64Array {
  const norm = Math.sqrt(update.reduce((a, v) => a + v * v, 0));
  const factor = s.clipNorm !== undefined && norm > s.clipNorm ? s.clipNorm / norm : 1;
  const range = s.range ?? s.clipNorm!;
  return Float64Array.from(update, (v) => Math.max(-range, Math.min(range, v * factor)));
}

describe("quantise", () => {
  it("maps a fixed vector to golden codes, negatives as two's complement and out-of-range values clamped", () => {
    // Prepare: Q = floor((2^31 − 1) / 2) = 1073741823, scale = Q.
    const s = spec({ range: 1, maxSummands: 2 });

    // Execute
    const codes = quantise(new Float32Array([0, 0.5, -0.5, 1, -1, 2, -3]), s);

    // Assert
    expect(codeBound(s)).toBe(1073741823);
    expect([...codes]).toEqual([0, 536870912, 2 ** 32 - 536870911, 1073741823, 2 ** 32 - 1073741823, 1073741823, 2 ** 32 - 1073741823]);
  });

  it("scales an update longer than the L2 bound down to it, and leaves a shorter one alone", () => {
    // Prepare
    const s = spec({ clipNorm: 1, maxSummands: 1 });

    // Execute
    const long = dequantiseSum(quantise(new Float32Array([3, 4]), s), s, 1);
    const short = dequantiseSum(quantise(new Float32Array([0.3, -0.4]), s), s, 1);

    // Assert
    expect(long[0]).toBeCloseTo(0.6, 6);
    expect(long[1]).toBeCloseTo(0.8, 6);
    expect(short[0]).toBeCloseTo(0.3, 6);
    expect(short[1]).toBeCloseTo(-0.4, 6);
  });

  it.each(["nearest", "stochastic"] as const)("decodes the sum of n %s-rounded updates within n steps of the float sum", (rounding) => {
    // Prepare: 10 sites, L2 clip 0.5 (some updates get clipped), coordinates clamped to ±0.02.
    const s = QuantisationSpec.parse({ clipNorm: 0.5, range: 0.02, maxSummands: 10, rounding });
    const updates = Array.from({ length: 10 }, (_, i) => randomUpdate(5000, 40 + i, 0.03));
    const floatSum = new Float64Array(5000);
    const sum = new Uint32Array(5000);

    // Execute
    for (const [i, update] of updates.entries()) {
      addWrapping(sum, quantise(update, s, { rng: seededRandom(i) }));
      clipped(update, s).forEach((v, j) => (floatSum[j]! += v));
    }
    const decoded = dequantiseSum(sum, s, 10);

    // Assert: ≤ n/2 steps to nearest, < n steps stochastic (plus float32 storage of the result).
    const step = quantisationStep(s);
    const bound = (rounding === "nearest" ? 5 : 10) * step;
    let worst = 0;
    for (let j = 0; j < 5000; j++) worst = Math.max(worst, Math.abs(decoded[j]! - floatSum[j]!) - Math.abs(floatSum[j]!) * 2 ** -24);
    expect(worst).toBeLessThanOrEqual(bound);
    expect(worst).toBeGreaterThan(0);
  });

  it("sums maxSummands updates at the edge of the range without wrapping", () => {
    // Prepare
    const s = spec({ range: 2, maxSummands: 100 });
    const plus = quantise(new Float32Array([2, -2]), s);
    const sum = new Uint32Array(2);

    // Execute
    for (let i = 0; i < 100; i++) addWrapping(sum, plus);
    const decoded = dequantiseSum(sum, s, 100);

    // Assert: |Σ| = 100 Q ≤ 2^31 − 1, so the signs survive.
    expect(100 * codeBound(s)).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(decoded[0]).toBeCloseTo(200, 4);
    expect(decoded[1]).toBeCloseTo(-200, 4);
  });

  it("rounds stochastically without bias", () => {
    // Prepare: a value a quarter of a step above zero.
    const s = QuantisationSpec.parse({ range: 1, maxSummands: 1, rounding: "stochastic" });
    const value = new Float32Array([0.25 * quantisationStep(s)]);
    const rng = seededRandom(9);

    // Execute
    let total = 0;
    for (let i = 0; i < 20_000; i++) total += quantise(value, s, { rng })[0]!;

    // Assert: codes are 0 or 1, with mean 0.25 (sd of the mean ≈ 0.003).
    expect(total / 20_000).toBeCloseTo(0.25, 1);
  });

  it("rejects non-finite values, and stochastic rounding without an rng", () => {
    // Prepare
    const s = spec({ range: 1, maxSummands: 1 });
    const stochastic = QuantisationSpec.parse({ range: 1, maxSummands: 1 });

    // Execute / Assert
    expect(() => quantise(new Float32Array([0, Number.NaN]), s)).toThrow(new UpdateFormatError("NON_FINITE", "cannot quantise: update value at index 1 is NaN"));
    expect(() => quantise(new Float32Array([Number.POSITIVE_INFINITY]), spec({ clipNorm: 1, maxSummands: 1 }))).toThrow(UpdateFormatError);
    expect(() => quantise(new Float32Array([0]), stochastic)).toThrow(new ConfigError("stochastic rounding needs an rng"));
  });
});

describe("dequantiseSum", () => {
  it("refuses a sum of more updates than the quantisation leaves room for", () => {
    // Prepare
    const s = spec({ range: 1, maxSummands: 10 });

    // Execute / Assert
    expect(() => dequantiseSum(new Uint32Array(1), s, 11)).toThrow("cannot decode a sum of 11 updates: the quantisation leaves room for 1 to 10");
  });
});

describe("QuantisationSpec", () => {
  it("accepts a clip norm, a range or both, and defaults to stochastic rounding", () => {
    // Execute / Assert
    expect(QuantisationSpec.parse({ clipNorm: 1, maxSummands: 3 }).rounding).toBe("stochastic");
    expect(QuantisationSpec.safeParse({ range: 1, maxSummands: 3 }).success).toBe(true);
    expect(QuantisationSpec.safeParse({ maxSummands: 3 }).error?.issues[0]?.message).toBe("quantisation needs a clipNorm, a range or both");
    expect(QuantisationSpec.safeParse({ range: 0, maxSummands: 3 }).success).toBe(false);
  });
});
