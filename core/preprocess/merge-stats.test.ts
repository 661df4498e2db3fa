import { beforeAll, describe, expect, it } from "vitest";
import { heartDiseaseSpec, loadHeartDisease, type SiteData } from "../../gpu-runner/data/builtin-datasets.ts";
import type { FeatureSpec } from "../schemas/feature-spec.ts";
import type { Preprocessing } from "../schemas/preprocessing.ts";
import { Preprocessing as PreprocessingSchema } from "../schemas/preprocessing.ts";
import type { NumericStats } from "../schemas/site-stats.ts";
import { mergeMoments, mergeSiteStats, poolSiteStats } from "./merge-stats.ts";
import { computeSiteStats } from "./site-stats.ts";
import type { Table } from "./table.ts";
import { messySpec, messyTable, pooledTable } from "../../test/support/preprocess.ts";
import { applyPreprocessing } from "./transform.ts";

const numeric = (count: number, mean: number, m2: number, missing = 0): NumericStats => ({ kind: "numeric", count, mean, m2, missing });

/** Asserts two preprocessings agree: structure exactly, means and spreads to `rel` relative error. */
function expectSamePreprocessing(actual: Preprocessing, expected: Preprocessing, rel = 1e-12): void {
  expect(actual.inputs).toEqual(expected.inputs);
  expect([actual.rows, actual.positives]).toEqual([expected.rows, expected.positives]);
  expect(actual.features.length).toBe(expected.features.length);
  actual.features.forEach((f, i) => {
    const e = expected.features[i];
    if (f.kind === "numeric" && e?.kind === "numeric") {
      expect({ ...f, mean: 0, sd: 0 }).toEqual({ ...e, mean: 0, sd: 0 });
      expect(Math.abs(f.mean - e.mean)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(e.mean)));
      expect(Math.abs(f.sd - e.sd)).toBeLessThanOrEqual(rel * Math.max(1, e.sd));
    } else {
      expect(f).toEqual(e);
    }
  });
}

function expectSameFeatures(tables: readonly Table[], a: Preprocessing, b: Preprocessing): void {
  for (const table of tables) {
    const [x, y] = [applyPreprocessing(table, a), applyPreprocessing(table, b)];
    expect([x.rows, x.dim]).toEqual([y.rows, y.dim]);
    expect(x.y).toEqual(y.y);
    for (let i = 0; i < x.x.length; i++) {
      if (!(Math.abs((x.x[i] ?? 0) - (y.x[i] ?? 0)) <= 1e-5)) expect.fail(`x[${i}]: ${x.x[i]} vs ${y.x[i]}`);
    }
  }
}

/** Federated: each site's statistics, merged. Pooled: statistics of the pooled rows. */
function federatedAndPooled(tables: readonly Table[], spec: FeatureSpec) {
  const federated = mergeSiteStats(tables.map((t) => computeSiteStats(t, spec)), spec);
  const pooled = mergeSiteStats([computeSiteStats(pooledTable(tables), spec)], spec);
  return { federated, pooled };
}

describe("mergeMoments", () => {
  it("merges counts, means and M2 exactly (values 0, 2 with 4)", () => {
    // Prepare: {0, 2}: mean 1, M2 2. {4}: mean 4, M2 0. Pooled {0, 2, 4}: mean 2, M2 4 + 0 + 4 = 8.
    const a = numeric(2, 1, 2, 1);
    const b = numeric(1, 4, 0, 3);

    // Execute
    const merged = mergeMoments(a, b);

    // Assert
    expect(merged).toEqual(numeric(3, 2, 8, 4));
  });

  it("treats a side without values as neutral", () => {
    // Execute
    const [left, right] = [mergeMoments(numeric(0, 0, 0, 5), numeric(4, 2.5, 7)), mergeMoments(numeric(4, 2.5, 7), numeric(0, 0, 0, 5))];

    // Assert
    expect(left).toEqual(numeric(4, 2.5, 7, 5));
    expect(right).toEqual(numeric(4, 2.5, 7, 5));
  });

  it("gives zero moments when neither side has a value", () => {
    // Execute
    const merged = mergeMoments(numeric(0, 0, 0, 2), numeric(0, 0, 0, 1));

    // Assert
    expect(merged).toEqual(numeric(0, 0, 0, 3));
  });
});

