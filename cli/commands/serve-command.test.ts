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
import { selectBackend } from "../../gpu-runner/model/backend.ts";
import { scoreRows } from "../../gpu-runner/model/score-rows.ts";
import { savePersonalModel, type PersonalModel } from "../../gpu-runner/session/site-state.ts";
import { recordPersonalModel } from "../../gpu-runner/session/state-owner.ts";
import { syntheticSites, syntheticSpec } from "../../test/fixtures/synthetic-sites.ts";
import { usageOf } from "../../test/support/cli.ts";
import { memoryIo, parseFlags } from "./flags.ts";
import { predictCommand } from "./predict-command.ts";
import { ErrorAnswer, MAX_BODY_BYTES, MAX_ROWS, ModelAnswer, PredictAnswer, serveCommand, serveSpec, type ServeHandle } from "./serve-command.ts";

const usage = (argv: string[]) => usageOf(serveSpec, argv);

const [site] = syntheticSites({ sites: 1, trainRows: 200, testRows: 20, seed: 12 });
const train = site?.train ?? { columns: [], rows: [] };
const test = site?.test ?? { columns: [], rows: [] };
const preprocessing = mergeSiteStats([computeSiteStats(train, syntheticSpec)], syntheticSpec);

function personalModel(version: number, seed: number): PersonalModel {
  const spec = parseModelSpec("mlp:3");
  const layout = modelLayout(spec, preprocessing.inputs.length);
  const rng = seededRandom(seed);
  return { meta: { modelVersion: version, spec, layout, preprocessing, savedAt: "2025-05-01T10:00:00.000Z" }, body: initBody(layout, seededRandom(seed + 1)), head: Float32Array.from({ length: layout.headSize }, () => 2 * rng() - 1) };
}

/** The rows of `table` as the JSON a caller sends: numbers as numbers, the label left in. */
const jsonRows = (table: Table) => table.rows.map((r) => Object.fromEntries(table.columns.map((c, j) => [c, c === "age" ? Number(r[j]) : (r[j] ?? "")])));
const runner = (p: PersonalModel, table: Table) => [...scoreRows(p.meta.layout, p.body, p.head, applyPreprocessing(table, preprocessing))];

describe("consilium site serve: flags", () => {
  it("takes --port, loopback by default, and a wildcard host only with --allow-remote", () => {
    expect(parseFlags(serveSpec, ["--port", "0"])).toEqual({ port: 0, host: "127.0.0.1", "allow-remote": false });
    expect(parseFlags(serveSpec, ["--port", "8790", "--host", "::1", "--site", "site-01", "--threshold", "0.2"])).toEqual({ port: 8790, host: "::1", "allow-remote": false, site: "site-01", threshold: 0.2 });
    expect(parseFlags(serveSpec, ["--port", "8790", "--host", "0.0.0.0", "--allow-remote"])).toMatchObject({ host: "0.0.0.0", "allow-remote": true });
  });

  it("refuses a host other machines reach without --allow-remote, and a missing or bad port", () => {
    const remote =
      "--host: not a loopback address: anyone who reaches this machine there could score rows with the site's model, and the endpoint asks for no credential; give --allow-remote to serve on it anyway (behind the hospital's own access control)";
    expect(usage(["--port", "8790", "--host", "0.0.0.0"])).toBe(remote);
    expect(usage(["--port", "8790", "--host", "192.0.2.10"])).toBe(remote);
    expect(usage([])).toBe("--port: required");
    expect(usage(["--port", "70000"])).toBe('--port: expected a whole number from 0 to 65535 (got "70000")');
  });
});

