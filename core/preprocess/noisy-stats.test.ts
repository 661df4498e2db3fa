import { describe, expect, it } from "vitest";
import { seededRandom, standardNormal } from "../random.ts";
import { privacySpent } from "../privacy/index.ts";
import { assessSites } from "../quality/assess-sites.ts";
import type { FeatureSpec } from "../schemas/feature-spec.ts";
import { SiteStats } from "../schemas/site-stats.ts";
import { mergeSiteStats } from "./merge-stats.ts";
import { noiseProblem, noisySiteStats, recordTouches, statsNoiseSigma } from "./noisy-stats.ts";
import { computeSiteStats } from "./site-stats.ts";
import type { Table } from "./table.ts";

const spec: FeatureSpec = {
  features: [
    { name: "age", column: "age", type: "numeric", missing: [], range: { min: 20, max: 100 }, bins: 80 },
    { name: "chol", column: "chol", type: "numeric", missing: ["0"], range: { min: 50, max: 600 } },
    { name: "ward", column: "ward", type: "categorical", missing: [], levels: ["A", "B", "C"] },
  ],
  label: { column: "event", positive: ["1"] },
  missingTokens: ["", "NA"],
};
const noise = { epsilon: 1, delta: 1e-6 };

/** One hospital's rows; `prevalence` plants a label problem. */
function hospital(seed: number, rows = 600, prevalence = 0.12): Table {
  const rng = seededRandom(seed);
  return {
    columns: ["age", "chol", "ward", "event"],
    rows: Array.from({ length: rows }, () => [
      (45 + 25 * rng()).toFixed(0),
      rng() < 0.05 ? "0" : (200 + 35 * standardNormal(rng)).toFixed(0),
      rng() < 0.04 ? "NA" : ["A", "B", "C"][Math.floor(3 * rng())]!,
      rng() < prevalence ? "1" : "0",
    ]),
  };
}

describe("what noisy statistics need of the spec", () => {
  it("names the numeric features without a range and the categorical ones without levels", () => {
    // Prepare
    const loose: FeatureSpec = { ...spec, features: [{ name: "age", column: "age", type: "numeric", missing: [] }, { name: "ward", column: "ward", type: "categorical", missing: [] }] };

    // Execute and Assert
    expect(noiseProblem(spec)).toBeNull();
    expect(noiseProblem(loose)).toBe("noisy statistics need a range for numeric age and levels for categorical ward");
    expect(() => noisySiteStats(computeSiteStats(hospital(1), loose), loose, noise, Math.random)).toThrow("noisy statistics need a range for numeric age");
  });

  it("counts what one patient can change: rows, positives, four per number, one per category", () => {
    expect(recordTouches(spec)).toBe(2 + 4 + 4 + 1);
  });

  it("refuses median imputation, which noise on every histogram bin would bury", () => {
    const median: FeatureSpec = { ...spec, features: spec.features.map((f) => (f.name === "chol" ? { ...f, impute: "median" as const } : f)) };
    expect(noiseProblem(median)).toBe("noisy statistics cannot give a median: impute chol with the mean");
  });

  it("calibrates one release to the (ε, δ) asked, over √touches", () => {
    // Execute
    const sigma = statsNoiseSigma(spec, noise);
    const multiplier = sigma / Math.sqrt(recordTouches(spec));

    // Assert: the Gaussian mechanism with that multiplier spends at most ε, and barely less.
    expect(privacySpent([{ q: 1, sigma: multiplier, steps: 1 }], { delta: noise.delta }).epsilon).toBeLessThanOrEqual(1);
    expect(privacySpent([{ q: 1, sigma: multiplier * 0.98, steps: 1 }], { delta: noise.delta }).epsilon).toBeGreaterThan(1);
  });
});

describe("bounded statistics", () => {
  it("clip numbers into the range and count levels outside the declared ones as missing", () => {
    // Prepare
    const table = { columns: ["age", "chol", "ward", "event"], rows: [["5", "700", "A", "1"], ["50", "200", "Z", "0"], ["150", "100", "B", "0"]] };

    // Execute
    const stats = computeSiteStats(table, spec, { bounded: true });

    // Assert
    expect(stats.features.age).toMatchObject({ count: 3, mean: expect.closeTo((20 + 50 + 100) / 3, 12) });
    expect(stats.features.chol).toMatchObject({ count: 3, mean: expect.closeTo((600 + 200 + 100) / 3, 12) });
    expect(stats.features.ward).toEqual({ kind: "categorical", counts: { A: 1, B: 1, C: 0 }, missing: 1 });
  });
});

