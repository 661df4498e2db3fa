import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBody } from "../../core/model/init-params.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { parseModelSpec } from "../../core/model/model-spec.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import type { Table } from "../../core/preprocess/table.ts";
import { applyPreprocessing } from "../../core/preprocess/transform.ts";
import { seededRandom } from "../../core/random.ts";
import { parseCsv, parseCsvText } from "../../gpu-runner/data/read-csv.ts";
import { selectBackend } from "../../gpu-runner/model/backend.ts";
import { scoreRows } from "../../gpu-runner/model/score-rows.ts";
import { savePersonalModel, type PersonalModel } from "../../gpu-runner/session/site-state.ts";
import { recordPersonalModel } from "../../gpu-runner/session/state-owner.ts";
import { syntheticSites, syntheticSpec } from "../../test/fixtures/synthetic-sites.ts";
import { usageOf } from "../../test/support/cli.ts";
import { memoryIo, parseFlags } from "./flags.ts";
import { predictCommand, predictSpec } from "./predict-command.ts";

const usage = (argv: string[], env: Record<string, string> = {}) => usageOf(predictSpec, argv, env);

const [site] = syntheticSites({ sites: 1, trainRows: 200, testRows: 25, seed: 8 });
const train = site?.train ?? { columns: [], rows: [] };
const test = site?.test ?? { columns: [], rows: [] };
const preprocessing = mergeSiteStats([computeSiteStats(train, syntheticSpec)], syntheticSpec);

function personalModel(): PersonalModel {
  const spec = parseModelSpec("logreg");
  const layout = modelLayout(spec, preprocessing.inputs.length);
  const rng = seededRandom(4);
  return { meta: { modelVersion: 12, spec, layout, preprocessing, savedAt: "2025-05-01T10:00:00.000Z" }, body: initBody(layout, seededRandom(2)).map((v) => v + rng() - 0.5), head: Float32Array.from({ length: layout.headSize }, () => rng() - 0.5) };
}

const csvText = (columns: readonly string[], rows: readonly (readonly string[])[]) => [columns, ...rows].map((r) => r.join(",")).join("\n");

describe("consilium site predict: flags", () => {
  it("takes --data and --out, the site as site export does, and --threshold, --id, --delimiter, --map", () => {
    expect(parseFlags(predictSpec, ["--data", "rows.csv", "--out", "scores.csv"])).toEqual({ data: "rows.csv", out: "scores.csv" });
    expect(parseFlags(predictSpec, ["--data", "r.csv", "--out", "s.csv", "--site", "site-01", "--threshold", "0.3", "--id", "mrn", "--delimiter", "semicolon", "--map", "years=age"])).toEqual({
      data: "r.csv", out: "s.csv", site: "site-01", threshold: 0.3, id: "mrn", delimiter: "semicolon", map: "years=age",
    });
    expect(parseFlags(predictSpec, ["--data", "r.csv", "--out", "s.csv"], { CONSILIUM_SITE_TOKEN: "cs_site-01_x" })).toEqual({ data: "r.csv", out: "s.csv", token: "cs_site-01_x" });
  });

  it("refuses missing flags, a threshold outside [0, 1], --out over --data and a --site the token does not name", () => {
    expect(usage(["--out", "s.csv"])).toBe("--data: required");
    expect(usage(["--data", "r.csv", "--out", "s.csv", "--threshold", "1.5"])).toBe('--threshold: expected a number from 0 to 1 (got "1.5")');
    expect(usage(["--data", "r.csv", "--out", "s.csv", "--threshold", "high"])).toBe('--threshold: expected a number from 0 to 1 (got "high")');
    expect(usage(["--data", "r.csv", "--out", "./r.csv"])).toBe("--out: is --data: write the scores to another file");
    expect(usage(["--data", "r.csv", "--out", "s.csv", "--site", "site-02"], { CONSILIUM_SITE_TOKEN: "cs_site-01_x" })).toBe("--site and the site of --token (or CONSILIUM_SITE_TOKEN) differ: give one");
  });
});

