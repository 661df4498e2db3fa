import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsiliumError } from "../../core/errors.ts";
import { initBody } from "../../core/model/init-params.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { parseModelSpec } from "../../core/model/model-spec.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import type { Table } from "../../core/preprocess/table.ts";
import { applyPreprocessing } from "../../core/preprocess/transform.ts";
import { seededRandom } from "../../core/random.ts";
import { syntheticSites, syntheticSpec } from "../../test/fixtures/synthetic-sites.ts";
import { savePersonalModel, type PersonalModel } from "../session/site-state.ts";
import { recordPersonalModel } from "../session/state-owner.ts";
import { selectBackend } from "./backend.ts";
import { absentFeatures, decide, loadLocalModel, modelFeatures, modelStamp, scoreLocalRows, type RowCells } from "./local-model.ts";
import { scoreRows } from "./score-rows.ts";

const [site] = syntheticSites({ sites: 1, trainRows: 200, testRows: 30, seed: 5 });
const train = site?.train ?? { columns: [], rows: [] };
const test = site?.test ?? { columns: [], rows: [] };
const preprocessing = mergeSiteStats([computeSiteStats(train, syntheticSpec)], syntheticSpec);

/** A personal model as the runner saves it: an MLP body and a head that is not zero. */
function personalModel(version: number, seed: number): PersonalModel {
  const spec = parseModelSpec("mlp:4");
  const layout = modelLayout(spec, preprocessing.inputs.length);
  const rng = seededRandom(seed);
  const head = Float32Array.from({ length: layout.headSize }, () => rng() - 0.5);
  return { meta: { modelVersion: version, spec, layout, preprocessing, savedAt: "2025-05-01T10:00:00.000Z" }, body: initBody(layout, seededRandom(seed + 1)), head };
}

/** Each row of `table` as cells by column. */
const cellsOf = (table: Table): RowCells[] => table.rows.map((row) => (c: string) => {
  const j = table.columns.indexOf(c);
  return j < 0 ? undefined : row[j];
});

/** What the runner's own code scores `table` (labelled) at. */
const runnerScores = (p: PersonalModel, table: Table): number[] => [...scoreRows(p.meta.layout, p.body, p.head, applyPreprocessing(table, preprocessing))];