describe("mergeSiteStats equals pooled statistics on a random table", () => {
  const tables = [messyTable(140, 1, 0), messyTable(60, 2, 1), messyTable(40, 3, 2)];
  const labels: [string, FeatureSpec["label"]][] = [
    ["positiveAbove", { column: "num", positiveAbove: 0 }],
    ["positive values", { column: "dx", positive: ["M"] }],
  ];

  it.each(labels)("gives the same preprocessing as the pooled table (label by %s)", (_, label) => {
    // Prepare
    const spec = messySpec(label);

    // Execute
    const { federated, pooled } = federatedAndPooled(tables, spec);

    // Assert
    expectSamePreprocessing(federated, pooled);
    expect(PreprocessingSchema.parse(federated)).toEqual(federated);
  });

  it.each(labels)("transforms every site's rows identically under either (label by %s)", (_, label) => {
    // Prepare
    const { federated, pooled } = federatedAndPooled(tables, messySpec(label));

    // Execute and Assert
    expectSameFeatures(tables, federated, pooled);
  });

  it("matches a direct two-pass computation of the pooled mean and population sd", () => {
    // Prepare: the reference reads the pooled rows itself, without computeSiteStats.
    const spec = messySpec({ column: "num", positiveAbove: 0 });
    const rows = pooledTable(tables).rows.filter((r) => !["", "NA", "?"].includes((r[5] ?? "").trim()));
    const ages = rows.map((r) => (r[1] ?? "").trim()).filter((v) => !["", "NA", "?"].includes(v)).map(Number);
    const mean = ages.reduce((a, b) => a + b, 0) / ages.length;
    const sd = Math.sqrt(ages.reduce((a, b) => a + (b - mean) ** 2, 0) / ages.length);

    // Execute
    const { federated } = federatedAndPooled(tables, spec);

    // Assert
    const age = federated.features[0];
    expect(age?.kind === "numeric" && [age.mean, age.sd, age.missingIndicator]).toEqual([expect.closeTo(mean, 10), expect.closeTo(sd, 10), true]);
    expect(federated.rows).toBe(rows.length);
  });

  it("unites the levels of every site, in canonical form, with the commonest as imputation value", () => {
    // Prepare
    const spec = messySpec({ column: "num", positiveAbove: 0 });

    // Execute
    const { federated } = federatedAndPooled(tables, spec);

    // Assert
    const [cp, ward] = [federated.features[2], federated.features[3]];
    expect(cp?.kind === "categorical" && cp.levels).toEqual(["1", "2", "3", "4"]);
    expect(ward?.kind === "categorical" && ward.levels).toEqual(["constructor", "east", "north", "only-site-0", "only-site-1", "only-site-2", "south"]);
    expect(federated.inputs).toEqual([
      "age",
      "age:missing",
      "chol",
      "chol:missing",
      "cp=2",
      "cp=3",
      "cp=4",
      "ward=east",
      "ward=north",
      "ward=only-site-0",
      "ward=only-site-1",
      "ward=only-site-2",
      "ward=south",
    ]);
  });

  it("does not depend on the order of the sites", () => {
    // Prepare
    const spec = messySpec({ column: "num", positiveAbove: 0 });
    const stats = tables.map((t) => computeSiteStats(t, spec));

    // Execute
    const forward = mergeSiteStats(stats, spec);
    const backward = mergeSiteStats([...stats].reverse(), spec);

    // Assert
    expectSamePreprocessing(backward, forward);
  });
});

