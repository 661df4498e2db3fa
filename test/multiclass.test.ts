import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulateCommand } from "../cli/commands/simulate-command.ts";
import { memoryIo } from "../cli/commands/flags.ts";
import type { Report } from "../core/schemas/report.ts";
import { loadDigits } from "../gpu-runner/data/builtin-datasets.ts";

/**
 * K-class models end to end: the real handwritten digits (10 classes) through the coordinator's
 * HTTP API and the embedded S3/SQS, and a CSV whose label column holds three values.
 */
describe("a K-class federation", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-multiclass-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("trains a softmax model on the digits and reports per-class metrics, macro AUROC and the confusion matrix from pooled counts", async () => {
    // Execute
    const io = memoryIo();
    const report = (await simulateCommand(["--dataset", "digits", "--sites", "3", "--rounds", "4", "--split", "dirichlet:1", "--quiet", "--seed", "3"], io)) as Report;

    // Assert
    const run = report.runs[0]!;
    const classes = run.classes!;
    expect(classes.names).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const testRows = run.sites.reduce((n, s) => n + s.testRows, 0);
    // Every held-out row once in the pooled confusion matrix; accuracy its trace over n.
    const g = classes.global;
    expect(g.confusion.flat().reduce((a, b) => a + b, 0)).toBe(testRows);
    const trace = g.confusion.reduce((n, row, i) => n + row[i]!, 0);
    expect(g.accuracy).toBeCloseTo(trace / testRows, 12);
    expect(run.pooled.global.accuracy).toBe(g.accuracy);
    expect(run.pooled.global.auroc).toBe(g.macroAuroc);
    expect(g.macroAuroc).toBeCloseTo(g.classes.reduce((a, c) => a + c.auroc!, 0) / 10, 12);
    // Each site's accuracy is its own share of correct rows; their rows add up to the pooled matrix.
    const correct = run.sites.reduce((n, s) => n + Math.round(s.accuracy.global! * s.testRows), 0);
    expect(correct).toBe(trace);
    // A few rounds of logistic regression on 8×8 digits already sort most rows, as centralized training does.
    expect(g.accuracy).toBeGreaterThan(0.85);
    expect(classes.centralized!.accuracy).toBeGreaterThan(0.85);
    expect(Math.abs(report.meanSiteAccuracy.global.mean! - report.meanSiteAccuracy.centralized.mean!)).toBeLessThan(0.05);
    // The figures are the counts' own: recomputed from the confusion matrix, sensitivity per class agrees.
    g.classes.forEach((c, i) => expect(c.sensitivity).toBeCloseTo(g.confusion[i]![i]! / g.confusion[i]!.reduce((a, b) => a + b, 0), 12));
    expect(run.operatingPoint).toBeUndefined();
    // The report says it in words: macro AUROC, per-class table, confusion matrix.
    const out = io.outLines.join("\n");
    expect(out).toContain("macro AUROC");
    expect(out).toContain("confusion matrix of the global model");
    expect(out).toMatch(/true \/ predicted/);
  }, 120_000);

  it("reads a CSV's label column as the classes listed (the first the reference), leaving out rows of no class, or as every value it takes (--classes auto)", async () => {
    // Prepare: the digits 0, 1 and 7 as a CSV with a text label, and a few rows of an unknown class.
    const table = await loadDigits();
    const names = new Map([["0", "zero"], ["1", "one"], ["7", "seven"]]);
    const kept = table.rows.filter((r) => names.has(r[64]!)).slice(0, 300);
    const lines = [[...table.columns.slice(0, 64), "digit"].join(","), ...kept.map((r) => [...r.slice(0, 64), names.get(r[64]!)!].join(",")), ...table.rows.slice(0, 4).map((r) => [...r.slice(0, 64), "smudge"].join(","))];
    const file = join(dir, "digits-017.csv");
    await writeFile(file, `${lines.join("\n")}\n`);
    const io = memoryIo();

    // Execute
    const report = (await simulateCommand(["--data", file, "--label", "digit", "--classes", "one,seven,zero", "--sites", "3", "--rounds", "3", "--quiet"], io)) as Report;
    const auto = (await simulateCommand(["--data", file, "--label", "digit", "--classes", "auto", "--sites", "3", "--rounds", "3", "--quiet"], memoryIo())) as Report;

    // Assert
    const c = report.runs[0]!.classes!;
    expect(c.names).toEqual(["one", "seven", "zero"]);
    expect(report.data?.notes).toContain("label digit: 3 classes, one, seven, zero (the first, one, is the reference)");
    expect(report.data?.notes).toContain('label digit: 4 rows of values not among the classes ("smudge") are left out');
    expect(c.global.n).toBe(report.runs[0]!.sites.reduce((n, s) => n + s.testRows, 0));
    expect(c.global.accuracy).toBeGreaterThan(0.9);
    // auto: every value the column takes, in order of their names.
    expect(auto.runs[0]!.classes!.names).toEqual(["one", "seven", "smudge", "zero"]);
  }, 120_000);
});
