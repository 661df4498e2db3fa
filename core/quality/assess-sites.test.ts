import { describe, expect, it } from "vitest";
import { loadBuiltin } from "../../gpu-runner/data/datasets.ts";
import { seededRandom, standardNormal } from "../random.ts";
import { computeSiteStats } from "../preprocess/site-stats.ts";
import type { Table } from "../preprocess/table.ts";
import type { FeatureSpec } from "../schemas/feature-spec.ts";
import { assessSites } from "./assess-sites.ts";

const spec: FeatureSpec = {
  label: { column: "event", positive: ["1"] },
  missingTokens: ["", "NA"],
  features: [
    { name: "age", column: "age", type: "numeric", missing: [] },
    { name: "chol", column: "chol", type: "numeric", missing: [] },
    { name: "smoker", column: "smoker", type: "numeric", missing: [] },
    { name: "ward", column: "ward", type: "categorical", missing: [] },
  ],
} as unknown as FeatureSpec;

/** One hospital's rows: prevalence, cholesterol in mg/dL (or mmol/L), and a share of missing wards. */
function hospital(seed: number, o: { rows?: number; prevalence?: number; cholFactor?: number; missingWard?: number; cholZeros?: number } = {}): Table {
  const rng = seededRandom(seed);
  const rows = Array.from({ length: o.rows ?? 400 }, () => {
    const age = 40 + 30 * rng();
    const chol = rng() < (o.cholZeros ?? 0) ? 0 : (200 + 35 * standardNormal(rng)) / (o.cholFactor ?? 1);
    return [
      age.toFixed(0),
      chol.toFixed(3),
      rng() < 0.3 ? "1" : "0",
      rng() < (o.missingWard ?? 0) ? "NA" : ["A", "B", "C"][Math.floor(3 * rng())]!,
      rng() < (o.prevalence ?? 0.12) ? "1" : "0",
    ];
  });
  return { columns: ["age", "chol", "smoker", "ward", "event"], rows };
}

const assess = (tables: Table[]) => assessSites(tables.map((t, i) => ({ siteId: `site-${i + 1}`, stats: computeSiteStats(t, spec) })));

