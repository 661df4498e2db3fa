import { describe, expect, it } from "vitest";
import type { EvalCounts } from "../metrics/eval-counts.ts";
import { noisySiteStats } from "../preprocess/noisy-stats.ts";
import { computeSiteStats, withOutOfRange } from "../preprocess/site-stats.ts";
import type { Table } from "../preprocess/table.ts";
import { seededRandom, standardNormal } from "../random.ts";
import { FeatureSpec } from "../schemas/feature-spec.ts";
import { detectDrift } from "./drift.ts";
import { driftDecision, driftPolicy } from "./policy.ts";

const spec = FeatureSpec.parse({
  label: { column: "event", positive: ["1"] },
  features: [
    { name: "age", column: "age", type: "numeric", range: { min: 18, max: 100 } },
    { name: "chol", column: "chol", type: "numeric", range: { min: 100, max: 400 }, unit: "mg/dL" },
    { name: "ward", column: "ward", type: "categorical", levels: ["A", "B", "C"] },
  ],
});
const policy = driftPolicy();

interface Cohort {
  readonly rows?: number;
  readonly olderBy?: number;
  readonly cholFactor?: number;
  readonly cholMissing?: number;
  readonly prevalence?: number;
  readonly wardA?: number;
}

/** One hospital's rows over a window: age, cholesterol in mg/dL (or divided by a unit factor), ward, event. */
function cohort(seed: number, o: Cohort = {}): Table {
  const rng = seededRandom(seed);
  const wardA = o.wardA ?? 1 / 3;
  const rows = Array.from({ length: o.rows ?? 400 }, () => {
    const age = Math.max(18, 55 + (o.olderBy ?? 0) + 10 * standardNormal(rng));
    const chol = (210 + 40 * standardNormal(rng)) / (o.cholFactor ?? 1);
    const u = rng();
    const ward = u < wardA ? "A" : u < wardA + (1 - wardA) / 2 ? "B" : "C";
    return [age.toFixed(0), rng() < (o.cholMissing ?? 0) ? "NA" : chol.toFixed(2), ward, rng() < (o.prevalence ?? 0.12) ? "1" : "0"];
  });
  return { columns: ["age", "chol", "ward", "event"], rows };
}

const stats = (t: Table) => computeSiteStats(t, spec);
const champion = stats(cohort(1, { rows: 1200 }));
const drift = (current: Cohort) => detectDrift(champion, stats(cohort(2, current)), spec, policy, "site-3");
const checks = (flags: { check: string; feature?: string | undefined }[]) => flags.map((f) => [f.check, f.feature]);

