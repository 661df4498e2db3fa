import { describe, expect, it } from "vitest";
import { Report, type RunReport } from "../schemas/report.ts";
import { stat, summariseRuns } from "./summarise-runs.ts";
import { runReport } from "../../test/support/report.ts";

const header = { backend: "cpu", dataset: "heart-disease", model: "logreg", strategy: "fedavg", codec: "float32", roundsPlanned: 2 };

describe("stat", () => {
  it("gives the mean and the sample standard deviation", () => {
    // Execute: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, sd = √(5/3)
    const s = stat([1, 2, 3, 4]);

    // Assert
    expect(s.mean).toBeCloseTo(2.5, 12);
    expect(s.sd).toBeCloseTo(1.2909944487358056, 12);
  });

  it("ignores null, undefined and non-finite values", () => {
    // Execute: values 2 and 4: mean 3, sd √((1 + 1) / 1) = √2
    const s = stat([2, null, 4, undefined, Number.NaN, Number.POSITIVE_INFINITY]);

    // Assert
    expect(s.mean).toBeCloseTo(3, 12);
    expect(s.sd).toBeCloseTo(Math.SQRT2, 12);
  });

  it("gives sd 0 for a single value", () => {
    // Execute and Assert
    expect(stat([0.73])).toEqual({ mean: 0.73, sd: 0 });
    expect(stat([null, 0.73])).toEqual({ mean: 0.73, sd: 0 });
  });

  it("gives null mean and sd when no value is present", () => {
    // Execute and Assert
    expect(stat([])).toEqual({ mean: null, sd: null });
    expect(stat([null, undefined])).toEqual({ mean: null, sd: null });
  });
});

