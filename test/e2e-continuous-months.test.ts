/**
 * The continuous pipeline end to end on a virtual clock (`cli/simulate-continuous.ts`): four
 * hospitals over five months, older patients at hospital 2 from month 2 and cholesterol in mmol/L
 * at hospital 3 from month 3. Each drift is flagged within a month of its start, at the right
 * site and feature; the unit error's site is kept out of every later run; runs start from drift
 * and from the schedule; an operator's run at month 5 that hospital 1 attacks (scale:-10 under
 * plain FedAvg) yields a version the gate rejects with its numbers, and the champion stays; every
 * site has an installed model every month.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { simulateContinuous, type ContinuousReport } from "../cli/simulate-continuous.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { parseDrifts } from "../gpu-runner/simulation/monthly-cohort.ts";

describe("a consortium replayed month by month with planted drifts", () => {
  let report: ContinuousReport;

  beforeAll(async () => {
    await selectBackend("cpu");
    report = await simulateContinuous({
      sites: 4,
      months: 5,
      patientsPerMonth: 800,
      drifts: parseDrifts("shift:2@2:10,unit:3@3"),
      windowMonths: 3,
      scheduleMonths: 2,
      model: "mlp:8",
      training: { localEpochs: 2, lrSchedule: "constant", batchSize: 32, learningRate: 0.1, l2: 0.001, headEpochs: 2, headL2: 0.01 },
      rounds: 4,
      strategy: "fedavg",
      codec: "float32",
      attackMonth: 5,
      seed: 3,
    });
  }, 240_000);

  const flagged = (month: number, check: string) => report.timeline[month - 1]!.flags.filter((f) => f.check === check).map((f) => [f.siteId, f.feature]);

  it("flags the population shift and the unit error within a month of their start, at the right site and feature, with the numbers", () => {
    expect(flagged(1, "shift")).toEqual([]);
    expect(flagged(2, "shift")).toEqual([]);
    expect(flagged(3, "shift")).toContainEqual(["site-02", "age"]);
    expect(flagged(3, "unit")).toEqual([]);
    expect(flagged(4, "unit")).toEqual([["site-03", "chol"]]);
    expect(report.timeline[3]!.flags.find((f) => f.check === "unit")?.reason).toMatch(/chol mean 5\.\d+ now vs 2\d\d .*38\.67/);
    // Nothing is flagged anywhere before the first drift shows.
    expect(report.timeline.slice(0, 2).flatMap((m) => m.flags)).toEqual([]);
  });

  it("keeps the unit error's site out of every run that starts once it is flagged", () => {
    for (const m of report.timeline.slice(3)) expect(m.excluded).toContain("site-03");
    const later = report.runs.filter((r) => r.startedAt >= report.runs[0]!.startedAt + 4 * 30 * 86_400_000);
    expect(later.length).toBeGreaterThan(0);
    for (const run of later) {
      const version = report.versions.find((v) => v.run === run.id);
      expect(version?.sites).not.toContain("site-03");
    }
  });

  it("starts runs from drift and from the schedule, each recorded with its triggers, and judges every later version against the champion", () => {
    const kinds = report.runs.flatMap((r) => r.triggers.map((t) => t.kind));
    expect(kinds).toContain("drift");
    expect(kinds).toContain("schedule");
    expect(report.runs[0]!.triggers.map((t) => t.kind)).toEqual(["created"]);
    const decisions = report.timeline.flatMap((m) => m.decisions);
    expect(decisions.length).toBe(report.versions.length - 1);
    for (const d of decisions) expect(d.judged).toBe(true);
  });

  it("rejects the attacked run's version at the gate with its numbers, and keeps the champion", () => {
    const attacked = report.runs.find((r) => r.triggers.some((t) => t.kind === "manual"));
    expect(attacked).toBeDefined();
    const decision = report.timeline[4]!.decisions.find((d) => d.run === attacked!.id);
    expect(decision).toMatchObject({ judged: true, promoted: false });
    expect(decision!.reason).toMatch(/champion kept: .*AUROC \d\.\d{3}/);
    const before = report.timeline[3]!.champion;
    expect(report.timeline[4]!.installed.every((s) => s.version !== decision!.version)).toBe(true);
    expect(before).not.toBeNull();
  });

  it("has a champion installed at every site every month, measured on the month's new patients beside the central reference", () => {
    for (const m of report.timeline) {
      expect(m.installed.every((s) => s.version !== null)).toBe(true);
      expect(m.championAuroc).toBeGreaterThan(0.6);
      expect(m.referenceAuroc).toBeGreaterThan(0.6);
    }
  });
});
