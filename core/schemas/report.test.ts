import { describe, expect, it } from "vitest";
import { summariseRuns } from "../report/summarise-runs.ts";
import { runReport } from "../../test/support/report.ts";
import { Report, RunReport, Stat } from "./report.ts";
import { issuesOf } from "../../test/support/schemas.ts";

const header = { backend: "cpu", dataset: "wdbc", model: "mlp:16", strategy: "fedadam:0.05", codec: "int8", roundsPlanned: 2 };

describe("RunReport", () => {
  it("parses one seed's report", () => {
    // Execute and Assert
    expect(RunReport.parse(runReport(3))).toEqual(runReport(3));
  });

  it("parses a report with 95 % intervals, and one written before them", () => {
    // Prepare
    const intervals = { accuracy: [0.3, 0.7], auroc: [0.55, 1], sensitivity: null, specificity: [0, 0.6] };
    const accuracyIntervals = { global: [0.6, 0.9], personalized: null, local: [0.5, 0.8], centralized: [0.7, 0.95] };
    const base = runReport(1);
    const withIntervals = {
      ...base,
      sites: base.sites.map((s) => ({ ...s, accuracyIntervals })),
      pooled: { ...base.pooled, global: { ...base.pooled.global, intervals } },
    };

    // Execute and Assert
    expect(RunReport.parse(withIntervals)).toEqual(withIntervals);
    expect(RunReport.parse(base)).toEqual(base);
  });

  it.each([
    ["a reversed interval", { pooled: { ...runReport(1).pooled, local: { ...runReport(1).pooled.local, intervals: { accuracy: [0.8, 0.2], auroc: null, sensitivity: null, specificity: null } } } }, [["pooled.local.intervals.accuracy", "lo must not exceed hi"]]],
    ["a site interval past 1", { sites: [{ ...runReport(1).sites[0]!, accuracyIntervals: { global: [0.5, 1.2], personalized: null, local: null, centralized: null } }] }, [["sites.0.accuracyIntervals.global.1", "Too big: expected number to be <=1"]]],
    ["an AUROC above 1", { rounds: [{ round: 1, status: "closed", sites: 2, auroc: 1.5, bytesUp: 1, bytesDown: 1 }] }, [["rounds.0.auroc", "Too big: expected number to be <=1"]]],
    ["a negative wall time", { wallSeconds: -1 }, [["wallSeconds", "Too small: expected number to be >=0"]]],
    ["fractional bytes", { bytes: { up: 1.5, down: 0 } }, [["bytes.up", "Invalid input: expected int, received number"]]],
  ])("rejects %s", (_, patch, expected) => {
    // Execute and Assert
    expect(issuesOf(RunReport, { ...runReport(1), ...patch })).toEqual(expected);
  });
});

describe("Report", () => {
  it("parses the --json report", () => {
    // Prepare
    const report = summariseRuns(header, [runReport(1), runReport(2)]);

    // Execute and Assert
    expect(Report.parse(report)).toEqual(report);
  });

  it.each([
    ["another format version", { consilium: 2 }, [["consilium", "Invalid input: expected 1"]]],
    ["a bare number where a {mean, sd} belongs", { wallSeconds: 3 }, [["wallSeconds", "Invalid input: expected object, received number"]]],
    ["a fractional seed", { seeds: [1.5] }, [["seeds.0", "Invalid input: expected int, received number"]]],
  ])("rejects %s", (_, patch, expected) => {
    // Execute and Assert
    expect(issuesOf(Report, { ...summariseRuns(header, [runReport(1)]), ...patch })).toEqual(expected);
  });
});

describe("Stat", () => {
  it.each([{ mean: 0.5, sd: 0.1 }, { mean: null, sd: null }])("parses %j", (value) => {
    // Execute and Assert
    expect(Stat.parse(value)).toEqual(value);
  });

  it("rejects a missing sd", () => {
    // Execute and Assert
    expect(issuesOf(Stat, { mean: 1 })).toEqual([["sd", "Invalid input: expected number, received undefined"]]);
  });
});