describe("summariseRuns", () => {
  it("folds every figure into mean and sd over the seeds, skipping nulls", () => {
    // Prepare
    const runs = [
      runReport(1, { wallSeconds: 10, bytes: { up: 100, down: 1000 } }),
      runReport(2, { wallSeconds: 20, bytes: { up: 200, down: 1000 }, rejections: 3 }),
      runReport(3, { wallSeconds: 60, bytes: { up: 300, down: 1000 } }),
    ];
    runs[2] = { ...runs[2]!, pooled: { ...runs[2]!.pooled, global: { ...runs[2]!.pooled.global, auroc: null } } };
    runs[1] = { ...runs[1]!, pooled: { ...runs[1]!.pooled, global: { ...runs[1]!.pooled.global, auroc: 0.7 } } };
    runs.forEach((r, i) => (r.rounds[0] = { ...r.rounds[0]!, auroc: [0.6, 0.7, 0.8][i] ?? null }));

    // Execute
    const report = summariseRuns(header, runs);

    // Assert
    expect(report.wallSeconds.mean).toBeCloseTo(30, 12); // (10 + 20 + 60) / 3
    expect(report.wallSeconds.sd).toBeCloseTo(Math.sqrt(700), 12); // (400 + 100 + 900) / 2
    expect(report.bytes.up).toEqual({ mean: 200, sd: 100 });
    expect(report.bytes.down).toEqual({ mean: 1000, sd: 0 });
    expect(report.rejections).toEqual({ mean: 1, sd: Math.sqrt(3) }); // (1 + 4 + 1) / 2 = 3
    expect(report.pooled.global.auroc.mean).toBeCloseTo(0.75, 12); // 0.8 and 0.7; the null is skipped
    expect(report.pooled.global.auroc.sd).toBeCloseTo(Math.SQRT1_2 / 10, 12); // √((0.05² · 2) / 1)
    expect(report.rounds[0]?.auroc.mean).toBeCloseTo(0.7, 12);
    expect(report.rounds[0]?.auroc.sd).toBeCloseTo(0.1, 12);
    expect(report.rounds.map((r) => r.round)).toEqual([1, 2]);
    expect(report.seeds).toEqual([1, 2, 3]);
    expect(report.runs).toEqual(runs);
    expect(Report.parse(report)).toEqual(report);
  });

  it("averages each site's accuracies over seeds and keeps the header", () => {
    // Prepare
    const runs = [1, 2].map((seed) => runReport(seed));
    runs[1]!.sites[1] = { ...runs[1]!.sites[1]!, accuracy: { global: 0.6, personalized: null, local: 0.7, centralized: 0.9 } };

    // Execute
    const report = summariseRuns(header, runs);

    // Assert
    expect(report).toMatchObject({ consilium: 1, ...header });
    expect(report.sites.map((s) => [s.id, s.name, s.trainRows, s.testRows])).toEqual([
      ["a-1", "Alpha", 100, 20],
      ["b-1", "Beta", 50, 10],
    ]);
    const beta = report.sites[1]?.accuracy;
    expect(beta?.global.mean).toBeCloseTo(0.7, 12); // (0.8 + 0.6) / 2
    expect(beta?.global.sd).toBeCloseTo(Math.SQRT2 / 10, 12); // √((0.1² · 2) / 1)
    expect(beta?.personalized).toEqual({ mean: 0.85, sd: 0 });
  });

  it("gives sd 0 for every figure of a single seed", () => {
    // Execute
    const report = summariseRuns(header, [runReport(7)]);

    // Assert
    expect(report.wallSeconds).toEqual({ mean: 10, sd: 0 });
    expect(report.pooled.global.auroc).toEqual({ mean: 0.8, sd: 0 });
    expect(report.rounds[1]?.auroc).toEqual({ mean: 0.7, sd: 0 });
    expect(report.meanSiteAccuracy.local).toEqual({ mean: 0.7, sd: 0 });
    expect(Report.parse(report)).toEqual(report);
  });

  it("relates federated to centralized accuracy per seed, and leaves it out where centralized is missing or 0", () => {
    // Prepare: 0.8 / 0.8 = 1 and 0.6 / 0.8 = 0.75; the other two seeds have no ratio.
    const runs = [
      runReport(1, { meanSiteAccuracy: { global: 0.8, personalized: null, local: null, centralized: 0.8 } }),
      runReport(2, { meanSiteAccuracy: { global: 0.6, personalized: null, local: null, centralized: 0.8 } }),
      runReport(3, { meanSiteAccuracy: { global: 0.6, personalized: null, local: null, centralized: 0 } }),
      runReport(4, { meanSiteAccuracy: { global: null, personalized: null, local: null, centralized: 0.8 } }),
    ];

    // Execute
    const report = summariseRuns(header, runs);

    // Assert
    expect(report.federatedToCentralized.mean).toBeCloseTo(0.875, 12);
    expect(report.federatedToCentralized.sd).toBeCloseTo(0.125 * Math.SQRT2, 12);
    expect(report.meanSiteAccuracy.personalized).toEqual({ mean: null, sd: null });
  });

  it("keeps each seed's intervals in its run and none in the summary", () => {
    // Prepare
    const intervals = { accuracy: [0.3, 0.7], auroc: [0.6, 0.95], sensitivity: null, specificity: [0.1, 0.9] } satisfies RunReport["pooled"]["global"]["intervals"];
    const first = runReport(1);
    const runs = [{ ...first, pooled: { ...first.pooled, global: { ...first.pooled.global, intervals } } }, runReport(2)];

    // Execute
    const report = summariseRuns(header, runs);

    // Assert
    expect(report.runs[0]?.pooled.global.intervals).toEqual(intervals);
    expect(report.pooled.global.auroc).toEqual({ mean: 0.8, sd: 0 });
    expect(Object.keys(report.pooled.global)).toEqual(["accuracy", "auroc", "sensitivity", "specificity"]);
    expect(Report.parse(report)).toEqual(report);
  });

  it("refuses to summarise no runs", () => {
    // Execute
    const run = () => summariseRuns(header, []);

    // Assert
    expect(run).toThrow("no runs to summarise");
  });
});
