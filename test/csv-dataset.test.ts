import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodedSize } from "../core/codec/index.ts";
import { silentLogger } from "../core/logger.ts";
import { mergeSiteStats } from "../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../core/preprocess/site-stats.ts";
import { Report, type RunReport } from "../core/schemas/report.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { simulateCommand } from "../cli/commands/simulate-command.ts";
import { memoryIo } from "../cli/commands/flags.ts";
import { defaultRecipe } from "../cli/recipes.ts";
import { loadBuiltin, loadCsvDataset, type CsvOptions, type LoadedData } from "../gpu-runner/data/datasets.ts";
import { simulateOnce } from "../cli/simulate.ts";

/**
 * A made-up readmission table Consilium was not built around: text labels yes/no (ten rows
 * unlabelled), gaps written as "", NA and ?, a categorical text column with quoted commas, and
 * a patient id that must be left out. See test/fixtures/README.md.
 */
const file = fileURLToPath(new URL("./fixtures/readmission.csv", import.meta.url));
const options: CsvOptions = { file, label: "readmitted", positive: "yes", ignore: ["patient_id"], sites: 3, split: "dirichlet:1", testFraction: 0.3, seed: 1 };
const LABELLED = 410;

const rowsOf = (data: LoadedData) => data.sites.flatMap((s) => [...s.train.rows, ...s.test.rows]);

describe("loadCsvDataset", () => {
  it("infers the features of a file it has never seen and spreads its rows over the sites", async () => {
    // Execute
    const data = await loadCsvDataset(options);

    // Assert
    expect(data.name).toBe(file);
    expect(data.features.features.map((f) => [f.name, f.type])).toEqual([
      ["age", "numeric"],
      ["sex", "categorical"],
      ["length_of_stay", "numeric"],
      ["prior_admissions", "numeric"],
      ["discharge_to", "categorical"],
      ["hba1c", "numeric"],
    ]);
    expect(data.features.label).toEqual({ column: "readmitted", positive: ["yes"], negative: ["no"] });
    // Everything reading decided is said: the label rule and its counts, the rows left out, the imputed columns.
    expect(data.notes).toContain(`label readmitted: positive = yes: ${data.label?.positives} of ${LABELLED} labelled rows (${((100 * (data.label?.positives ?? 0)) / LABELLED).toFixed(1)} %)`);
    expect(data.warnings).toContain("label readmitted: 10 of 420 rows have no label (blank or a missing token) and are left out");
    expect(data.notes?.some((n) => n.startsWith("missing values, imputed with the consortium's statistics: "))).toBe(true);
    expect(data.sites.map((s) => s.name)).toEqual(["site-01", "site-02", "site-03"]);
    // Every row once, unlabelled ones too (the runner drops those when it preprocesses).
    const ids = rowsOf(data).map((r) => r[0]);
    expect(ids).toHaveLength(420);
    expect(new Set(ids).size).toBe(420);
    expect(rowsOf(data).filter((r) => r[7] === "yes" || r[7] === "no")).toHaveLength(LABELLED);
    expect(rowsOf(data).some((r) => r[5] === "skilled nursing, short stay")).toBe(true);
  });

  it("holds out about the test fraction of every site, and draws the same sites for the same seed", async () => {
    // Execute
    const data = await loadCsvDataset(options);
    const again = await loadCsvDataset(options);
    const otherSeed = await loadCsvDataset({ ...options, seed: 2 });

    // Assert
    for (const s of data.sites) {
      const share = s.test.rows.length / (s.train.rows.length + s.test.rows.length);
      expect(share).toBeGreaterThan(0.25);
      expect(share).toBeLessThan(0.35);
    }
    expect(again.sites).toEqual(data.sites);
    expect(otherSeed.sites).not.toEqual(data.sites);
  });

  it("refuses the identifier column unless it is ignored", async () => {
    // Execute
    const load = loadCsvDataset({ ...options, ignore: [] });

    // Assert
    await expect(load).rejects.toThrow("patient_id: every one of its 420 values is different (an identifier, or free text?); pass --ignore patient_id");
  });

  it("names the datasets it ships", async () => {
    // Execute
    const load = loadBuiltin("mimic", { sites: 3, split: "iid", testFraction: 0.3, seed: 1 });

    // Assert
    await expect(load).rejects.toThrow('unknown dataset "mimic" (known: heart-disease, wdbc, digits)');
  });
});

describe("a federation on the readmission file", () => {
  let data: LoadedData;
  const runs = new Map<string, RunReport>();
  const ROUNDS = 4;

  beforeAll(async () => {
    await selectBackend("cpu");
    data = await loadCsvDataset(options);
    for (const strategy of ["fedavg", "scaffold"]) {
      const plan = { sites: data.sites, features: data.features, model: "logreg", training: defaultRecipe.training, rounds: ROUNDS, strategy, codec: "float32" as const, roundDeadlineSeconds: 120 };
      runs.set(strategy, await simulateOnce(plan, 1, { logger: silentLogger }));
    }
  });

  for (const strategy of ["fedavg", "scaffold"]) {
    it(`${strategy}: closes every round with every site and ranks patients well above chance`, () => {
      // Assert
      const run = runs.get(strategy);
      expect(run?.rounds.map((r) => [r.round, r.status, r.sites])).toEqual(Array.from({ length: ROUNDS }, (_, i) => [i + 1, "closed", 3]));
      expect(run?.rejections).toBe(0);
      expect(run?.sites.reduce((n, s) => n + s.trainRows + s.testRows, 0)).toBe(LABELLED);
      expect(run?.pooled.global.auroc).toBeGreaterThan(0.7);
    });
  }

  it("sends the control delta with each SCAFFOLD update, doubling what goes up", () => {
    // Prepare
    const prep = mergeSiteStats(data.sites.map((s) => computeSiteStats(s.train, data.features)), data.features);
    const bodySize = prep.inputs.length + 1;

    // Assert
    expect(runs.get("fedavg")?.rounds.map((r) => r.bytesUp)).toEqual(Array(ROUNDS).fill(3 * encodedSize(bodySize, "float32")));
    expect(runs.get("scaffold")?.rounds.map((r) => r.bytesUp)).toEqual(Array(ROUNDS).fill(3 * encodedSize(2 * bodySize, "float32")));
  });
});

describe("consilium simulate --data", () => {
  let dir: string;
  beforeAll(async () => {
    await selectBackend("cpu");
    dir = await mkdtemp(join(tmpdir(), "consilium-recipes-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("runs the readmission file end to end and writes a report that parses", async () => {
    // Prepare
    const json = join(dir, "report.json");

    // Execute
    const io = memoryIo();
    const returned = await simulateCommand(["--data", file, "--label", "readmitted", "--positive", "yes", "--ignore", "patient_id", "--sites", "3", "--rounds", "3", "--quiet", "--json", json], io);
    const report = Report.parse(JSON.parse(await readFile(json, "utf8")));

    // Assert
    expect(report).toEqual(returned);
    expect(report).toMatchObject({ consilium: 1, dataset: file, model: "logreg", strategy: "scaffold", roundsPlanned: 3, seeds: [1] });
    expect(report.sites).toHaveLength(3);
    expect(report.runs[0]?.rounds.map((r) => r.status)).toEqual(["closed", "closed", "closed"]);
    expect(report.pooled.global.auroc.mean).toBeGreaterThan(0.7);
    // Quiet: the results on the output stream, and only warnings on the error stream.
    expect(io.outLines.some((l) => l.startsWith("pooled global"))).toBe(true);
    expect(io.errLines).toContain("warn label readmitted: 10 of 420 rows have no label (blank or a missing token) and are left out");
  });
});