describe("assessSites", () => {
  it("flags a planted site whose labels look wrong, with the reason, and no other site", () => {
    const tables = Array.from({ length: 10 }, (_, i) => hospital(i + 1, i === 6 ? { prevalence: 0.8 } : {}));
    const flags = assess(tables);
    expect(flags.map((f) => [f.siteId, f.check])).toEqual([["site-7", "prevalence"]]);
    expect(flags[0]?.reason).toMatch(/^label prevalence 8\d% vs 1\d% at the other sites \(z = \d+\.\d\)$/);
  });

  it("flags a site that records cholesterol in mmol/L as a unit error, naming the factor", () => {
    const tables = Array.from({ length: 10 }, (_, i) => hospital(i + 1, i === 2 ? { cholFactor: 38.67 } : {}));
    const flags = assess(tables);
    expect(flags.map((f) => [f.siteId, f.check, f.feature])).toEqual([["site-3", "unit", "chol"]]);
    expect(flags[0]?.reason).toContain("close to the factor 38.67 between mg/dL and mmol/L of cholesterol");
    expect(flags[0]?.score).toBeCloseTo(38.67, 0);
  });

  it("flags missing values, zeros standing in for them, a shifted mean and a constant column", () => {
    const tables = Array.from({ length: 6 }, (_, i) => hospital(i + 1, i === 1 ? { missingWard: 0.7 } : i === 4 ? { cholZeros: 0.9 } : {}));
    const withAge = (t: Table, age: (a: number) => number): Table => ({ ...t, rows: t.rows.map(([a, ...rest]) => [String(age(Number(a))), ...rest]) });
    const shifted = withAge(hospital(7), (a) => a + 45);
    const flat = withAge(hospital(8), () => 55);
    const flags = assess([...tables, shifted, flat]);
    const of = (site: string) => flags.filter((f) => f.siteId === site).map((f) => [f.check, f.feature]);
    expect(of("site-2")).toEqual([["missing", "ward"]]);
    expect(of("site-5")).toEqual([["zeros", "chol"]]);
    expect(of("site-7")).toEqual([["shift", "age"]]);
    expect(of("site-8")).toEqual([["constant", "age"]]);
    expect(flags.find((f) => f.siteId === "site-5")?.reason).toMatch(/^chol is 0 in [89]\d% of rows vs 0% at the other sites: missing values recorded as 0\?/);
    // smoker is 0/1: its zeros are values, never flagged.
    expect(flags.some((f) => f.feature === "smoker")).toBe(false);
  });

  it("flags a column of zeros only where the other sites' share of zeros makes it unlikely by chance", () => {
    // Prepare: smoker is 1 in 30 % of rows elsewhere (0.7^400 is nothing) but in 1 % in a second consortium (0.99^40 ≈ 0.67).
    const never = (t: Table): Table => ({ ...t, rows: t.rows.map(([a, b, , ...rest]) => [a!, b!, "0", ...rest]) });
    const rare = (t: Table, seed: number): Table => {
      const rng = seededRandom(seed);
      return { ...t, rows: t.rows.map(([a, b, , ...rest]) => [a!, b!, rng() < 0.01 ? "1" : "0", ...rest]) };
    };
    const common = Array.from({ length: 6 }, (_, i) => hospital(i + 1));
    const sparse = Array.from({ length: 6 }, (_, i) => rare(hospital(i + 1), i + 20));

    // Execute
    const flagged = assess([...common, never(hospital(7))]);
    const byChance = assess([...sparse, never(hospital(7, { rows: 40 }))]);

    // Assert
    expect(flagged.filter((f) => f.feature === "smoker").map((f) => [f.siteId, f.check])).toEqual([["site-7", "constant"]]);
    expect(byChance.filter((f) => f.feature === "smoker")).toEqual([]);
  });

  it("reads no unit into the ratio of means of a feature the other sites record near 0", () => {
    // Prepare: smoker is 1 in 0.1 % of rows at six sites and in 10 % at the seventh: 100× larger, the factor between m and cm.
    const rate = (t: Table, seed: number, p: number): Table => {
      const rng = seededRandom(seed);
      return { ...t, rows: t.rows.map(([a, b, , ...rest]) => [a!, b!, rng() < p ? "1" : "0", ...rest]) };
    };
    const tables = [...Array.from({ length: 6 }, (_, i) => rate(hospital(i + 1, { rows: 1000 }), i + 40, 0.001)), rate(hospital(7, { rows: 1000 }), 50, 0.1)];

    // Execute
    const flags = assess(tables).filter((f) => f.feature === "smoker");

    // Assert
    expect(flags.filter((f) => f.siteId === "site-7").map((f) => f.check)).toEqual(["shift"]);
    expect(flags.some((f) => f.check === "unit")).toBe(false);
  });

  it("says nothing with fewer than three sites: there is no consortium to compare with", () => {
    expect(assess([hospital(1), hospital(2, { prevalence: 0.9 })])).toEqual([]);
  });

  it("reports what is there on the four heart-disease hospitals", async () => {
    const data = await loadBuiltin("heart-disease", { sites: 4, split: "iid", testFraction: 0.3, seed: 1 });
    const flags = assessSites(data.sites.map((s) => ({ siteId: s.name, stats: computeSiteStats(s.train, data.features) })));
    expect(flags.map((f) => [f.siteId, f.check, f.feature])).toEqual([
      ["University Hospitals Zurich and Basel", "prevalence", undefined],
      ["University Hospitals Zurich and Basel", "missing", "chol"],
      ["VA Medical Center Long Beach", "prevalence", undefined],
    ]);
    expect(flags[0]?.reason).toMatch(/^label prevalence 100% vs 49% at the other sites/);
    expect(flags[1]?.reason).toMatch(/^chol is missing in 100% of rows vs 5% at the other sites/);
    // Were the 0s not declared missing, they would show as zeros.
    const raw = { ...data.features, features: data.features.features.map((f) => (f.name === "chol" ? { ...f, missing: [] } : f)) };
    const zeros = assessSites(data.sites.map((s) => ({ siteId: s.name, stats: computeSiteStats(s.train, raw) }))).filter((f) => f.feature === "chol");
    expect(zeros.map((f) => [f.siteId, f.check])).toEqual([["University Hospitals Zurich and Basel", "zeros"]]);
  });
});