describe("mergeSiteStats equals pooled statistics on the real heart-disease sites", () => {
  let sites: SiteData[] = [];
  beforeAll(async () => {
    sites = await loadHeartDisease();
  });

  it("gives the same preprocessing from the four hospitals' statistics as from their pooled rows", () => {
    // Prepare
    const tables = sites.map((s) => s.train);

    // Execute
    const { federated, pooled } = federatedAndPooled(tables, heartDiseaseSpec);

    // Assert
    expectSamePreprocessing(federated, pooled);
    expect([federated.rows, tables.map((t) => t.rows.length)]).toEqual([486, [199, 172, 30, 85]]);
  });

  it("transforms each hospital's train and test rows identically under either", () => {
    // Prepare
    const { federated, pooled } = federatedAndPooled(
      sites.map((s) => s.train),
      heartDiseaseSpec,
    );

    // Execute and Assert
    expectSameFeatures(
      sites.flatMap((s) => [s.train, s.test]),
      federated,
      pooled,
    );
  });

  it("reads Cleveland's \"4.0\" and Hungary's \"4\" as one chest-pain level and Zurich's cholesterol 0 as missing", () => {
    // Prepare
    const stats = sites.map((s) => computeSiteStats(s.train, heartDiseaseSpec));

    // Execute
    const prep = mergeSiteStats(stats, heartDiseaseSpec);

    // Assert
    const byName = new Map(prep.features.map((f) => [f.name, f]));
    expect(byName.get("cp")).toMatchObject({ levels: ["1", "2", "3", "4"], impute: "4" });
    expect(byName.get("restecg")).toMatchObject({ levels: ["0", "1", "2"] });
    expect(stats[2]?.features.chol).toEqual({ kind: "numeric", count: 0, mean: 0, m2: 0, missing: 30, zeros: 0 });
    expect(byName.get("chol")).toMatchObject({ missingIndicator: true });
    expect(prep.inputs).toEqual(["age", "sex", "cp=2", "cp=3", "cp=4", "trestbps", "chol", "chol:missing", "fbs", "restecg=1", "restecg=2", "thalach", "exang", "oldpeak"]);
  });
});

describe("the consortium's agreement on features", () => {
  const spec = messySpec({ column: "num", positiveAbove: 0 });
  const tables = [messyTable(80, 1, 0), messyTable(60, 2, 1), messyTable(40, 3, 2)];
  /** The table without one of its columns: a site whose export lacks the feature. */
  const without = (t: Table, column: string): Table => {
    const i = t.columns.indexOf(column);
    return { columns: t.columns.filter((_, k) => k !== i), rows: t.rows.map((r) => r.filter((_, k) => k !== i)) };
  };

  it("uses a feature most sites provide and imputes it, flagged, at the site that lacks it", () => {
    // Prepare: the third site has no chol column.
    const sites = [tables[0]!, tables[1]!, without(tables[2]!, "chol")];

    // Execute
    const prep = mergeSiteStats(sites.map((t) => computeSiteStats(t, spec)), spec);
    const third = applyPreprocessing(sites[2]!, prep);

    // Assert
    expect(prep.agreement).toEqual({ quorum: 0.5, features: ["age", "chol", "cp", "ward"].map((name) => ({ name, providedBy: name === "chol" ? 2 : 3, sites: 3, used: true })) });
    const [chol, flag] = [prep.inputs.indexOf("chol"), prep.inputs.indexOf("chol:missing")];
    for (let r = 0; r < third.rows; r++) expect([third.x[r * third.dim + chol], third.x[r * third.dim + flag]]).toEqual([0, 1]);
  });

  it("leaves out a feature fewer sites provide than the quorum asks, and uses it at quorum 0", () => {
    // Prepare: only the first site has a chol column.
    const sites = [tables[0]!, without(tables[1]!, "chol"), without(tables[2]!, "chol")];
    const stats = sites.map((t) => computeSiteStats(t, spec));

    // Execute
    const strict = mergeSiteStats(stats, spec);
    const lenient = mergeSiteStats(stats, { ...spec, quorum: 0 });

    // Assert
    expect(strict.agreement?.features.find((f) => f.name === "chol")).toEqual({ name: "chol", providedBy: 1, sites: 3, used: false });
    expect(strict.features.map((f) => f.name)).toEqual(["age", "cp", "ward"]);
    expect(strict.inputs.filter((i) => i.startsWith("chol"))).toEqual([]);
    expect(applyPreprocessing(sites[0]!, strict).dim).toBe(strict.inputs.length);
    expect(lenient.features.map((f) => f.name)).toEqual(["age", "chol", "cp", "ward"]);
  });

  it("never uses a feature no site has a value of, whatever the quorum", () => {
    // Prepare
    const stats = tables.map((t) => computeSiteStats(without(t, "ward"), spec));

    // Execute
    const prep = mergeSiteStats(stats, { ...spec, quorum: 0 });

    // Assert
    expect(prep.agreement?.features.find((f) => f.name === "ward")).toEqual({ name: "ward", providedBy: 0, sites: 3, used: false });
    expect(prep.features.map((f) => f.name)).toEqual(["age", "chol", "cp"]);
  });
});