describe("loadLocalModel and scoreLocalRows", () => {
  let root: string;
  let stateDir: string;
  const personal = personalModel(6, 3);
  beforeAll(async () => {
    await selectBackend("cpu");
    root = await mkdtemp(join(tmpdir(), "consilium-local-model-"));
    stateDir = join(root, "site-01");
    await savePersonalModel(stateDir, personal);
    await recordPersonalModel(stateDir, "site-01", { federation: "fed-a", modelVersion: 6 });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("loads the model with its site, federation, version and the evaluation's threshold", async () => {
    // Execute
    const model = await loadLocalModel(stateDir);
    // Assert
    expect([model.siteId, model.federation, model.modelVersion, model.threshold, model.savedAt]).toEqual(["site-01", "fed-a", 6, 0.5, "2025-05-01T10:00:00.000Z"]);
    expect(model.stamp).toBe(await modelStamp(stateDir));
    expect(modelFeatures(model).map((f) => [f.column, f.kind, f.mayBeAbsent])).toEqual([["lactate", "numeric", true], ["age", "numeric", false], ["ward", "categorical", false]]);
  });

  it("scores rows exactly as scoreRows does on the same preprocessed rows, missing cells imputed as the preprocessing says", async () => {
    // Prepare
    const model = await loadLocalModel(stateDir);
    const blanks = test.rows.filter((r) => r[0] === "").length;
    const wardNa = test.rows.filter((r) => r[2] === "NA").length;
    // Execute
    const { scores, problems, imputed } = scoreLocalRows(model, cellsOf(test));
    // Assert
    expect(problems).toEqual([]);
    expect(scores).toEqual(runnerScores(personal, test));
    expect(blanks + wardNa).toBeGreaterThan(0);
    expect(Object.fromEntries(imputed)).toEqual({ ...(blanks > 0 && { lactate: blanks }), ...(wardNa > 0 && { ward: wardNa }) });
  });

  it("refuses a row per cell it cannot use, naming the column, and scores the others", async () => {
    // Prepare
    const model = await loadLocalModel(stateDir);
    const rows: Record<string, string>[] = [
      { lactate: "2.5", age: "61", ward: "A" },
      { lactate: "2.5", age: "sixty", ward: "A" },
      { lactate: "2.5", age: "61", ward: "Z" },
      { lactate: "2.5", age: "61" },
      { age: "61", ward: "B" },
      { lactate: "x", age: "", ward: "D" },
    ];
    // Execute
    const { scores, problems } = scoreLocalRows(model, rows.map((r) => (c: string) => r[c]));
    // Assert
    expect(problems).toEqual([
      { index: 1, column: "age", code: "NOT_A_NUMBER", reason: '"sixty" is not a number' },
      { index: 2, column: "ward", code: "UNKNOWN_LEVEL", reason: '"Z" is not a level the consortium saw (A, B, C)' },
      { index: 3, column: "ward", code: "MISSING_COLUMN", reason: 'absent: the model\'s feature ward needs this column (where it was not measured, give a missing token such as "NA")' },
      { index: 5, column: "lactate", code: "NOT_A_NUMBER", reason: '"x" is not a number' },
      { index: 5, column: "ward", code: "UNKNOWN_LEVEL", reason: '"D" is not a level the consortium saw (A, B, C)' },
    ]);
    const expected = runnerScores(personal, { columns: ["lactate", "age", "ward", "outcome"], rows: [["2.5", "61", "A", "0"], ["", "61", "B", "0"]] });
    expect(scores).toEqual([expected[0], null, null, null, expected[1], null]);
  });

  it("lets a file lack only a column whose feature has a missing-value indicator", async () => {
    // Prepare
    const model = await loadLocalModel(stateDir);
    // Execute
    const absent = absentFeatures(model, ["age", "outcome"]);
    // Assert
    expect(absent.imputed.map((f) => f.column)).toEqual(["lactate"]);
    expect(absent.refused.map((f) => f.column)).toEqual(["ward"]);
  });

  it("decides positive at or above the threshold", () => {
    expect([decide(0.5, 0.5), decide(0.4999, 0.5), decide(0.2, 0.1)]).toEqual([1, 0, 1]);
  });

  it("sees a newly saved model by its stamp and loads it", async () => {
    // Prepare
    const before = await modelStamp(stateDir);
    const next = personalModel(7, 9);
    // Execute
    await savePersonalModel(stateDir, next);
    const model = await loadLocalModel(stateDir);
    // Assert
    expect(await modelStamp(stateDir)).not.toBe(before);
    expect(model.modelVersion).toBe(7);
    expect(model.federation).toBeNull();
    expect(scoreLocalRows(model, cellsOf(test)).scores).toEqual(runnerScores(next, test));
    await savePersonalModel(stateDir, personal);
  });

  it("says so when the folder holds no personal model, or one whose preprocessing does not fit its layout", async () => {
    // Prepare
    const empty = join(root, "empty");
    await mkdir(empty);
    const odd = join(root, "odd");
    const p = personalModel(2, 1);
    await savePersonalModel(odd, { ...p, meta: { ...p.meta, preprocessing: { ...preprocessing, inputs: preprocessing.inputs.slice(1) } } });
    // Execute
    const none = await loadLocalModel(empty).then(() => null, (e: unknown) => e);
    const corrupt = await loadLocalModel(odd).then(() => null, (e: unknown) => e);
    // Assert
    expect(none).toBeInstanceOf(ConsiliumError);
    expect([(none as ConsiliumError).code, (none as ConsiliumError).message]).toEqual(["NO_PERSONAL_MODEL", `no personal model in ${empty}: run consilium site until the federation finishes first`]);
    expect([(corrupt as ConsiliumError).code, (corrupt as ConsiliumError).message]).toEqual(["CORRUPT_STATE", `personal model: preprocessing makes ${preprocessing.inputs.length - 1} inputs, the layout takes ${preprocessing.inputs.length}`]);
    expect(await modelStamp(empty)).toBeNull();
  });

  it("scores a K-class personal model: each class's probability, the most probable class and its probability", async () => {
    // Prepare: the same features, a label of three classes.
    const dir = join(root, "k-class");
    const kPrep = { ...preprocessing, label: { column: preprocessing.label.column, classes: ["low", "mid", "high"] } };
    const layout = modelLayout(parseModelSpec("mlp:4"), preprocessing.inputs.length, 3);
    const rng = seededRandom(9);
    // A head kernel large enough (and no bias) that rows differ in their most probable class.
    const head = Float32Array.from({ length: layout.headSize }, (_, i) => (i < layout.headSize - 3 ? 8 * (rng() - 0.5) : 0));
    const body = initBody(layout, seededRandom(1));
    await savePersonalModel(dir, { meta: { modelVersion: 1, spec: parseModelSpec("mlp:4"), layout, preprocessing: kPrep, savedAt: "2025-05-01T10:00:00.000Z" }, body, head });
    // Execute
    const model = await loadLocalModel(dir);
    const scored = scoreLocalRows(model, cellsOf(test));
    // Assert: the runner's own softmax, row by row.
    expect(model.classes).toEqual(["low", "mid", "high"]);
    const expected = scoreRows(layout, body, head, applyPreprocessing(test, preprocessing));
    expect(scored.classes).toHaveLength(test.rows.length);
    scored.classes!.forEach((k, i) => {
      const row = Array.from(expected.subarray(3 * i, 3 * i + 3));
      expect(k!.probabilities).toEqual(row);
      expect(k!.best).toBe(row.indexOf(Math.max(...row)));
      expect(scored.scores[i]).toBe(Math.max(...row));
    });
    expect(new Set(scored.classes!.map((k) => k!.best)).size).toBeGreaterThan(1);
    // A K-class layout saved with a binary label's preprocessing is a corrupt state.
    const odd = join(root, "k-class-odd");
    await savePersonalModel(odd, { meta: { modelVersion: 1, spec: parseModelSpec("mlp:4"), layout, preprocessing, savedAt: "2025-05-01T10:00:00.000Z" }, body, head });
    const err = await loadLocalModel(odd).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: "CORRUPT_STATE", message: "personal model: the label has one outcome, the layout 3 outputs" });
  });
});
