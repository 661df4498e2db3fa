/**
 * A hospital's own CSVs, as they come, through `consilium simulate`: no run may change the meaning
 * of the data without saying so (which label value is positive, merged spellings, rows left out,
 * imputed columns, units, delimiters), and small data is said out loud. Each case is the command
 * as a user types it, with its output read back.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIo, UsageError } from "../cli/commands/flags.ts";
import { simulateCommand } from "../cli/commands/simulate-command.ts";
import { seededRandom } from "../core/random.ts";
import { Report } from "../core/schemas/report.ts";

/** One row of a made-up cohort: age, cholesterol, smoker, a hospital and a yes/no outcome that depends on them. */
interface Patient {
  readonly hospital: string;
  readonly age: number;
  readonly chol: number;
  readonly smoker: string;
  readonly outcome: boolean;
}

function cohort(n: number, seed: number, positiveShare = 0.55): Patient[] {
  const rng = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const age = 35 + Math.floor(rng() * 50);
    const chol = 140 + Math.floor(rng() * 160);
    const smoker = rng() < 0.3 ? "current" : "never";
    const risk = (age - 35) / 50 + (chol - 140) / 320 + (smoker === "current" ? 0.3 : 0) + rng() * 0.6;
    return { hospital: ["Basel", "Bern", "Zurich"][i % 3] ?? "Basel", age, chol, smoker, outcome: risk > 1.35 - positiveShare };
  });
}

const run = ["--rounds", "1", "--workers", "0", "--backend", "cpu"];

