/**
 * Continuous learning on hospitals' FHIR exports, through the CLI: `consilium synth --months 4
 * --history 3 --drift shift:2@2:10,unit:3@3` writes a monthly bulk export per hospital (patients
 * admitted that month, an outcome within 30 days), and `consilium simulate --fhir DIR --months 4`
 * replays them month by month through the production paths. Each drift is flagged by the first
 * check-in that sees its month, at the right site and feature (the unit error from the readings
 * the data model refused as out of range); the unit error's site is kept out of the next run.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { continuousCommand } from "../cli/commands/continuous-command.ts";
import { memoryIo, UsageError } from "../cli/commands/flags.ts";
import { synthCommand } from "../cli/commands/synth-command.ts";
import type { ContinuousReport } from "../cli/simulate-continuous.ts";

describe("consilium synth --months, then simulate --fhir DIR --months", () => {
  let dir: string;
  let report: ContinuousReport;
  const synthIo = memoryIo();
  const io = memoryIo();
  const replay = ["--months", "4", "--window", "3", "--schedule-months", "2", "--model", "mlp:8", "--rounds", "4", "--local-epochs", "2", "--backend", "cpu"];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-continuous-fhir-"));
    await synthCommand(["--months", "4", "--history", "3", "--sites", "4", "--patients", "5600", "--drift", "shift:2@2:10,unit:3@3", "--out", join(dir, "fhir")], { io: synthIo });
    await continuousCommand(["--fhir", join(dir, "fhir"), ...replay, "--json", join(dir, "report.json")], io);
    report = JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as ContinuousReport;
  }, 240_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const flags = (month: number) => report.timeline[month - 1]!.flags;

  it("says what it wrote: the months, the patients a month and the planted drifts", () => {
    expect(synthIo.outLines[0]).toMatch(/^consilium synth: 7 monthly exports \(2026-10 to 2027-04: 3 of history, then months 1 to 4\) of 4 sites, 800 patients a month/);
    expect(synthIo.outLines.slice(1)).toEqual(["  planted: site 2's patients 10 years older from month 2", "  planted: site 3 sends cholesterol in mmol/L labelled mg/dL from month 3"]);
  });

  it("flags each drift at the first check-in that sees it, at the right site and feature, and nothing before", () => {
    expect(flags(1)).toEqual([]);
    expect(flags(2)).toEqual([]);
    expect(flags(3).map((f) => [f.siteId, f.check, f.feature])).toContainEqual(["site-02", "shift", "age"]);
    expect(new Set(flags(3).map((f) => f.siteId))).toEqual(new Set(["site-02"]));
    const unit = flags(4).filter((f) => f.check === "unit");
    expect(unit.map((f) => [f.siteId, f.feature])).toEqual([["site-03", "chol"]]);
    // From the readings the data model refused: most of them, about 38.67 times below the site's cholesterol before.
    expect(unit[0]!.reason).toMatch(/^site-03: 100% of chol readings are outside the data model.s range now vs 0% .*38\.\d× smaller: close to the factor 38\.67/);
  });

  it("keeps the unit error's site out of the run its flag starts, and every site holds a model every month", () => {
    expect(report.timeline[3]!.excluded).toEqual(["site-03"]);
    const started = report.timeline[3]!.runsStarted;
    expect(started.flatMap((r) => r.triggers.map((t) => t.kind))).toContain("drift");
    for (const run of started) {
      const id = report.runs.find((r) => r.seq === run.seq)!.id;
      const version = report.versions.find((v) => v.run === id);
      expect(version?.sites).toEqual(["site-01", "site-02", "site-04"]);
    }
    for (const m of report.timeline) expect(m.installed.every((s) => s.version !== null)).toBe(true);
    expect(report.plan.drifts.map((d) => d.kind)).toEqual(["shift", "unit"]);
  });

  it("refuses flags the exports already answer, a folder without months.json, and months it does not hold", async () => {
    await expect(continuousCommand(["--fhir", join(dir, "fhir"), "--months", "2", "--sites", "4"], memoryIo())).rejects.toThrow(/leave out --sites/);
    await expect(continuousCommand(["--fhir", dir, "--months", "2"], memoryIo())).rejects.toThrow(/holds no months\.json/);
    await expect(continuousCommand(["--fhir", join(dir, "fhir"), "--months", "5", "--window", "3"], memoryIo())).rejects.toThrow(UsageError);
    await expect(continuousCommand(["--fhir", join(dir, "fhir"), "--months", "2", "--window", "4"], memoryIo())).rejects.toThrow(/needs months -3 to 2/);
  });
});
