import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { Interval, Z95 } from "./interval.ts";
import { wilsonInterval } from "./wilson-interval.ts";

describe("wilsonInterval", () => {
  it.each([
    // At 0/n the upper bound is z²/(n + z²), at n/n the lower bound n/(n + z²); 5/10 is ½ ± 0.2634.
    [0, 10, 0, 0.2775],
    [5, 10, 0.2366, 0.7634],
    [10, 10, 0.7225, 1],
    // Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3.
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])("gives the published figures for %i/%i", (k, n, lo, hi) => {
    // Execute
    const interval = wilsonInterval(k, n);

    // Assert
    expect(interval?.[0]).toBeCloseTo(lo, 4);
    expect(interval?.[1]).toBeCloseTo(hi, 4);
  });

  it("matches the closed forms at 0/n and n/n exactly", () => {
    // Execute
    const none = wilsonInterval(0, 10);
    const all = wilsonInterval(10, 10);

    // Assert
    expect(none).toEqual([0, expect.closeTo((Z95 * Z95) / (10 + Z95 * Z95), 12)]);
    expect(all).toEqual([expect.closeTo(10 / (10 + Z95 * Z95), 12), 1]);
  });

  it("is null for an empty denominator", () => {
    // Execute / Assert
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it("holds the proportion within [0, 1] for any k of n", () => {
    // Prepare
    const counts = fc.integer({ min: 1, max: 1_000_000 }).chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)));

    // Execute / Assert
    fc.assert(
      fc.property(counts, ([k, n]) => {
        const interval = wilsonInterval(k, n);
        expect(Interval.safeParse(interval).success).toBe(true);
        const [lo, hi] = interval as Interval;
        expect(lo).toBeLessThanOrEqual(k / n);
        expect(hi).toBeGreaterThanOrEqual(k / n);
      }),
    );
  });

  it("covers the true proportion in about 95 % of 400 seeded binomial draws", () => {
    // Prepare: 40 trials at p = 0.3.
    const rng = seededRandom(20_27);
    const p = 0.3;

    // Execute
    let covered = 0;
    for (let draw = 0; draw < 400; draw++) {
      let k = 0;
      for (let i = 0; i < 40; i++) if (rng() < p) k += 1;
      const [lo, hi] = wilsonInterval(k, 40) as Interval;
      if (lo <= p && p <= hi) covered += 1;
    }

    // Assert
    expect(covered / 400).toBeGreaterThanOrEqual(0.9);
    expect(covered / 400).toBeLessThanOrEqual(0.99);
  });
});
