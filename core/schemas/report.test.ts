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

  it.each([
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
