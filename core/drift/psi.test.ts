import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { normalPsi, psi, psiNoise, regroup } from "./psi.ts";

/** P(a < X ≤ b) for X ~ N(mean, sd²), by the Abramowitz–Stegun 7.1.26 erf (error < 1.5e-7). */
function normalMass(a: number, b: number, mean: number, sd: number): number {
  const erf = (x: number) => {
    const t = 1 / (1 + 0.3275911 * Math.abs(x));
    const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
    return x >= 0 ? y : -y;
  };
  const cdf = (x: number) => 0.5 * (1 + erf((x - mean) / (sd * Math.SQRT2)));
  return cdf(b) - cdf(a);
}

const histogram = fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 40 }).filter((h) => h.some((x) => x > 0));

describe("psi", () => {
  it("matches a hand computation", () => {
    // Prepare: shares 0.25 each against 0.1, 0.2, 0.3, 0.4; Σ (c − r) ln(c / r) =
    // −0.15 ln 0.4 + −0.05 ln 0.8 + 0.05 ln 1.2 + 0.15 ln 1.6
    // = 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228217: a moderate shift, below 0.25.
    const reference = [25, 25, 25, 25];
    const current = [10, 20, 30, 40];

    // Execute
    const index = psi(reference, current);

    // Assert
    expect(index).toBeCloseTo(0.228217, 6);
    expect(psi([0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4])).toBeCloseTo(index, 12);
  });

  it("reads an empty bin as a share of 1e-4", () => {
    // (0.25 − 0.5) ln(0.25 / 0.5) + (0.25 − 0.0001) ln(0.25 / 0.0001) = 0.173287 + 1.955229.
    expect(psi([2, 2, 0], [2, 1, 1])).toBeCloseTo(2.128516, 6);
    expect(psi([2, 2, 0], [2, 1, 1], 1e-2)).toBeCloseTo(0.173287 + 0.24 * Math.log(25), 6);
  });

  it("is ≥ 0, 0 between a histogram and itself, symmetric, and blind to the scale of the counts", () => {
    fc.assert(
      fc.property(histogram, histogram, fc.integer({ min: 2, max: 50 }), (a, b, k) => {
        const c = [...b, ...new Array<number>(Math.max(0, a.length - b.length)).fill(0)].slice(0, a.length);
        fc.pre(c.some((x) => x > 0));
        expect(psi(a, c)).toBeGreaterThanOrEqual(0);
        expect(psi(a, a)).toBe(0);
        expect(psi(c, a)).toBeCloseTo(psi(a, c), 10);
        expect(psi(a.map((x) => k * x), c)).toBeCloseTo(psi(a, c), 10);
      }),
    );
  });

  it("refuses histograms of different lengths or without values, with the reason", () => {
    expect(() => psi([1, 2], [1, 2, 3])).toThrow("reference has 2 bins but current has 3");
    expect(() => psi([0, 0], [1, 2])).toThrow("a histogram without values has no PSI");
  });
});

describe("regroup", () => {
  it("cuts on the two windows' average shares, keeping mass the reference lacks in a group of its own", () => {
    expect(regroup([4, 0, 0, 4], [0, 4, 4, 0], 2)).toEqual({ reference: [4, 4], current: [4, 4] });
    // All of the reference in bin 0 and all of the current in bin 3: two groups, not one.
    expect(regroup([8, 0, 0, 0], [0, 0, 0, 8], 4)).toEqual({ reference: [8, 0], current: [0, 8] });
  });

  it("keeps every count and never makes more groups than asked", () => {
    fc.assert(
      fc.property(histogram, fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 1_000_000 }), (a, groups, seed) => {
        const rng = seededRandom(seed);
        const b = a.map(() => Math.floor(rng() * 50));
        const g = regroup(a, b, groups);
        expect(g.reference.reduce((x, y) => x + y, 0)).toBe(a.reduce((x, y) => x + y, 0));
        expect(g.current.reduce((x, y) => x + y, 0)).toBe(b.reduce((x, y) => x + y, 0));
        expect(g.reference.length).toBeLessThanOrEqual(groups);
      }),
    );
  });

  it("brings sampling noise down to Yurdakul's (1/n + 1/m)·χ²(groups − 1)", () => {
    // Prepare: 400 pairs of 300-row windows from one distribution, in 512 bins.
    const rng = seededRandom(11);
    const draw = () => {
      const h = new Array<number>(512).fill(0);
      for (let i = 0; i < 300; i++) h[Math.floor(512 * rng() ** 2)]! += 1;
      return h;
    };
    const raw: number[] = [];
    const grouped: number[] = [];

    // Execute
    for (let i = 0; i < 400; i++) {
      const [a, b] = [draw(), draw()];
      raw.push(psi(a, b));
      const g = regroup(a, b, 10);
      grouped.push(psi(g.reference, g.current));
    }

    // Assert: 512 bins make noise look like a major shift; 10 groups give mean ≈ 9·(2/300) = 0.06,
    // and the z = 2.326 (99 %) floor is passed about 1 % of the time.
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    expect(mean(raw)).toBeGreaterThan(1);
    expect(mean(grouped)).toBeGreaterThan(0.05);
    expect(mean(grouped)).toBeLessThan(0.07);
    const floor = psiNoise(9, 300, 300, 2.326348);
    expect(floor).toBeCloseTo(0.1445, 3);
    expect(grouped.filter((x) => x > floor).length / grouped.length).toBeLessThan(0.03);
  });
});

describe("normalPsi", () => {
  it("matches the Jeffreys divergence of two normals by hand", () => {
    // Means 0.5 apart, SD 1: 0.25 · 2 / 2 = 0.25. Same mean, SD 1 and 2: (1 − 4)² / (2 · 1 · 4) = 1.125.
    expect(normalPsi({ mean: 0, sd: 1 }, { mean: 0.5, sd: 1 })).toBeCloseTo(0.25, 12);
    expect(normalPsi({ mean: 3, sd: 1 }, { mean: 3, sd: 2 })).toBeCloseTo(1.125, 12);
  });

  it("is the ceiling the binned index of normal data approaches as bins get fine", () => {
    // Prepare: exact shares of N(0, 1) and N(0.5, 1.2²) in equal bins over [−6, 7].
    const shares = (bins: number, mean: number, sd: number) =>
      Array.from({ length: bins }, (_, i) => normalMass(-6 + (13 * i) / bins, -6 + (13 * (i + 1)) / bins, mean, sd));
    const exact = normalPsi({ mean: 0, sd: 1 }, { mean: 0.5, sd: 1.2 });

    // Execute: no floor, which would flatten the far tails where the spreads differ most.
    const coarse = psi(shares(10, 0, 1), shares(10, 0.5, 1.2), 1e-300);
    const fine = psi(shares(512, 0, 1), shares(512, 0.5, 1.2), 1e-300);

    // Assert
    expect(coarse).toBeLessThan(fine);
    expect(fine).toBeLessThanOrEqual(exact);
    expect(fine).toBeGreaterThan(0.99 * exact);
  });
});