describe("federated imputation and scaling equal pooled preprocessing", () => {
  const label = { column: "num", positiveAbove: 0 };
  // age takes one decimal (0.1 steps) and chol whole numbers: bins of 0.1 and 1 hold one value each.
  const spec: FeatureSpec = {
    ...messySpec(label),
    features: messySpec(label).features.map((f) =>
      f.name === "age" ? { ...f, impute: "median", range: { min: 0, max: 120 }, bins: 1200 } : f.name === "chol" ? { ...f, impute: "median", range: { min: 0, max: 600 }, bins: 600 } : f,
    ),
  };
  const tables = [messyTable(140, 11, 0), messyTable(90, 12, 1), messyTable(70, 13, 2), messyTable(33, 14, 3)];

  /** The pooled reference, computed from the pooled rows directly: mean, population sd, exact median. */
  function pooledColumn(column: number, missing: readonly string[]) {
    const rows = pooledTable(tables).rows.filter((r) => !["", "NA", "?"].includes((r[5] ?? "").trim()));
    const values = rows
      .map((r) => (r[column] ?? "").trim())
      .filter((v) => !["", "NA", "?"].includes(v) && !missing.some((m) => Number(m) === Number(v)))
      .map(Number)
      .sort((a, b) => a - b);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const mid = values.length / 2;
    const median = values.length % 2 === 1 ? (values[Math.floor(mid)] ?? 0) : ((values[mid - 1] ?? 0) + (values[mid] ?? 0)) / 2;
    return { mean, sd, median };
  }

  it("gives the pooled mean, sd and (to one bin) median, and the same preprocessing as the pooled rows' statistics", () => {
    // Execute
    const { federated, pooled } = federatedAndPooled(tables, spec);

    // Assert
    expectSamePreprocessing(federated, pooled);
    const [age, chol] = [federated.features[0], federated.features[1]];
    const [refAge, refChol] = [pooledColumn(1, []), pooledColumn(2, ["0"])];
    if (age?.kind !== "numeric" || chol?.kind !== "numeric") throw new Error("age and chol are numeric");
    expect([age.mean, age.sd, chol.mean, chol.sd]).toEqual([expect.closeTo(refAge.mean, 9), expect.closeTo(refAge.sd, 9), expect.closeTo(refChol.mean, 9), expect.closeTo(refChol.sd, 9)]);
    expect(Math.abs((age.impute ?? Number.NaN) - refAge.median)).toBeLessThanOrEqual(0.1);
    expect(Math.abs((chol.impute ?? Number.NaN) - refChol.median)).toBeLessThanOrEqual(1);
  });

  it("transforms every site's rows as the pooled reference would, imputed values included", () => {
    // Prepare
    const { federated } = federatedAndPooled(tables, spec);
    const [refAge, refChol] = [pooledColumn(1, []), pooledColumn(2, ["0"])];
    const reference: Preprocessing = {
      ...federated,
      features: federated.features.map((f) =>
        f.kind !== "numeric" ? f : f.name === "age" ? { ...f, mean: refAge.mean, sd: refAge.sd, impute: refAge.median } : { ...f, mean: refChol.mean, sd: refChol.sd, impute: refChol.median },
      ),
    };

    // Execute and Assert: one bin's width over the spread bounds an imputed value's difference.
    for (const table of tables) {
      const [x, y] = [applyPreprocessing(table, federated), applyPreprocessing(table, reference)];
      expect([x.rows, x.dim, Array.from(x.y)]).toEqual([y.rows, y.dim, Array.from(y.y)]);
      const tolerance = Math.max(0.1 / refAge.sd, 1 / refChol.sd) + 1e-5;
      for (let i = 0; i < x.x.length; i++) if (!(Math.abs((x.x[i] ?? 0) - (y.x[i] ?? 0)) <= tolerance)) expect.fail(`x[${i}]: ${x.x[i]} vs ${y.x[i]}`);
    }
  });
});