describe("detectDrift", () => {
  it("says nothing about a window drawn like the champion's", () => {
    expect(drift({})).toEqual([]);
  });

  it("reads cholesterol now in mmol/L as a unit error with its factor, and leaves the site's data out", () => {
    // Execute
    const flags = drift({ cholFactor: 38.67 });

    // Assert: the unit flag stands in for the shift and PSI that follow from it.
    expect(checks(flags)).toEqual([["unit", "chol"]]);
    expect(flags[0]?.score).toBeCloseTo(38.67, 0);
    expect(flags[0]?.reason).toMatch(
      /^site-3: chol mean 5\.\d\d? now vs 2\d\d in the champion's training data, 3[89]\.\d× smaller: close to the factor 38\.67 between mg\/dL and mmol\/L of cholesterol\. Recorded in another unit\?$/,
    );
    expect(driftDecision(flags, policy)).toMatchObject({ trigger: false, excludeSites: ["site-3"] });
  });

  it("flags older patients by PSI and a mean shift, not as a unit error, and calls for a run", () => {
    // Execute
    const flags = drift({ olderBy: 12 });

    // Assert
    expect(checks(flags)).toEqual([
      ["shift", "age"],
      ["psi", "age"],
    ]);
    expect(flags[0]?.reason).toMatch(/^site-3: age mean 6[67](\.\d)? now vs 5[45](\.\d)? in the champion's training data \(\+1\.\d\d pooled standard deviations\)$/);
    expect(flags[1]?.reason).toMatch(
      /^site-3: age PSI \d\.\d\d between the champion's training data and now, over 10 groups of its 512 histogram bins: a major shift \(≥ 0\.25\); its χ² form \d\.\d\d where chance alone reaches 0\.\d\d; mean 6[67](\.\d)? now vs 5[45](\.\d)?$/,
    );
    expect(flags[1]?.severity).toBe("act");
    expect(driftDecision(flags, policy)).toMatchObject({ trigger: true, excludeSites: [] });
  });

  it("flags a label prevalence that moved", () => {
    const flags = drift({ prevalence: 0.3 });
    expect(checks(flags)).toEqual([["prevalence", undefined]]);
    expect(flags[0]?.reason).toMatch(/^site-3: label prevalence [23]\d% now vs 1\d% in the champion's training data \(z = \d+\.\d, 400 rows\)$/);
  });

  it("flags a missing rate that moved, without reading the rest of the values as drift", () => {
    const flags = drift({ cholMissing: 0.4 });
    expect(checks(flags)).toEqual([["missing", "chol"]]);
    expect(flags[0]?.reason).toMatch(/^site-3: chol is missing in [34]\d% of rows now vs 0% in the champion's training data \(z = \d+\.\d\)$/);
  });

  it("flags a categorical mix that moved by PSI over its levels, naming the level", () => {
    const flags = drift({ wardA: 0.7 });
    expect(checks(flags)).toEqual([["psi", "ward"]]);
    expect(flags[0]?.reason).toMatch(/^site-3: ward PSI 0\.\d\d between the champion's training data and now, over its 3 levels: a major shift \(≥ 0\.25\); its χ² form 0\.\d\d where chance alone reaches 0\.\d\d; "A" [67]\d% of rows now vs 3\d%$/);
  });

  it("reads readings the data model refused, averaging a factor away, as a unit error", () => {
    // Prepare: 90 % of the window's cholesterol refused as out of range, averaging 5.4 (mmol/L).
    const current = withOutOfRange(stats(cohort(2, { cholMissing: 0.9 })), { chol: { count: 360, mean: 5.4 } });

    // Execute
    const flags = detectDrift(champion, current, spec, policy, "site-3");

    // Assert
    expect(checks(flags)).toEqual([["unit", "chol"]]);
    expect(flags[0]?.reason).toMatch(/^site-3: [89]\d% of chol readings are outside the data model's range now vs 0% in the champion's training data; they average 5\.4 vs 2\d\d, 3\d\.\d× smaller: close to the factor 38\.67/);
  });

  it("flags a feature the site stopped sending", () => {
    const { chol: _, ...rest } = stats(cohort(2)).features;
    const flags = detectDrift(champion, { ...stats(cohort(2)), features: rest }, spec, policy, "site-3");
    expect(flags).toEqual([{ siteId: "site-3", check: "missing", feature: "chol", score: 1, severity: "act", reason: "site-3: sent no numeric statistics for chol; the champion's training data has them" }]);
  });

  it("adds the champion's performance after the statistics when evaluation counts come with them", () => {
    // Prepare: perfectly ranked before (AUROC 1), a coin toss now (0.5).
    const before: EvalCounts = { n: 100, tp: 50, fn: 0, fp: 0, tn: 50, pos: [0, 0, 0, 50], neg: [50, 0, 0, 0] };
    const now: EvalCounts = { n: 100, tp: 25, fn: 25, fp: 25, tn: 25, pos: [25, 0, 0, 25], neg: [25, 0, 0, 25] };

    // Execute
    const flags = detectDrift(champion, stats(cohort(2, { prevalence: 0.3 })), spec, policy, "site-3", { evaluation: { reference: before, current: now } });

    // Assert
    expect(flags.map((f) => f.check)).toEqual(["prevalence", "auroc", "calibration"]);
  });
});

describe("detectDrift without histograms", () => {
  // No ranges: the sites count no histograms.
  const bare = FeatureSpec.parse({ ...spec, features: spec.features.map(({ range: _, ...f }) => f) });
  const before = computeSiteStats(cohort(1, { rows: 1200 }), bare);
  const now = computeSiteStats(cohort(2, { olderBy: 12 }), bare);

  it("reads PSI from the moments as normal, saying so", () => {
    const flags = detectDrift(before, now, bare, policy, "site-3");
    expect(checks(flags)).toEqual([
      ["shift", "age"],
      ["psi", "age"],
    ]);
    expect(flags[1]?.reason).toMatch(/^site-3: age PSI 1\.\d\d between the champion's training data and now, from means and SDs, read as normal: no histogram: a major shift \(≥ 0\.25\); chance alone reaches 0\.\d\d; mean 6[67](\.\d)? now vs 5[45](\.\d)?, SD \d+(\.\d+)? vs \d+(\.\d+)?$/);
    expect(checks(detectDrift(before, computeSiteStats(cohort(2), bare), bare, policy, "site-3"))).toEqual([]);
  });

  it("leaves PSI out when the policy says so", () => {
    expect(checks(detectDrift(before, now, bare, driftPolicy({ psiWithoutHistogram: "skip" }), "site-3"))).toEqual([["shift", "age"]]);
  });
});

describe("detectDrift on noisy statistics", () => {
  // Noisy statistics clip values into their ranges and carry no histograms.
  const noisy = (t: Table, seed: number) => {
    const rng = seededRandom(seed);
    return noisySiteStats(computeSiteStats(t, spec, { bounded: true }), spec, { epsilon: 1, delta: 1e-6 }, () => standardNormal(rng));
  };
  const before = noisy(cohort(1, { rows: 1200 }), 101);
  const noise = { noise: { epsilon: 1, delta: 1e-6 } };
  const noisyDrift = (current: Cohort) => detectDrift(before, noisy(cohort(2, current), 102), spec, policy, "site-3", noise);

  it("says nothing about a window drawn like the champion's", () => {
    expect(noisyDrift({})).toEqual([]);
  });

  it("reads values piled at the end of the range as a unit error", () => {
    const flags = noisyDrift({ cholFactor: 38.67 });
    expect(checks(flags)).toEqual([["unit", "chol"]]);
    expect(flags[0]?.reason).toMatch(/^site-3: chol mean 10\d(\.\d+)? now vs 2\d\d in the champion's training data, piled at the lower end of the declared range \[100, 400\]: values below it\. Recorded in another unit\?$/);
  });

  it("flags older patients by their mean; the noisy spread keeps PSI from the moments below its noise floor", () => {
    expect(checks(noisyDrift({ olderBy: 12 }))).toEqual([["shift", "age"]]);
  });
});