describe("noisySiteStats", () => {
  const exact = computeSiteStats(hospital(3), spec, { bounded: true });
  const sigma = statsNoiseSigma(spec, noise);

  it("adds unbiased noise of the calibrated size to counts, and to sums scaled by the range", () => {
    // Prepare
    const rng = seededRandom(9);
    const draws = Array.from({ length: 3000 }, () => noisySiteStats(exact, spec, noise, () => standardNormal(rng)));
    const moments = (xs: number[]) => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) };
    };

    // Execute
    const rows = moments(draws.map((d) => d.rows));
    const ages = moments(draws.map((d) => (d.features.age?.kind === "numeric" ? d.features.age.mean : Number.NaN)));

    // Assert: rounding adds 1/12 to the variance; the mean's noise is about σ·half/n.
    expect(rows.mean).toBeCloseTo(600, 0);
    expect(rows.sd / Math.sqrt(sigma ** 2 + 1 / 12)).toBeGreaterThan(0.95);
    expect(rows.sd / Math.sqrt(sigma ** 2 + 1 / 12)).toBeLessThan(1.05);
    const age = exact.features.age;
    if (age?.kind !== "numeric") throw new Error("age is numeric");
    expect(Math.abs(ages.mean - age.mean)).toBeLessThan(0.2);
    expect(ages.sd / ((sigma * 40) / age.count)).toBeGreaterThan(0.9);
    expect(ages.sd / ((sigma * 40) / age.count)).toBeLessThan(1.1);
  });

  it("sends counts that are whole and non-negative, means inside the range, and passes the wire schema", () => {
    // Prepare: a tiny site, where the noise is larger than its counts.
    const tiny = computeSiteStats(hospital(4, 5), spec, { bounded: true });
    const rng = seededRandom(2);

    // Execute
    const sent = Array.from({ length: 200 }, () => noisySiteStats(tiny, spec, noise, () => standardNormal(rng)));

    // Assert
    for (const s of sent) {
      expect(SiteStats.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
      expect(s.positives).toBeLessThanOrEqual(s.rows);
      const age = s.features.age;
      if (age?.kind !== "numeric") throw new Error("age is numeric");
      expect(age.mean).toBeGreaterThanOrEqual(20);
      expect(age.mean).toBeLessThanOrEqual(100);
      expect(age.histogram).toBeUndefined();
      expect(Object.keys(s.features.ward?.kind === "categorical" ? s.features.ward.counts : {})).toEqual(["A", "B", "C"]);
    }
  });

  it("reports a feature whose column the site lacks as exactly no values, so the agreement does not hinge on noise", () => {
    // Prepare: this site has no chol column.
    const table = hospital(7);
    const without = { columns: table.columns.filter((c) => c !== "chol"), rows: table.rows.map((r) => r.filter((_, i) => i !== 1)) };
    const rng = seededRandom(8);

    // Execute
    const sent = Array.from({ length: 50 }, () => noisySiteStats(computeSiteStats(without, spec, { bounded: true }), spec, noise, () => standardNormal(rng), ["chol"]));

    // Assert
    for (const s of sent) expect(s.features.chol).toEqual({ kind: "numeric", count: 0, mean: 0, m2: 0, missing: s.rows, zeros: 0 });
    const prep = mergeSiteStats([sent[0]!, computeSiteStats(hospital(8), spec), computeSiteStats(hospital(9), spec)], { ...spec, quorum: 1 });
    expect(prep.agreement?.features.find((f) => f.name === "chol")).toMatchObject({ providedBy: 2, used: false });
  });

  it("still shows the planted 80% prevalence site among ten, and no other, at ε = 1", () => {
    // Prepare
    const rng = seededRandom(5);
    const tables = Array.from({ length: 10 }, (_, i) => hospital(20 + i, 600, i === 3 ? 0.8 : 0.12));

    // Execute
    const sites = tables.map((t, i) => ({ siteId: `site-${i + 1}`, stats: noisySiteStats(computeSiteStats(t, spec, { bounded: true }), spec, noise, () => standardNormal(rng)) }));
    const flags = assessSites(sites, undefined, { noisy: true });

    // Assert
    expect(flags.map((f) => [f.siteId, f.check])).toEqual([["site-4", "prevalence"]]);
  });

  it("keeps the consortium's preprocessing close to the exact one over ten sites", () => {
    // Prepare
    const rng = seededRandom(6);
    const tables = Array.from({ length: 10 }, (_, i) => hospital(40 + i));

    // Execute
    const exactPrep = mergeSiteStats(tables.map((t) => computeSiteStats(t, spec)), spec);
    const noisyPrep = mergeSiteStats(tables.map((t) => noisySiteStats(computeSiteStats(t, spec, { bounded: true }), spec, noise, () => standardNormal(rng))), spec);

    // Assert: noise on the missing counts may add a missing flag that is 0 in every row.
    expect(noisyPrep.features.map((f) => f.name)).toEqual(exactPrep.features.map((f) => f.name));
    expect(noisyPrep.inputs.filter((i) => !i.endsWith(":missing"))).toEqual(exactPrep.inputs.filter((i) => !i.endsWith(":missing")));
    exactPrep.features.forEach((f, i) => {
      const g = noisyPrep.features[i];
      if (f.kind !== "numeric" || g?.kind !== "numeric") return;
      // The pooled mean's noise is about σ·half·√10 / 6000: 0.065 of chol's spread (range 550); three of those.
      expect(Math.abs(g.mean - f.mean) / f.sd).toBeLessThan(0.2);
      expect(Math.abs(g.sd / f.sd - 1)).toBeLessThan(0.25);
    });
  });
});
