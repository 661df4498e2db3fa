import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FederationConfig } from "../../core/schemas/federation.ts";
import { federationInitCommand } from "./federation-command.ts";
import { memoryIo, UsageError } from "./flags.ts";

describe("consilium federation init", () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "consilium-federation-init-"));
    const rows = Array.from({ length: 40 }, (_, i) => `${40 + i},${180 + i} mg/dL,${i % 3 === 0 ? "current" : "never"},2024-01-${String(1 + (i % 28)).padStart(2, "0")},${i % 4 === 0 ? "yes" : "no"}`);
    await writeFile(file("rows.csv"), ["age,chol,smoker,admitted,readmitted", ...rows].join("\n"));
    await writeFile(file("header.csv"), "age,chol,smoker,admitted,readmitted\n");
    await writeFile(file("dictionary.csv"), ["column,type,unit,min,max,levels,positive", "age,numeric,years,18,110,,", "chol,numeric,mg/dL,80,700,,", "smoker,categorical,,,,never|former|current,", "admitted,date,,,,,", "readmitted,label,,,,,yes"].join("\n"));
    await writeFile(file("typo.csv"), ["column,type", "age,numeric", "cholesterol,numeric", "smoker,categorical", "admitted,date", "readmitted,label"].join("\n"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("infers the spec from a hospital's rows without a dictionary, says so, and writes a federation the coordinator takes", async () => {
    // Prepare
    const io = memoryIo();

    // Execute
    const out = await federationInitCommand(["--data", file("rows.csv"), "--label", "readmitted", "--out", file("inferred.json"), "--sites", "3"], io);

    // Assert
    const config = FederationConfig.parse(JSON.parse(await readFile(out, "utf8")));
    expect(config.id).toBe("rows");
    expect(config.expectedSites).toBe(3);
    expect(config.features.label).toEqual({ column: "readmitted", positive: ["yes"], negative: ["no"] });
    expect(config.features.features.map((f) => [f.name, f.type, f.unit])).toEqual([["age", "numeric", undefined], ["chol", "numeric", "mg/dL"], ["smoker", "categorical", undefined]]);
    expect(io.errLines[0]).toBe(`inferred the column types and the label rule from the 40 rows of ${file("rows.csv")}, on this machine: check them, or describe the columns in a data dictionary (--dictionary)`);
    expect(io.errLines).toContain("column admitted holds dates: left out (derive a feature such as an age or a length of stay from it before training, or pass --ignore to silence this)");
    expect(io.outLines[0]).toBe("federation rows: 3 features, label readmitted (positive = yes, negative = no), 60 rounds of scaffold, 3 sites");
    expect(io.outLines.at(-2)).toBe(`wrote ${out}; start the coordinator with: consilium coordinator --federation ${out}`);
  });

  it("reads only the header when a dictionary describes the columns, and writes no value of any row", async () => {
    // Prepare
    const io = memoryIo();

    // Execute
    const out = await federationInitCommand(["--data", file("header.csv"), "--dictionary", file("dictionary.csv"), "--out", file("dictionary.json"), "--id", "readmission"], io);

    // Assert
    const config = FederationConfig.parse(JSON.parse(await readFile(out, "utf8")));
    expect(config.id).toBe("readmission");
    expect(config.features.features).toEqual([
      { name: "age", column: "age", type: "numeric", missing: [], unit: "years", range: { min: 18, max: 110 } },
      { name: "chol", column: "chol", type: "numeric", missing: [], unit: "mg/dL", range: { min: 80, max: 700 } },
      { name: "smoker", column: "smoker", type: "categorical", missing: [], levels: ["never", "former", "current"] },
    ]);
    expect(io.errLines[0]).toBe(`read the header of ${file("header.csv")} (5 columns, comma-separated) and 5 rows of ${file("dictionary.csv")}; no data row was read`);
    // Nothing of rows.csv's rows: no cholesterol reading, no date appears in the file written.
    const text = await readFile(out, "utf8");
    expect(text).not.toMatch(/"(18[0-9]|19[0-9]|2[0-1][0-9])"|2024-01/);
  });

  it("lists the header's undescribed columns and the dictionary's missing ones, refuses to overwrite without --force, and needs a label", async () => {
    // Execute
    const typo = await federationInitCommand(["--data", file("header.csv"), "--dictionary", file("typo.csv"), "--out", file("typo.json")], memoryIo()).catch((err: unknown) => err);
    const exists = await federationInitCommand(["--data", file("rows.csv"), "--label", "readmitted", "--out", file("inferred.json")], memoryIo()).catch((err: unknown) => err);
    const forced = await federationInitCommand(["--data", file("rows.csv"), "--label", "readmitted", "--out", file("inferred.json"), "--force"], memoryIo());
    const unlabelled = await federationInitCommand(["--data", file("rows.csv")], memoryIo()).catch((err: unknown) => err);

    // Assert
    expect(typo).toBeInstanceOf(UsageError);
    expect((typo as Error).message).toBe(
      [
        "--dictionary: 2 columns cannot be used as they are:",
        "  chol: not described in the dictionary; add a row for it (type numeric, categorical, date, id or ignore), or pass --ignore chol",
        "  cholesterol: described in the dictionary but not in the file's header (mistyped?); correct the name in the dictionary or in the file",
      ].join("\n"),
    );
    expect((exists as Error).message).toBe(`--out: ${file("inferred.json")} exists; pass --force to overwrite it`);
    expect(forced).toBe(file("inferred.json"));
    expect((unlabelled as Error).message).toBe("give --label COLUMN, or a --dictionary with a row of type label");
  });
});
