import { describe, expect, it } from "vitest";
import { summariseRuns } from "../core/report/summarise-runs.ts";
import type { RunReport } from "../core/schemas/report.ts";
import { runReport } from "../test/support/report.ts";
import { printReport, spanText } from "./print-report.ts";

const header = { backend: "cpu", dataset: "heart-disease", model: "logreg", strategy: "fedavg", codec: "float32", roundsPlanned: 2 };

/** A run whose figures carry intervals: every site accuracy [0.74, 0.87], pooled ones as below. */
function withIntervals(seed: number): RunReport {
  const base = runReport(seed);
  const intervals = { accuracy: [0.41, 0.59], auroc: [0.7, 0.88], sensitivity: [0.3, 0.7], specificity: null } satisfies RunReport["pooled"]["global"]["intervals"];
  const span = [0.74, 0.87] as [number, number];
  return {
    ...base,
    sites: base.sites.map((s) => ({ ...s, accuracyIntervals: { global: span, personalized: span, local: span, centralized: null } })),
    pooled: { ...base.pooled, global: { ...base.pooled.global, intervals } },
  };
}

const printed = (runs: RunReport[]) => {
  const lines: string[] = [];
  printReport(summariseRuns(header, runs), (s) => lines.push(s), false);
  return lines;
};

describe("spanText", () => {
  it("rounds the bounds outwards to two places", () => {
    // Execute / Assert
    expect(spanText([0.7449, 0.8701])).toBe("0.74–0.88");
    expect(spanText([0.29, 1])).toBe("0.29–1.00");
    expect(spanText([0, 0.025])).toBe("0.00–0.03");
  });
});

describe("printReport", () => {
  it("shows each figure of one seed with its 95 % interval", () => {
    // Execute
    const lines = printed([withIntervals(1)]);

    // Assert
    const table = lines[0] ?? "";
    expect(table).toContain("personalized");
    expect(table).not.toContain("personalised");
    expect(table).toMatch(/Alpha +│ 100 +│ 20 +│ 0\.800 \(0\.74–0\.87\) │ 0\.850 \(0\.74–0\.87\) │ 0\.700 \(0\.74–0\.87\) │ 0\.900 +│/);
    expect(table).toMatch(/mean site accuracy │ +│ +│ 0\.800 +│/);
    expect(lines.slice(1, 6)).toEqual([
      "pooled global       accuracy 0.500 (0.41–0.59)  AUROC 0.800 (0.70–0.88)  sensitivity 0.500 (0.30–0.70)  specificity 0.500",
      "pooled personalized accuracy 0.500  AUROC 0.800  sensitivity 0.500  specificity 0.500",
      "pooled local only   accuracy 0.500  AUROC 0.800  sensitivity 0.500  specificity 0.500",
      "pooled centralized  accuracy 0.500  AUROC 0.800  sensitivity 0.500  specificity 0.500",
      "(lo–hi): 95 % interval over the test rows (Wilson; DeLong on the logit scale for AUROC)",
    ]);
  });

  it("shows mean ± sd over several seeds, and says where each seed's intervals are", () => {
    // Execute
    const lines = printed([withIntervals(1), withIntervals(2)]);

    // Assert
    expect(lines[0]).toMatch(/Alpha +│ 100 +│ 20 +│ 0\.800 ± 0\.000 │/);
    expect(lines[0]).not.toContain("(0.74");
    expect(lines[1]).toBe("pooled global       accuracy 0.500 ± 0.000  AUROC 0.800 ± 0.000  sensitivity 0.500 ± 0.000  specificity 0.500 ± 0.000");
    expect(lines[5]).toBe("± is the sd over 2 seeds, the spread of training; each seed's 95 % intervals are in --json runs[]");
  });
});
