import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CodecSpec, decodeUpdate, encodedSize, encodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { seededRandom } from "../../core/random.ts";
import { modelLayout } from "../../core/model/layout.ts";
import { mergeSiteStats } from "../../core/preprocess/merge-stats.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import type { TrainingConfig } from "../../core/schemas/federation.ts";
import type { Task } from "../../core/schemas/task.ts";
import { syntheticSites, syntheticSpec } from "../../test/fixtures/synthetic-sites.ts";
import { selectBackend } from "../model/backend.ts";
import { CoordinatorClient } from "../../client/coordinator-client.ts";
import { runSite } from "./site-runner.ts";
import { writeStateFile } from "./state-files.ts";
import {
  loadControl,
  loadPersonalModel,
  loadResidual,
  residualFits,
  saveControl,
  savePersonalModel,
  saveResidual,
  type PersonalModel,
  type ResidualMeta,
} from "./site-state.ts";

const uniform = (n: number, seed: number, scale = 1) => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * rng() - 1));
};

const [site] = syntheticSites({ sites: 1, trainRows: 60, testRows: 30, seed: 3 });
const data = site ?? { name: "", train: { columns: [], rows: [] }, test: { columns: [], rows: [] } };
const preprocessing = mergeSiteStats([computeSiteStats(data.train, syntheticSpec)], syntheticSpec);
const layout = modelLayout({ kind: "logreg" }, preprocessing.inputs.length);
const n = layout.bodySize;
const training: TrainingConfig = { localEpochs: 1, localSteps: 5, lrSchedule: "constant", batchSize: 8, learningRate: 0.1, l2: 0.01, headEpochs: 1, headL2: 0.01 };

/**
 * A coordinator and store behind one `fetch`: it hands out `tasks` in order (then `done`),
 * serves the models and controls in `objects`, and keeps every uploaded update (of `length`
 * values) by round.
 */
function fakeCoordinator(refuse: ReadonlySet<number> = new Set(), length = 2 * n) {
  const objects = new Map<string, Uint8Array>();
  const uploads = new Map<number, Float32Array>();
  const tasks: Task[] = [];
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
  const fetchFn: typeof fetch = async (input, init) => {
    const url = String(input);
    if (url.endsWith("/v1/task")) return json(tasks.shift() ?? { kind: "done", modelVersion: 2 });
    if (url.startsWith("http://store.test/updates/") && init?.method === "PUT") {
      const round = Number(url.split("/").at(-1));
      uploads.set(round, decodeUpdate(new Uint8Array(init.body as Uint8Array), { length }).values);
      return new Response("", { status: 200 });
    }
    const stored = objects.get(url);
    if (stored) return new Response(Buffer.from(stored), { status: 200 });
    const refused = /\/v1\/rounds\/(\d+)\/updates$/.exec(url);
    if (init?.method === "POST" && refused && refuse.has(Number(refused[1]))) {
      return new Response(JSON.stringify({ error: { code: "DEADLINE_PASSED", message: "too late" } }), { status: 409 });
    }
    if (init?.method === "POST") return json({});
    return new Response(JSON.stringify({ error: { code: "NOT_FOUND", message: url } }), { status: 404 });
  };
  return { client: new CoordinatorClient("http://coordinator.test/", "token", fetchFn), tasks, uploads, objects };
}

/**
 * A training task from `body`, as the coordinator sends it: SCAFFOLD with server control
 * `control` when there is one (the update then holds 2n values), else n values under `codec`.
 */
function trainTask(objects: Map<string, Uint8Array>, round: number, body: Float32Array, control: Float32Array | null, codec = "float32", federation = "fed-a"): Task {
  const ref = (kind: string, values: Float32Array) => {
    const bytes = encodeUpdate(values, "float32");
    const url = `http://store.test/${kind}/${round - 1}`;
    objects.set(url, bytes);
    return { version: round - 1, url, sha256: sha256Hex(bytes), byteLength: bytes.length };
  };
  return {
    kind: "train",
    round,
    rounds: 2,
    deadline: Date.now() + 60_000,
    model: ref("models", body),
    ...(control && { control: ref("controls", control) }),
    spec: { kind: "logreg" },
    layout,
    preprocessing,
    training,
    codec,
    federation,
    upload: { kind: "single", url: `http://store.test/updates/${round}`, byteLength: uploadSize(control ? 2 * n : n, codec) },
    seed: 7,
  };
}

function uploadSize(length: number, codec: string): number {
  const { name, ...options } = CodecSpec.parse(codec);
  return encodedSize(length, name, options);
}