describe("consilium simulate on a hospital's own CSVs", () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const simulate = async (argv: string[]) => {
    const io = memoryIo();
    const json = file(`report-${Math.random().toString(36).slice(2)}.json`);
    await simulateCommand([...argv, ...run, "--json", json], io);
    return { io, err: io.errLines.join("\n"), out: io.outLines.join("\n"), report: Report.parse(JSON.parse(await readFile(json, "utf8"))) };
  };
  const refusal = async (argv: string[]) => {
    const failed = await simulateCommand([...argv, ...run], memoryIo()).then(() => null, (err: unknown) => err);
    expect(failed).toBeInstanceOf(UsageError);
    return (failed as Error).message;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-messy-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("says which label value is positive, with its counts, on the terminal and in the JSON", async () => {
    // Prepare: more "yes" than "no": the rarer value is "no", which must not become positive.
    const patients = cohort(600, 1, 0.6);
    const yes = patients.filter((p) => p.outcome).length;
    expect(yes).toBeGreaterThan(300);
    await writeFile(file("yes-no.csv"), ["age,chol,smoker,outcome", ...patients.map((p) => `${p.age},${p.chol},${p.smoker},${p.outcome ? "yes" : "no"}`)].join("\n"));

    // Execute
    const { err, report } = await simulate(["--data", file("yes-no.csv"), "--label", "outcome"]);

    // Assert
    expect(err).toContain(`label outcome: positive = yes: ${yes} of 600 labelled rows (${((100 * yes) / 600).toFixed(1)} %)`);
    expect(report.data?.label).toMatchObject({ column: "outcome", positive: "yes", positives: yes, negatives: 600 - yes, unlabelled: 0, merged: [] });
  });

  it("asks for --positive when no value says positive by itself", async () => {
    // Prepare
    await writeFile(file("mb.csv"), ["age,chol,diagnosis", ...cohort(60, 2).map((p) => `${p.age},${p.chol},${p.outcome ? "M" : "B"}`)].join("\n"));

    // Execute
    const message = await refusal(["--data", file("mb.csv"), "--label", "diagnosis"]);

    // Assert
    expect(message).toMatch(/^--data: label "diagnosis" has the values "[MB]" \(\d+ rows\), "[MB]" \(\d+ rows\), neither of which says "positive" by itself: pass --positive VALUE to say which means the outcome$/);
  });

  it("merges label spellings and leaves out unlabelled rows, saying both, and counts YES as yes", async () => {
    // Prepare: every tenth positive written YES, every twentieth row blank.
    const patients = cohort(600, 3);
    const label = (p: Patient, i: number) => (i % 20 === 0 ? "" : p.outcome ? (i % 10 === 1 ? "YES" : "yes") : "no");
    const rows = patients.map((p, i) => `${p.age},${p.chol},${p.smoker},${label(p, i)}`);
    await writeFile(file("messy-labels.csv"), ["age,chol,smoker,outcome", ...rows].join("\n"));
    const labels = patients.map(label);
    const shouted = labels.filter((l) => l === "YES").length;
    const positives = labels.filter((l) => l === "yes" || l === "YES").length;
    expect(shouted).toBeGreaterThan(0);

    // Execute
    const { err, report } = await simulate(["--data", file("messy-labels.csv"), "--label", "outcome", "--positive", "yes"]);

    // Assert
    expect(err).toContain(`warn label outcome: "YES" read as "yes" (${shouted} rows; values differing only in case or spaces are one value)`);
    expect(err).toContain("warn label outcome: 30 of 600 rows have no label (blank or a missing token) and are left out");
    expect(err).toContain(`label outcome: positive = yes: ${positives} of 570 labelled rows`);
    expect(report.data?.label).toMatchObject({ positives, unlabelled: 30, merged: [{ value: "yes", spellings: ["YES"], rows: shouted }] });
    expect(report.data?.warnings).toContain("label outcome: 30 of 600 rows have no label (blank or a missing token) and are left out");
  });

  it("reads a semicolon file with decimal commas, a unit and a date column, and says how", async () => {
    // Prepare
    const rows = cohort(300, 4).map((p, i) => `2024-0${1 + (i % 9)}-1${i % 9};${p.age};${(p.chol / 38.67).toFixed(2).replace(".", ",")} mmol/L;${p.smoker};${p.outcome ? 1 : 0}`);
    await writeFile(file("semicolon.csv"), ["admitted;age;chol;smoker;outcome", ...rows].join("\n"));

    // Execute
    const { err, report } = await simulate(["--data", file("semicolon.csv"), "--label", "outcome"]);

    // Assert
    expect(err).toContain(`${file("semicolon.csv")}: semicolon-separated`);
    expect(err).toContain(`${file("semicolon.csv")}: decimal commas read as points in chol`);
    expect(err).toContain(`${file("semicolon.csv")}: column chol carries the unit mmol/L in every value: read as numbers in mmol/L`);
    expect(err).toContain("column admitted holds dates: left out");
    expect(report.data?.notes).toContain(`${file("semicolon.csv")}: column chol carries the unit mmol/L in every value: read as numbers in mmol/L`);
  });

  it("recognises gzip by its bytes and refuses binary and header-only files with what is wrong", async () => {
    // Prepare
    const text = ["age,chol,outcome", ...cohort(120, 5).map((p) => `${p.age},${p.chol},${p.outcome ? 1 : 0}`)].join("\n");
    await writeFile(file("export.csv"), gzipSync(text));
    await writeFile(file("model.bin"), Buffer.from([0x93, 0x00, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x00]));
    await writeFile(file("header.csv"), "age,chol,outcome\n");

    // Execute
    const { err } = await simulate(["--data", file("export.csv"), "--label", "outcome"]);
    const binary = await refusal(["--data", file("model.bin"), "--label", "outcome"]);
    const header = await refusal(["--data", file("header.csv"), "--label", "outcome"]);

    // Assert
    expect(err).toContain(`${file("export.csv")}: gzip-compressed`);
    expect(binary).toBe(`--data: ${file("model.bin")}: holds binary bytes, not text: is it a CSV file? (a compressed CSV must be gzip)`);
    expect(header).toBe(`--data: ${file("header.csv")}: the file has a header row (3 columns) but no rows`);
  });

  it("reports every column it cannot use in one run, and never calls a unit an identifier", async () => {
    // Prepare: a unit-carrying cholesterol (fine), a patient id, free text, stray text in a number column.
    const rows = cohort(200, 6).map((p, i) => `P${10_000 + i},${p.age},${p.chol} mg/dL,${i % 25 === 0 ? "pending" : String(p.age % 7)},note ${i % 120},${p.outcome ? 1 : 0}`);
    await writeFile(file("problems.csv"), ["patient,age,chol,crp,comment,outcome", ...rows].join("\n"));

    // Execute
    const message = await refusal(["--data", file("problems.csv"), "--label", "outcome"]);

    // Assert
    expect(message).toBe(
      [
        "--data: 3 columns cannot be used as they are:",
        "  patient: every one of its 200 values is different (an identifier, or free text?); pass --ignore patient",
        '  crp: 8 of 200 values are not numbers ("pending"); if they mean "not recorded", pass --missing pending; otherwise clean them, or pass --ignore crp',
        "  comment: 120 different text values, more than the 50 levels a categorical feature may have (free text, or a fine-grained code?); group its values into at most 50 levels, or pass --ignore comment",
      ].join("\n"),
    );
  });

  it("says how much of each feature is imputed, and warns where much is", async () => {
    // Prepare: chol missing in 40 % of rows.
    const rows = cohort(400, 7).map((p, i) => `${p.age},${i % 5 < 2 ? "" : p.chol},${p.smoker},${p.outcome ? 1 : 0}`);
    await writeFile(file("gaps.csv"), ["age,chol,smoker,outcome", ...rows].join("\n"));

    // Execute
    const { err } = await simulate(["--data", file("gaps.csv"), "--label", "outcome"]);

    // Assert
    expect(err).toContain("missing values, imputed with the consortium's statistics: chol 40.0 % (mean)");
    expect(err).toContain("warn chol is missing in 160 of 400 rows (40.0 %); every one of them gets the consortium's mean");
  });

  it("names sites by the split column's values, never uses that column as a feature, and warns about small sites", async () => {
    // Prepare: 45 rows over three hospitals.
    const rows = cohort(45, 8).map((p) => `${p.hospital},${p.age},${p.chol},${p.outcome ? 1 : 0}`);
    await writeFile(file("hospitals.csv"), ["hospital,age,chol,outcome", ...rows].join("\n"));

    // Execute
    const { err, out, report } = await simulate(["--data", file("hospitals.csv"), "--label", "outcome", "--split", "column:hospital"]);

    // Assert
    expect(report.sites.map((s) => s.name)).toEqual(["Basel", "Bern", "Zurich"]);
    expect(report.runs[0]?.features?.features.map((f) => f.name)).toEqual(["age", "chol"]);
    for (const name of ["Basel", "Bern", "Zurich"]) expect(err).toMatch(new RegExp(`warn site ${name} has \\d+ training and \\d+ test rows, fewer than 30 (training and )?test rows: its figures are uncertain`));
    // Tiny test sets: the intervals say how little the figures mean.
    expect(out).toMatch(/pooled global +accuracy \d\.\d{3} \(\d\.\d\d–\d\.\d\d\) {2}AUROC/);
  });

  it("keeps the results and warnings under --quiet and drops the progress", async () => {
    // Prepare
    const rows = cohort(60, 9).map((p) => `${p.age},${p.chol},${p.outcome ? 1 : 0}`);
    await writeFile(file("quiet.csv"), ["age,chol,outcome", ...rows].join("\n"));

    // Execute
    const { io } = await simulate(["--data", file("quiet.csv"), "--label", "outcome", "--quiet"]);

    // Assert
    expect(io.outLines.join("\n")).toMatch(/│ site +│ train │ test │ global +│ personalized +│/);
    expect(io.outLines.some((l) => l.startsWith("pooled global"))).toBe(true);
    expect(io.errLines.length).toBeGreaterThan(0);
    expect(io.errLines.every((l) => l.startsWith("warn "))).toBe(true);
  });
});