describe("mergeSiteStats failures", () => {
  const spec = messySpec({ column: "num", positiveAbove: 0 });

  it("refuses an empty list of sites", () => {
    // Execute
    const run = () => mergeSiteStats([], spec);

    // Assert
    expect(run).toThrow("no site statistics to merge");
  });

  it("names the site and feature whose statistics are absent", () => {
    // Prepare
    const good = computeSiteStats(messyTable(20, 5, 0), spec);
    const { chol: _, ...rest } = good.features;

    // Execute
    const run = () => mergeSiteStats([good, { ...good, features: rest }], spec);

    // Assert
    expect(run).toThrow('site 1 has no numeric statistics for feature "chol"');
  });

  it("names a feature whose statistics are of the other kind", () => {
    // Prepare
    const good = computeSiteStats(messyTable(20, 5, 0), spec);
    const swapped = { ...good, features: { ...good.features, cp: numeric(3, 1, 0) } };

    // Execute
    const run = () => mergeSiteStats([swapped], spec);

    // Assert
    expect(run).toThrow('site 0 has no categorical statistics for feature "cp"');
  });

  it("refuses a spec none of whose features reaches the quorum, naming how many sites provide each", () => {
    // Prepare
    const good = computeSiteStats(messyTable(20, 5, 0), spec);
    const empty = { ...good, features: { age: numeric(0, 0, 0, 20), chol: numeric(0, 0, 0, 20), cp: { kind: "categorical" as const, counts: {}, missing: 20 }, ward: { kind: "categorical" as const, counts: {}, missing: 20 } } };

    // Execute
    const run = () => mergeSiteStats([empty, empty, good], spec);

    // Assert
    expect(run).toThrow("no feature is provided by the quorum of 50% of the sites (age 1/3, chol 1/3, cp 1/3, ward 1/3)");
  });

  it("names the site that sent no histogram for a feature imputed with its median", () => {
    // Prepare
    const withMedian: FeatureSpec = { ...spec, features: spec.features.map((f) => (f.name === "age" ? { ...f, impute: "median", range: { min: 0, max: 120 } } : f)) };
    const good = computeSiteStats(messyTable(20, 5, 0), withMedian);
    const age = good.features.age;
    const old = { ...good, features: { ...good.features, age: age?.kind === "numeric" ? numeric(age.count, age.mean, age.m2, age.missing) : numeric(0, 0, 0) } };

    // Execute
    const run = () => mergeSiteStats([good, old], withMedian);

    // Assert
    expect(run).toThrow('site 1 sent no 512-bin histogram for feature "age"');
  });

  it("uses an sd of 1 for a feature that never varies, and breaks ties in the mode by level order", () => {
    // Prepare
    const flat = { kind: "numeric" as const, count: 5, mean: 7, m2: 0, missing: 0 };
    const tie = { kind: "categorical" as const, counts: { b: 2, a: 2, c: 1 }, missing: 0 };
    const site = { rows: 5, positives: 1, features: { age: flat, chol: flat, cp: tie, ward: tie } };

    // Execute
    const prep = mergeSiteStats([site], spec);

    // Assert
    expect(prep.features[0]).toMatchObject({ mean: 7, sd: 1, missingIndicator: false });
    expect(prep.features[2]).toMatchObject({ levels: ["a", "b", "c"], impute: "a" });
  });
});

describe("poolSiteStats", () => {
  it("gives several sites' statistics as one site's: those of their pooled rows", () => {
    // Prepare
    const spec: FeatureSpec = { ...messySpec({ column: "num", positiveAbove: 0 }), features: messySpec({ column: "num", positiveAbove: 0 }).features.map((f) => (f.name === "age" ? { ...f, range: { min: 0, max: 120 }, bins: 24 } : f)) };
    const tables = [messyTable(70, 31, 0), messyTable(40, 32, 1), messyTable(25, 33, 2)];

    // Execute
    const pooled = poolSiteStats(tables.map((t) => computeSiteStats(t, spec)));
    const direct = computeSiteStats(pooledTable(tables), spec);

    // Assert
    expect([pooled.rows, pooled.positives]).toEqual([direct.rows, direct.positives]);
    for (const [name, f] of Object.entries(direct.features)) {
      const g = pooled.features[name];
      if (f.kind === "numeric" && g?.kind === "numeric") {
        expect({ ...g, mean: 0, m2: 0 }).toEqual({ ...f, mean: 0, m2: 0 });
        expect(g.mean).toBeCloseTo(f.mean, 10);
        expect(g.m2).toBeCloseTo(f.m2, 7);
      } else {
        expect(g).toEqual(f);
      }
    }
  });
});
