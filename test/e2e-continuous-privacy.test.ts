/**
 * Continuous learning under a privacy policy, through the CLI (`consilium simulate --months M
 * --dp-epsilon E --dp-lifetime-epsilon L`): each site's ledger spans the consortium's runs, so the
 * ε it spends over all of them never passes its lifetime budget. Runs go on training while the
 * budget lasts; a run whose first round every site declines is abandoned at once with the reason,
 * registering nothing while the champion stays (a run stopped part-way by refusals is
 * `functions/use-cases/decline-round.test.ts`'s). The report shows ε per run and in total per site.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { continuousCommand } from "../cli/commands/continuous-command.ts";
import { memoryIo, UsageError } from "../cli/commands/flags.ts";
import type { ContinuousReport } from "../cli/simulate-continuous.ts";

const EPSILON = 2;
const LIFETIME = 4.5;

describe("a consortium that keeps training under a lifetime privacy budget", () => {
  let dir: string;
  let report: ContinuousReport;
  const io = memoryIo();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-continuous-dp-"));
    const argv = ["--months", "6", "--sites", "3", "--patients-per-month", "600", "--window", "3", "--schedule-months", "1", "--model", "logreg", "--rounds", "3", "--local-epochs", "1"];
    await continuousCommand([...argv, "--dp-epsilon", String(EPSILON), "--dp-lifetime-epsilon", String(LIFETIME), "--backend", "cpu", "--seed", "4", "--json", join(dir, "report.json")], io);
    report = JSON.parse(await readFile(join(dir, "report.json"), "utf8")) as ContinuousReport;
  }, 240_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("never lets a site's ε over all runs pass its lifetime budget, month after month, while runs spend up to theirs", () => {
    expect(report.privacy).toHaveLength(3);
    for (const month of report.timeline) {
      expect(month.epsilon).toHaveLength(3);
      for (const site of month.epsilon!) expect(site.total).toBeLessThanOrEqual(LIFETIME * (1 + 1e-6));
    }
    for (const site of report.privacy!) {
      expect(site.lifetimeBudget).toBe(LIFETIME);
      for (const run of site.runs) expect(run.epsilon).toBeLessThanOrEqual(EPSILON * (1 + 1e-6));
      // The ledger spans runs: more than one run's budget was spent, none of it forgotten.
      expect(site.runs.length).toBeGreaterThan(1);
      expect(site.total).toBeGreaterThan(EPSILON);
      expect(site.total).toBeLessThanOrEqual(LIFETIME * (1 + 1e-6));
    }
  });

  it("abandons the runs no site can train, with the reason, and keeps the champion", () => {
    const abandoned = report.runs.filter((r) => r.abandoned !== null);
    expect(abandoned.length).toBeGreaterThan(0);
    for (const run of abandoned) {
      expect(run.abandoned!.reason).toMatch(/^nothing trained: every site taking part declined round 1 \(privacy budgets\)/);
      expect(report.versions.some((v) => v.run === run.id)).toBe(false);
    }
    // Once every site's budget is spent, nothing moves the champion and every site keeps its model.
    const first = report.timeline.findIndex((m) => m.runsStarted.some((r) => r.abandoned !== null));
    const champion = report.timeline[first]!.champion;
    expect(champion).not.toBeNull();
    for (const m of report.timeline.slice(first)) {
      expect(m.champion).toBe(champion);
      expect(m.installed.every((s) => s.version === champion)).toBe(true);
    }
    // Every version was trained: no run registered a model no round aggregated.
    expect(report.versions.length).toBe(report.runs.length - abandoned.length);
  });

  it("prints ε per run and in total for each site, and marks the abandoned runs", () => {
    const text = io.outLines.join("\n");
    expect(text).toMatch(/privacy: ε per run and over all runs at each site/);
    const row = io.outLines.find((l) => l.startsWith("site-01"));
    expect(row).toBeDefined();
    expect(Number(row!.trim().split(/\s+/).at(-1))).toBe(LIFETIME);
    // Each abandoned run is marked, with the triggers it took (DP noise comes from the OS's
    // randomness, so which of schedule and drift start a run differs between runs of this test).
    const abandoned = report.timeline.flatMap((m) => m.runsStarted).filter((r) => r.abandoned !== null);
    expect(abandoned.length).toBeGreaterThan(0);
    for (const run of abandoned) {
      expect(run.triggers.length).toBeGreaterThan(0);
      expect(text).toContain(`run ${run.seq} (${run.triggers.map((t) => t.kind).join("+")}) abandoned`);
    }
  });

  it("refuses privacy flags without --dp-epsilon, and a lifetime below one run's", async () => {
    const base = ["--months", "1"];
    await expect(continuousCommand([...base, "--dp-lifetime-epsilon", "4"], memoryIo())).rejects.toThrow(UsageError);
    await expect(continuousCommand([...base, "--dp-epsilon", "2", "--dp-lifetime-epsilon", "1"], memoryIo())).rejects.toThrow(/below --dp-epsilon/);
  });
});