/** Runs a fresh runner (a restart) over body-only rounds under `codec`, with `stateDir`; returns its uploads. */
async function runRounds(rounds: number[], stateDir: string, codec: string, refuse: ReadonlySet<number> = new Set()): Promise<Map<number, Float32Array>> {
  const fake = fakeCoordinator(refuse, n);
  fake.tasks.push(...rounds.map((r) => trainTask(fake.objects, r, uniform(n, 10 + r, 0.2), null, codec)));
  await runSite({ siteId: "site-a", client: fake.client, data, stateDir });
  return fake.uploads;
}

const residualMeta = (patch: Partial<ResidualMeta> = {}): ResidualMeta => ({ federation: "fed-a", codec: "topk:0.25+int8", round: 1, length: n, ...patch });

describe("site state", () => {
  let root: string;
  beforeAll(async () => {
    await selectBackend("cpu");
    root = await mkdtemp(join(tmpdir(), "consilium-site-state-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("saves and loads a control variate exactly", async () => {
    // Prepare
    const dir = join(root, "control");
    const control = Float32Array.from([0, -1.5, 3.25e-7, 1e20, -0]);

    // Execute
    await saveControl(dir, "f", uniform(5, 1));
    await saveControl(dir, "f", control);
    const loaded = await loadControl(dir, "f", 5);

    // Assert
    expect(loaded).toEqual(control);
  });

  it("loads no control when there is none of the asked length or federation", async () => {
    // Prepare
    const dir = join(root, "control-length");
    await saveControl(dir, "f", uniform(5, 1));
    const corrupt = join(root, "control-corrupt");
    await saveControl(corrupt, "f", uniform(5, 1));
    await writeFile(join(corrupt, "control.bin"), "not an update container");

    // Execute
    const results = await Promise.all([loadControl(dir, "f", 4), loadControl(dir, "f", 6), loadControl(dir, "another", 5), loadControl(corrupt, "f", 5), loadControl(join(root, "never-written"), "f", 5)]);

    // Assert
    expect(results).toEqual([null, null, null, null, null]);
  });

  it("saves and loads the personal model exactly", async () => {
    // Prepare
    const dir = join(root, "personal");
    const mlp = modelLayout({ kind: "mlp", hidden: [4] }, preprocessing.inputs.length);
    const model: PersonalModel = {
      meta: { modelVersion: 3, spec: { kind: "mlp", hidden: [4] }, layout: mlp, preprocessing, savedAt: "2025-01-01T00:00:00.000Z" },
      body: uniform(mlp.bodySize, 2),
      head: uniform(mlp.headSize, 3),
    };

    // Execute
    await savePersonalModel(dir, model);
    const loaded = await loadPersonalModel(dir);

    // Assert
    expect(loaded).toEqual({ ...model, meta: { ...model.meta, files: { body: expect.any(String), head: expect.any(String) } } });
  });

  it("refuses a personal model whose body or head is not the one personal.json names", async () => {
    // Prepare
    const dir = join(root, "personal-torn");
    const mlp = modelLayout({ kind: "mlp", hidden: [4] }, preprocessing.inputs.length);
    const model: PersonalModel = {
      meta: { modelVersion: 2, spec: { kind: "mlp", hidden: [4] }, layout: mlp, preprocessing, savedAt: "2025-01-01T00:00:00.000Z" },
      body: uniform(mlp.bodySize, 2),
      head: uniform(mlp.headSize, 3),
    };
    await savePersonalModel(dir, model);
    // Execute: another head, as a runner killed between two writes of a later save would leave.
    await writeStateFile(dir, "personal-head.bin", encodeUpdate(uniform(mlp.headSize, 9), "float32"));
    const refused = await loadPersonalModel(dir).catch((err: unknown) => err);
    // An older state folder, whose personal.json names no files, still loads.
    const { files: _files, ...older } = JSON.parse(await readFile(join(dir, "personal.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(dir, "personal.json"), JSON.stringify(older));
    const olderLoaded = await loadPersonalModel(dir);
    // Assert
    expect(refused).toMatchObject({ code: "CORRUPT_STATE", message: expect.stringMatching(/is incomplete/) });
    expect(olderLoaded.meta.modelVersion).toBe(2);
  });

  it("refuses a personal model whose weights do not fit its layout", async () => {
    // Prepare
    const dir = join(root, "personal-short");
    const model: PersonalModel = {
      meta: { modelVersion: 1, spec: { kind: "logreg" }, layout, preprocessing, savedAt: "2025-01-01T00:00:00.000Z" },
      body: uniform(n - 1, 2),
      head: uniform(layout.headSize, 3),
    };
    await savePersonalModel(dir, model);

    // Execute
    const loaded = loadPersonalModel(dir);

    // Assert
    await expect(loaded).rejects.toThrow(`update has ${n - 1} values, expected ${n}`);
  });

  it("keeps the site's control across a runner restart", async () => {
    // Prepare: one runner does rounds 1 and 2; another stops after round 1 and restarts for round 2.
    const body1 = uniform(n, 4, 0.2);
    const body2 = uniform(n, 5, 0.2);
    const control1 = new Float32Array(n);
    const control2 = uniform(n, 6, 0.1);
    const run = async (rounds: number[], stateDir: string) => {
      const fake = fakeCoordinator();
      fake.tasks.push(...rounds.map((r) => trainTask(fake.objects, r, r === 1 ? body1 : body2, r === 1 ? control1 : control2)));
      await runSite({ siteId: "site-a", client: fake.client, data, stateDir });
      return fake.uploads;
    };

    // Execute
    const both = await run([1, 2], join(root, "continuous"));
    const beforeRestart = await run([1], join(root, "restarted"));
    const saved = await loadControl(join(root, "restarted"), "fed-a", n);
    const afterRestart = await run([2], join(root, "restarted"));
    const forgetful = await run([2], join(root, "fresh"));

    // Assert
    const round1 = beforeRestart.get(1) ?? new Float32Array(0);
    // Starting from a zero control, the saved control is the control delta sent in round 1.
    expect(saved).toEqual(round1.slice(n));
    expect(Math.max(...Array.from(round1.subarray(n), Math.abs))).toBeGreaterThan(1e-3);
    expect(afterRestart.get(2)).toEqual(both.get(2));
    // Nobody else on the machine reads what the site keeps.
    const kept = join(root, "restarted");
    const modes = await Promise.all([kept, ...(await readdir(kept)).map((f) => join(kept, f))].map(async (p) => (await stat(p)).mode & 0o777));
    expect(modes).toEqual([0o700, ...modes.slice(1).map(() => 0o600)]);
    expect(modes.length).toBeGreaterThan(1);
    // A runner without the saved control would have sent something else.
    expect(forgetful.get(2)).not.toEqual(both.get(2));
  });

  it("keeps its control where it was when the coordinator refuses the update that carried the change", async () => {
    // Prepare: round 2's update is refused (409), so the server never adds this site's control delta.
    const body1 = uniform(n, 4, 0.2);
    const body2 = uniform(n, 5, 0.2);
    const control2 = uniform(n, 6, 0.1);
    const fake = fakeCoordinator(new Set([2]));
    fake.tasks.push(trainTask(fake.objects, 1, body1, new Float32Array(n)), trainTask(fake.objects, 2, body2, control2));
    const dir = join(root, "refused");

    // Execute
    await runSite({ siteId: "site-a", client: fake.client, data, stateDir: dir });
    const saved = await loadControl(dir, "fed-a", n);

    // Assert: the control is round 1's, the last one the coordinator took.
    const round1 = fake.uploads.get(1) ?? new Float32Array(0);
    expect(fake.uploads.has(2)).toBe(true);
    expect(saved).toEqual(round1.slice(n));
  });

  it("saves and loads an error-feedback residual exactly, replacing the file whole", async () => {
    // Prepare
    const dir = join(root, "residual");
    const residual = { meta: residualMeta({ round: 4 }), values: Float32Array.from([0, -1.5, 3.25e-7, 1e20, -0, ...uniform(n - 5, 1)]) };

    // Execute
    await saveResidual(dir, { meta: residualMeta(), values: uniform(n, 2) });
    await saveResidual(dir, residual);
    const loaded = await loadResidual(dir);
    const files = await readdir(dir);

    // Assert
    expect(loaded).toEqual(residual);
    expect(files).toEqual(["residual.bin"]);
  });

  it("loads no residual when there is none or it cannot be read back whole", async () => {
    // Prepare
    const corrupt = join(root, "residual-corrupt");
    await saveResidual(corrupt, { meta: residualMeta(), values: uniform(n, 1) });
    const truncated = join(root, "residual-truncated");
    await saveResidual(truncated, { meta: residualMeta(), values: uniform(n, 1) });
    const whole = await readFile(join(truncated, "residual.bin"));
    await writeFile(join(truncated, "residual.bin"), whole.subarray(0, whole.length - 1));
    await writeFile(join(corrupt, "residual.bin"), "not json\nnot an update container");

    // Execute
    const warnings: string[] = [];
    const logger = { info() {}, warn: (m: string, f?: Record<string, unknown>) => warnings.push(`${m}: ${String(f?.file)}`), error() {} };
    const results = await Promise.all([loadResidual(corrupt, logger), loadResidual(truncated, logger), loadResidual(join(root, "never-written"), logger)]);

    // Assert: the unreadable ones are reported, a missing one (the usual first round) is not.
    expect(results).toEqual([null, null, null]);
    expect(warnings.sort()).toEqual(
      [corrupt, truncated].map((d) => `error-feedback residual unreadable; the next update starts without it: ${join(d, "residual.bin")}`).sort(),
    );
  });

  it.each([
    ["fits a later round of the same federation, codec and length", {}, 2, true],
    ["not another federation's", { federation: "fed-b" }, 2, false],
    ["not a federation's from a coordinator that sent no id", { federation: null }, 2, false],
    ["not another codec's", { codec: "topk:0.1+int8" }, 2, false],
    ["not another length's", { length: n + 1 }, 2, false],
    ["not the same round's (a rerun)", {}, 1, false],
  ] as const)("a saved residual %s", (_name, patch, round, fits) => {
    // Execute
    const result = residualFits(residualMeta(patch), residualMeta({ round }));

    // Assert
    expect(result).toBe(fits);
  });

  it("keeps the top-k residual across a runner restart, as what the round's update dropped", async () => {
    // Prepare: the float32 run uploads the exact delta, which the top-k run compresses.
    const codec = "topk:0.25+int8";

    // Execute
    const both = await runRounds([1, 2], join(root, "ef-continuous"), codec);
    const exact = await runRounds([1], join(root, "ef-exact"), "float32");
    const beforeRestart = await runRounds([1], join(root, "ef-restarted"), codec);
    const saved = await loadResidual(join(root, "ef-restarted"));
    const afterRestart = await runRounds([2], join(root, "ef-restarted"), codec);
    await runRounds([2], join(root, "ef-fresh"), codec);
    const [continuous, restarted, fresh] = await Promise.all(["ef-continuous", "ef-restarted", "ef-fresh"].map((d) => loadResidual(join(root, d))));

    // Assert
    const sent = beforeRestart.get(1) ?? new Float32Array(0);
    const delta = exact.get(1) ?? new Float32Array(0);
    expect(saved?.meta).toEqual(residualMeta());
    expect(saved?.values).toEqual(delta.map((d, i) => d - sent[i]!));
    expect(sent.filter((v) => v !== 0).length).toBeLessThanOrEqual(Math.ceil(0.25 * n));
    expect(afterRestart.get(2)).toEqual(both.get(2));
    // Nobody else on the machine reads what the site keeps.
    const kept = join(root, "restarted");
    const modes = await Promise.all([kept, ...(await readdir(kept)).map((f) => join(kept, f))].map(async (p) => (await stat(p)).mode & 0o777));
    expect(modes).toEqual([0o700, ...modes.slice(1).map(() => 0o600)]);
    expect(modes.length).toBeGreaterThan(1);
    expect(restarted).toEqual(continuous);
    expect(continuous?.meta.round).toBe(2);
    // A runner without the saved residual would carry only round 2's drop into round 3.
    expect(fresh?.values).not.toEqual(continuous?.values);
  });

  it.each([
    ["another federation", residualMeta({ federation: "fed-b" })],
    ["another codec", residualMeta({ codec: "topk:0.5+int8" })],
    ["a later round (an earlier run under the same id)", residualMeta({ round: 9 })],
  ])("discards a residual saved for %s instead of adding it", async (_name, meta) => {
    // Prepare
    const dir = join(root, `ef-stale-${meta.federation}-${meta.codec}-${meta.round}`);
    await saveResidual(dir, { meta, values: uniform(n, 3) });

    const freshDir = join(root, `ef-none-${meta.federation}-${meta.codec}-${meta.round}`);

    // Execute
    const stale = await runRounds([2], dir, "topk:0.25+int8");
    const fresh = await runRounds([2], freshDir, "topk:0.25+int8");

    // Assert: the same upload and the same residual after it as a runner that never had one.
    expect(stale.get(2)).toEqual(fresh.get(2));
    expect(await loadResidual(dir)).toEqual(await loadResidual(freshDir));
  });

  it("keeps its residual where it was when the coordinator refuses the update", async () => {
    // Prepare
    const dir = join(root, "ef-refused");

    // Execute
    const uploads = await runRounds([1, 2], dir, "topk:0.25+int8", new Set([2]));
    const saved = await loadResidual(dir);

    // Assert: round 2 was uploaded, then refused; the residual is round 1's.
    expect(uploads.has(2)).toBe(true);
    expect(saved?.meta.round).toBe(1);
  });
});