describe("consilium site serve", () => {
  let dir: string;
  let stateDir: string;
  let served: ServeHandle;
  const io = memoryIo();
  const controller = new AbortController();
  const first = personalModel(3, 7);

  const predict = async (body: string) => {
    const res = await fetch(`${served.url}/v1/predict`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, json: (await res.json()) as unknown };
  };
  const get = async (path: string) => (await fetch(`${served.url}${path}`)).json() as Promise<unknown>;

  beforeAll(async () => {
    await selectBackend("cpu");
    dir = await mkdtemp(join(tmpdir(), "consilium-serve-"));
    stateDir = join(dir, "state");
    await savePersonalModel(stateDir, first);
    await recordPersonalModel(stateDir, "site-01", { federation: "fed-s", modelVersion: 3 });
    served = await serveCommand(["--state-dir", stateDir, "--port", "0"], { io, signal: controller.signal });
  });
  afterAll(async () => {
    controller.abort();
    await served.closed;
    await rm(dir, { recursive: true, force: true });
  });

  it("says where it listens and answers /healthz and /v1/model", async () => {
    // Execute
    const health = await get("/healthz");
    const model = ModelAnswer.parse(await get("/v1/model"));
    // Assert
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(io.errLines[0]).toBe(
      `serving the personalized model v3 of federation fed-s (site site-01) on ${served.url} at threshold 0.5 (the one the site's evaluation counts use; --threshold sets another): POST /v1/predict, GET /v1/model, GET /healthz; a model the runner saves in ${stateDir} is picked up at the next request`,
    );
    expect(health).toEqual({ ok: true });
    expect(model).toMatchObject({ modelVersion: 3, siteId: "site-01", federation: "fed-s", threshold: 0.5, label: "outcome", inputs: preprocessing.inputs });
    expect(model.features.map((f) => [f.column, f.kind, f.mayBeAbsent])).toEqual([["lactate", "numeric", true], ["age", "numeric", false], ["ward", "categorical", false]]);
  });

  it("scores rows exactly as scoreRows does, with the decision at the threshold", async () => {
    // Execute
    const { status, json } = await predict(JSON.stringify({ rows: jsonRows(test) }));
    // Assert
    expect(status).toBe(200);
    const answer = PredictAnswer.parse(json);
    const expected = runner(first, test);
    expect(answer).toEqual({ modelVersion: 3, siteId: "site-01", threshold: 0.5, predictions: expected.map((score) => ({ score, decision: score >= 0.5 ? 1 : 0 })) });
    expect(new Set(answer.predictions.map((p) => ("decision" in p ? p.decision : null))).size).toBe(2);
  });

  it("answers 422 naming the row and column of each bad cell, scores nothing, and goes on serving", async () => {
    // Prepare
    const rows = [{ lactate: 2, age: 50, ward: "A" }, { lactate: 2, age: "old", ward: "A" }, { lactate: 2, age: 50 }, { lactate: 2, age: 50, ward: "E" }];
    // Execute
    const bad = await predict(JSON.stringify({ rows }));
    const wrongType = await predict(JSON.stringify({ rows: [{ lactate: 2, age: true, ward: "A" }] }));
    const next = await predict(JSON.stringify({ rows: [rows[0]] }));
    // Assert
    expect(bad.status).toBe(422);
    expect(ErrorAnswer.parse(bad.json)).toEqual({
      error: {
        code: "BAD_ROWS",
        message: "3 of 4 rows cannot be scored: 1 NOT_A_NUMBER in age, 1 MISSING_COLUMN in ward, 1 UNKNOWN_LEVEL in ward; nothing was scored",
        rows: [
          { index: 1, column: "age", code: "NOT_A_NUMBER", reason: '"old" is not a number' },
          { index: 2, column: "ward", code: "MISSING_COLUMN", reason: 'absent: the model\'s feature ward needs this column (where it was not measured, give a missing token such as "NA")' },
          { index: 3, column: "ward", code: "UNKNOWN_LEVEL", reason: '"E" is not a level the consortium saw (A, B, C)' },
        ],
      },
    });
    expect([wrongType.status, wrongType.json]).toEqual([422, { error: { code: "BAD_ROWS", message: "1 cells are neither a string nor a number; nothing was scored", rows: [{ index: 0, column: "age", code: "INVALID_VALUE", reason: "expected a string or a number" }] } }]);
    expect(next.status).toBe(200);
    expect(PredictAnswer.parse(next.json).predictions[0]?.score).toBe(runner(first, { columns: ["lactate", "age", "ward", "outcome"], rows: [["2", "50", "A", "0"]] })[0]);
  });

  it("answers 413 to a body over 1 MiB or over 10,000 rows, and 400 to what is not its JSON", async () => {
    // Prepare
    const big = JSON.stringify({ rows: [{ ward: "x".repeat(MAX_BODY_BYTES) }] });
    const many = JSON.stringify({ rows: Array.from({ length: MAX_ROWS + 1 }, () => ({})) });
    // Execute
    const answers = [await predict(big), await predict(many), await predict("{rows"), await predict(JSON.stringify({ rows: [1] }))];
    // Assert
    expect(answers).toEqual([
      { status: 413, json: { error: { code: "BODY_TOO_LARGE", message: "request body exceeds 1048576 bytes (1 MiB): send the rows in several requests" } } },
      { status: 413, json: { error: { code: "TOO_MANY_ROWS", message: "a request carries at most 10000 rows: send them in several requests" } } },
      { status: 400, json: { error: { code: "INVALID_JSON", message: "request body is not valid JSON" } } },
      { status: 400, json: { error: { code: "INVALID_BODY", message: 'invalid request body: rows.0: Invalid input: expected record, received number; expected {"rows": [{"column": value, …}, …]}' } } },
    ]);
    expect((await get("/healthz")) as unknown).toEqual({ ok: true });
  });

  it("picks up a model the runner saves in the state folder at the next request", async () => {
    // Prepare
    const second = personalModel(4, 21);
    // Execute
    await savePersonalModel(stateDir, second);
    await recordPersonalModel(stateDir, "site-01", { federation: "fed-s", modelVersion: 4 });
    const model = ModelAnswer.parse(await get("/v1/model"));
    const { json } = await predict(JSON.stringify({ rows: jsonRows(test) }));
    // Assert
    expect(model.modelVersion).toBe(4);
    const answer = PredictAnswer.parse(json);
    expect(answer.modelVersion).toBe(4);
    expect(answer.predictions.map((p) => p.score)).toEqual(runner(second, test));
    expect(answer.predictions.map((p) => p.score)).not.toEqual(runner(first, test));
    expect(io.errLines).toContain("reloaded: personalized model v4 of federation fed-s (site site-01), in place of v3");
  });

  it("stops when its signal aborts", async () => {
    // Prepare
    const local = new AbortController();
    const other = await serveCommand(["--state-dir", stateDir, "--port", "0", "--threshold", "0.25"], { io: memoryIo(), signal: local.signal });
    const before = PredictAnswer.parse((await fetch(`${other.url}/v1/predict`, { method: "POST", body: JSON.stringify({ rows: [] }) }).then((r) => r.json())) as unknown);
    // Execute
    local.abort();
    await other.closed;
    // Assert
    expect(before).toEqual({ modelVersion: 4, siteId: "site-01", threshold: 0.25, predictions: [] });
    await expect(fetch(`${other.url}/healthz`)).rejects.toThrow();
  });
});

