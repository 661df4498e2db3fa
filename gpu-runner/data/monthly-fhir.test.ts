import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelOf } from "../../core/preprocess/label.ts";
import { columnIndex } from "../../core/preprocess/table.ts";
import { parseDrifts } from "../simulation/monthly-cohort.ts";
import { loadMonthlyFhir, monthsData, writeMonthlyCohort, type MonthlyData } from "./monthly-fhir.ts";

const digest = async (file: string) => createHash("sha256").update(await readFile(file)).digest("hex");

describe("monthly FHIR exports with planted drifts", () => {
  const dirs: string[] = [];
  let dir: string;
  let data: MonthlyData;
  const options = { seed: 5, sites: 3, patientsPerMonth: 900, months: 3, history: 2, drifts: parseDrifts("unit:2@2,shift:3@3:12") };
  const mean = (site: number, month: number, column: string) => {
    const t = data.month(site, month).table;
    const c = columnIndex(t, column);
    const values = t.rows.map((row) => Number(row[c])).filter(finite);
    return values.reduce((a, b) => a + b, 0) / values.length;
  };
  const finite = (v: number) => Number.isFinite(v);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-months-"));
    dirs.push(dir);
    await writeMonthlyCohort(options, dir);
    data = await loadMonthlyFhir(dir);
  }, 60_000);
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("writes one export per calendar month, history first, and the same bytes for the same options", async () => {
    const manifest = JSON.parse(await readFile(join(dir, "months.json"), "utf8")) as { months: { month: number; dir: string; indexDate: string }[] };
    expect(manifest.months.map((m) => [m.month, m.dir, m.indexDate])).toEqual([
      [-1, "2026-11", "2026-11-01"],
      [0, "2026-12", "2026-12-01"],
      [1, "2027-01", "2027-01-01"],
      [2, "2027-02", "2027-02-01"],
      [3, "2027-03", "2027-03-01"],
    ]);
    expect([data.first, data.last]).toEqual([-1, 3]);
    const again = await mkdtemp(join(tmpdir(), "consilium-months-"));
    dirs.push(again);
    await writeMonthlyCohort(options, again);
    for (const f of ["months.json", "2027-02/site-02/Observation.ndjson", "2026-11/site-01/Condition.ndjson", "2027-03/cdm.json"]) expect(await digest(join(again, f)), f).toBe(await digest(join(dir, f)));
    // A month's patients are its own: ids carry the month, and the data model reads from that month's first day.
    expect((await readFile(join(dir, "2027-02/site-01/Patient.ndjson"), "utf8")).split("\n")[0]).toContain('"id":"2027-02-site-01-');
    const cdm = JSON.parse(await readFile(join(dir, "2027-02/cdm.json"), "utf8")) as { indexDate: string; label: { window: { toDays: number } } };
    expect(cdm.indexDate).toBe("2027-02-01");
    expect(cdm.label.window.toDays).toBe(30);
  });

  it("labels every month's patients from events within 30 days, at a plausible rate", () => {
    for (let m = -1; m <= 3; m++) {
      const t = data.month(0, m).table;
      const c = columnIndex(t, data.spec.label.column);
      const positives = t.rows.filter((row) => labelOf(row[c] ?? "", data.spec.label, data.spec.missingTokens) === 1).length;
      expect(positives / t.rows.length, `month ${m}`).toBeGreaterThan(0.02);
      expect(positives / t.rows.length, `month ${m}`).toBeLessThan(0.6);
    }
  });

  it("plants the unit error from its month on: cholesterol refused as out of range at the mmol/L ratio, nowhere before", () => {
    expect(data.month(1, 1).outOfRange?.chol).toBeUndefined();
    const refused = data.month(1, 2).outOfRange?.chol;
    expect(refused?.count).toBeGreaterThan(100);
    // mg/dL values around 200, sent as mmol/L: about 38.67 times smaller.
    expect(mean(1, 1, "chol") / refused!.mean).toBeGreaterThan(30);
    expect(mean(1, 1, "chol") / refused!.mean).toBeLessThan(50);
    expect(data.month(0, 2).outOfRange?.chol).toBeUndefined();
    // Months summed: counts add, means weigh by count.
    const both = monthsData(data, 1, 2, 3).outOfRange?.chol;
    expect(both?.count).toBe(refused!.count + data.month(1, 3).outOfRange!.chol!.count);
  });

  it("plants the population shift from its month on, at its site only", () => {
    expect(mean(2, 3, "age") - mean(2, 2, "age")).toBeGreaterThan(9);
    // About 150 patients a month at site 1: its mean age moves by sampling alone (SD about 1 year), not by 12.
    expect(Math.abs(mean(0, 3, "age") - mean(0, 2, "age"))).toBeLessThan(4);
  });

  it("refuses a months.json that does not describe the exports, naming the file", async () => {
    const bad = await mkdtemp(join(tmpdir(), "consilium-months-"));
    dirs.push(bad);
    await writeFile(join(bad, "months.json"), JSON.stringify({ kind: "consilium-monthly-fhir", seed: 1, sites: ["a"], patientsPerMonth: 1, months: [], drifts: [] }));
    await expect(loadMonthlyFhir(bad)).rejects.toThrow(/months\.json does not describe monthly FHIR exports/);
    const gap = JSON.parse(await readFile(join(dir, "months.json"), "utf8")) as { months: unknown[] };
    await writeFile(join(bad, "months.json"), JSON.stringify({ ...gap, months: [gap.months[0], gap.months[2]] }));
    await expect(loadMonthlyFhir(bad)).rejects.toThrow(/not consecutive/);
  });
});