describe("consilium site predict", () => {
  let dir: string;
  let stateDir: string;
  const personal = personalModel();
  /** What the runner's own code scores labelled `table` at. */
  const runner = (table: Table) => [...scoreRows(personal.meta.layout, personal.body, personal.head, applyPreprocessing(table, preprocessing))];
  const run = async (name: string, text: string, flags: string[] = []) => {
    const data = join(dir, `${name}.csv`);
    const out = join(dir, `${name}-scores.csv`);
    await writeFile(data, text);
    const io = memoryIo();
    const result = await predictCommand(["--state-dir", stateDir, "--data", data, "--out", out, ...flags], { io });
    return { result, data, out, err: io.errLines, scores: parseCsv(await readFile(out, "utf8")) };
  };
  const refusal = (name: string, text: string, flags: string[] = []) => run(name, text, flags).then(() => "ran", (e: Error) => e.message);

  beforeAll(async () => {
    await selectBackend("cpu");
    dir = await mkdtemp(join(tmpdir(), "consilium-predict-"));
    stateDir = join(dir, "state");
    await savePersonalModel(stateDir, personal);
    await recordPersonalModel(stateDir, "site-01", { federation: "fed-p", modelVersion: 12 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("writes each row's score, exactly scoreRows's on the same preprocessed rows, its decision at 0.5, the model version and the id", async () => {
    // Prepare
    const columns = ["mrn", ...test.columns];
    const rows = test.rows.map((r, i) => [`P${100 + i}`, ...r]);
    // Execute
    const { result, data, out, err, scores } = await run("good", csvText(columns, rows), ["--id", "mrn"]);
    // Assert
    const expected = runner(test);
    expect(scores.columns).toEqual(["row", "mrn", "score", "decision", "model_version", "reason"]);
    expect(scores.rows.map((r) => Number(r[2]))).toEqual(expected);
    expect(scores.rows.map((r) => [r[0], r[1], r[3], r[4], r[5]])).toEqual(expected.map((p, i) => [String(i + 1), `P${100 + i}`, p >= 0.5 ? "1" : "0", "12", ""]));
    expect(new Set(scores.rows.map((r) => r[3])).size).toBe(2);
    const imputed = [["lactate", test.rows.filter((r) => r[0] === "").length], ["ward", test.rows.filter((r) => r[2] === "NA").length]].filter(([, n]) => n !== 0);
    expect(err).toEqual([
      `${data}: column outcome is the model's label: ignored, scores never read it`,
      ...(imputed.length > 0 ? [`imputed as the model's preprocessing defines for missing values: ${imputed.map(([c, n]) => `${c} in ${n} row${n === 1 ? "" : "s"}`).join(", ")}`] : []),
      `scored 25 of 25 rows of ${data} with the personalized model v12 of federation fed-p (site site-01) at threshold 0.5 (the one the site's evaluation counts use; --threshold sets another): ${out}`,
    ]);
    expect(result).toEqual({ siteId: "site-01", modelVersion: 12, threshold: 0.5, rows: 25, scored: 25, refused: {}, out });
  });

  it("refuses a row whose number does not parse or whose level is unknown, with the reason, and scores the others", async () => {
    // Prepare
    const text = csvText(["lactate", "age", "ward"], [["2.1", "55", "A"], ["2.1", "fifty", "A"], ["1.5", "70", "Q"], ["NA", "40", "C"], ["high", "61", "B"]]);
    // Execute
    const { result, data, out, err, scores } = await run("bad", text, ["--threshold", "0.4"]);
    // Assert
    const expected = runner({ columns: ["lactate", "age", "ward", "outcome"], rows: [["2.1", "55", "A", "0"], ["NA", "40", "C", "0"]] });
    expect(scores.columns).toEqual(["row", "score", "decision", "model_version", "reason"]);
    expect(scores.rows).toEqual([
      ["1", String(expected[0]), (expected[0] ?? 0) >= 0.4 ? "1" : "0", "12", ""],
      ["2", "", "", "12", 'NOT_A_NUMBER age: "fifty" is not a number'],
      ["3", "", "", "12", 'UNKNOWN_LEVEL ward: "Q" is not a level the consortium saw (A, B, C)'],
      ["4", String(expected[1]), (expected[1] ?? 0) >= 0.4 ? "1" : "0", "12", ""],
      ["5", "", "", "12", 'NOT_A_NUMBER lactate: "high" is not a number'],
    ]);
    expect(err).toEqual([
      "imputed as the model's preprocessing defines for missing values: lactate in 1 row",
      "refused 3 of 5 rows, written with an empty score and the reason: 1 NOT_A_NUMBER in age, 1 UNKNOWN_LEVEL in ward, 1 NOT_A_NUMBER in lactate",
      `scored 2 of 5 rows of ${data} with the personalized model v12 of federation fed-p (site site-01) at threshold 0.4 (--threshold): ${out}`,
    ]);
    expect(result.refused).toEqual({ "NOT_A_NUMBER age": 1, "UNKNOWN_LEVEL ward": 1, "NOT_A_NUMBER lactate": 1 });
  });

  it("refuses a file that lacks a feature's column the model cannot do without, naming it and the columns it could map", async () => {
    // Prepare
    const data = join(dir, "no-ward.csv");
    // Execute
    const message = await refusal("no-ward", csvText(["lactate", "age", "unit_name", "outcome"], [["2", "50", "A", "1"]]));
    // Assert
    expect(message).toBe(
      `--data: ${data} has no column "ward": the model cannot score a row without it (where a value was not measured, give a missing token such as "NA" in the column); columns here the model does not use: unit_name: if one holds the same measurement, map it, e.g. --map unit_name=ward`,
    );
  });

  it("scores a file without a column whose feature has a missing-value indicator as missing in every row, and says so", async () => {
    // Prepare
    const rows = test.rows.map((r) => [r[1] ?? "", r[2] ?? ""]);
    // Execute
    const { data, err, scores } = await run("no-lactate", csvText(["age", "ward"], rows));
    // Assert
    expect(scores.rows.map((r) => Number(r[1]))).toEqual(runner({ columns: test.columns, rows: test.rows.map((r) => ["", r[1] ?? "", r[2] ?? "", "0"]) }));
    expect(err[0]).toBe(`${data} has no column lactate: every row is scored with lactate missing, as the model's preprocessing defines (its missing-value indicator set)`);
  });

  it("reads a column named otherwise through --map, semicolons and decimal commas as consilium site does", async () => {
    // Prepare
    const rows = test.rows.map((r) => [(r[0] ?? "").replace(".", ","), (r[1] ?? "").replace(".", ","), r[2] ?? ""]);
    const text = [["lactate", "years", "unit"], ...rows].map((r) => r.join(";")).join("\n");
    // Execute
    const { data, err, scores } = await run("mapped", text, ["--map", "years=age,unit=ward"]);
    // Assert
    expect(scores.rows.map((r) => Number(r[1]))).toEqual(runner(test));
    expect(err[0]).toBe(`${data}: semicolon-separated`);
    expect(err[1]).toBe(`${data}: decimal commas read as points in lactate, years`);
  });

  it("refuses a --map or --id that names no column of the file", async () => {
    const text = csvText(test.columns, test.rows);
    const data = join(dir, "names.csv");
    expect(await refusal("names", text, ["--map", "years=age"])).toBe(`--map: ${data} has no column "years" (columns: lactate, age, ward, outcome)`);
    expect(await refusal("names", text, ["--id", "mrn"])).toBe(`--id: ${data} has no column "mrn" (columns: lactate, age, ward, outcome)`);
    expect(await refusal("names", text, ["--map", "years"])).toBe('--map: expected LOCAL=CONSORTIUM pairs, e.g. cholesterol=chol (got "years")');
  });

  it("refuses a feature column the reader cannot read without guessing, as consilium site does, and reads past such a column the model ignores", async () => {
    // Prepare
    const mixed = csvText(["lactate", "age", "ward", "note"], [["2", "60 years", "A", "5 mg"], ["2", "700 months", "B", "5 kg"]]);
    const why = parseCsvText(mixed).unreadable;
    const data = join(dir, "units.csv");
    // Execute
    const message = await refusal("units", mixed);
    const ignored = await run("units-ok", csvText(["lactate", "age", "ward", "note"], [["2", "60", "A", "5 mg"], ["2", "70", "B", "5 kg"]]));
    // Assert
    expect(Object.keys(why)).toEqual(["age", "note"]);
    expect(message).toBe(`--data: ${data}: column age: ${why.age}`);
    expect(ignored.result.scored).toBe(2);
  });
});