describe("consilium site serve and site predict with a K-class model", () => {
  let dir: string;
  const classes = ["low", "mid", "high"];
  const kPrep = { ...preprocessing, label: { column: preprocessing.label.column, classes } };
  const spec = parseModelSpec("mlp:3");
  const layout = modelLayout(spec, preprocessing.inputs.length, 3);
  const rng = seededRandom(4);
  // A head kernel large enough (and no bias) that rows differ in their most probable class.
  const model: PersonalModel = {
    meta: { modelVersion: 2, spec, layout, preprocessing: kPrep, savedAt: "2025-05-01T10:00:00.000Z" },
    body: initBody(layout, seededRandom(5)),
    head: Float32Array.from({ length: layout.headSize }, (_, i) => (i < layout.headSize - 3 ? 8 * (rng() - 0.5) : 0)),
  };
  const expected = () => {
    const p = scoreRows(layout, model.body, model.head, applyPreprocessing(test, preprocessing));
    return test.rows.map((_, i) => Array.from(p.subarray(3 * i, 3 * i + 3)));
  };

  beforeAll(async () => {
    await selectBackend("cpu");
    dir = await mkdtemp(join(tmpdir(), "consilium-serve-k-"));
    await savePersonalModel(join(dir, "state"), model);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("answers each row's most probable class, its probability and every class's, with no threshold", async () => {
    const controller = new AbortController();
    const served = await serveCommand(["--state-dir", join(dir, "state"), "--port", "0"], { io: memoryIo(), signal: controller.signal });
    try {
      const res = await fetch(`${served.url}/v1/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ rows: jsonRows(test) }) });
      const answer = PredictAnswer.parse(await res.json());
      const want = expected();
      expect(answer.threshold).toBeNull();
      expect(answer.predictions).toEqual(want.map((p) => ({ class: classes[p.indexOf(Math.max(...p))], score: Math.max(...p), probabilities: { low: p[0], mid: p[1], high: p[2] } })));
      expect(new Set(answer.predictions.map((p) => ("class" in p ? p.class : null))).size).toBeGreaterThan(1);
      const described = ModelAnswer.parse(await (await fetch(`${served.url}/v1/model`)).json());
      expect([described.classes, described.threshold]).toEqual([classes, null]);
    } finally {
      controller.abort();
      await served.closed;
    }
    // A threshold means nothing to a K-class model: refused before serving.
    await expect(serveCommand(["--state-dir", join(dir, "state"), "--port", "0", "--threshold", "0.3"], { io: memoryIo() })).rejects.toThrow("--threshold: the model has 3 classes (low, mid, high) and decides by the most probable; a threshold is for a binary model");
  });

  it("writes the class, its probability and p:CLASS for each class to site predict's CSV", async () => {
    const rows = join(dir, "rows.csv");
    const out = join(dir, "scores.csv");
    await writeFile(rows, `${test.columns.join(",")}\n${test.rows.map((r) => r.join(",")).join("\n")}\n`);
    const result = await predictCommand(["--state-dir", join(dir, "state"), "--data", rows, "--out", out], { io: memoryIo() });
    expect(result).toMatchObject({ threshold: null, scored: test.rows.length });
    const lines = (await readFile(out, "utf8")).trim().split("\n");
    expect(lines[0]).toBe("row,class,score,p:low,p:mid,p:high,model_version,reason");
    const want = expected();
    lines.slice(1).forEach((line, i) => {
      const p = want[i]!;
      expect(line).toBe([i + 1, classes[p.indexOf(Math.max(...p))], Math.max(...p), ...p, 2, ""].join(","));
    });
    await expect(predictCommand(["--state-dir", join(dir, "state"), "--data", rows, "--out", out, "--threshold", "0.4"], { io: memoryIo() })).rejects.toThrow(/a threshold is for a binary model/);
  });
});
