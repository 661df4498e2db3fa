import { describe, expect, it } from "vitest";
import { encodedSize } from "../core/codec/index.ts";
import { initBody } from "../core/model/init-params.ts";
import { seededRandom } from "../core/random.ts";
import { modelLayout } from "../core/model/layout.ts";
import { FederationState } from "../core/schemas/federation.ts";
import { countMulticlass, MULTICLASS_BINS } from "../core/metrics/multiclass.ts";
import { ModelManifest } from "../core/schemas/round.ts";
import { keys } from "./keys.ts";
import { readJson } from "./repo.ts";
import { handleJobMessage } from "./jobs.ts";
import { ADMIN_TOKEN, BODY_SIZE, delta, ErrorBody, expectClose, fedAvgExpected, federationConfig, Harness, siteTables, T0, type TestSite, edgeCounts } from "../test/support/coordinator.ts";

const counts = edgeCounts;

describe("createApp: a federation end to end through the API", () => {
  it("collects every site's statistics, then stores model 0 and opens round 1", async () => {
    // Prepare
    const h = new Harness();
    const created = await h.admin("POST", "/v1/admin/federation", federationConfig());
    const sites: TestSite[] = [];
    for (const [i, name] of ["St Mary's", "Royal Infirmary", "General Hospital"].entries()) {
      sites.push(await h.enrol(name, siteTables[i]!));
    }
    // Execute
    const tasks = await Promise.all(sites.map((s) => h.task(s)));
    const first = await h.postStats(sites[0]!);
    const waitTask = await h.task(sites[0]!);
    const second = await h.postStats(sites[1]!);
    const phaseBeforeLast = (await h.status()).state.phase;
    const last = await h.postStats(sites[2]!);
    // Assert
    expect(created).toEqual({ status: 201, body: { phase: "stats", round: 0, modelVersion: 0, updatedAt: T0 } });
    expect(sites[0]!.siteId).toMatch(/^st-mary-s-[0-9a-f]{6}$/);
    expect(tasks.map((t) => t.kind)).toEqual(["stats", "stats", "stats"]);
    expect(first).toEqual({ status: 202, body: { complete: false } });
    expect(waitTask).toEqual({ kind: "wait", retryAfterMs: 1000, reason: "waiting for other sites' statistics" });
    expect(second).toEqual({ status: 202, body: { complete: false } });
    expect(phaseBeforeLast).toBe("stats");
    expect(last).toEqual({ status: 202, body: { complete: true } });
    expect(await readJson(h.deps.store, keys.state, FederationState)).toEqual({ phase: "training", round: 1, modelVersion: 0, updatedAt: T0 });
    const manifest = await readJson(h.deps.store, keys.modelManifest(0), ModelManifest);
    expect(manifest).toMatchObject({ version: 0, round: 0, length: BODY_SIZE, byteLength: encodedSize(BODY_SIZE, "float32"), sites: [], samples: 0 });
    expect(await h.model(0)).toEqual(initBody(modelLayout({ kind: "mlp", hidden: [3] }, 2), seededRandom(7)));
    expect(await h.round(1)).toEqual({ round: 1, baseVersion: 0, status: "open", openedAt: T0, deadline: T0 + 600_000 });
  });

  it("hands each site a train task whose upload URL is scoped to its site, the round and the exact size", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    // Execute
    const task = await h.task(sites[1]!);
    // Assert
    if (task.kind !== "train") throw new Error(`expected a train task, got ${task.kind}`);
    expect(task.round).toBe(1);
    expect(task.deadline).toBe(T0 + 600_000);
    expect(task.codec).toBe("float32");
    expect(task.preprocessing.inputs).toEqual(["age", "sex=M"]);
    expect(task.layout.bodySize).toBe(BODY_SIZE);
    expect(task.upload.byteLength).toBe(encodedSize(BODY_SIZE, "float32"));
    if (task.upload.kind !== "single") throw new Error(`expected a single upload, got ${task.upload.kind}`);
    expect(h.root.store.parsePresigned(task.upload.url)).toEqual({
      op: "put",
      key: keys.runPrefix(1) + keys.updateBin(1, sites[1]!.siteId),
      contentLength: encodedSize(BODY_SIZE, "float32"),
      expiresAt: T0 + 3_600_000,
    });
    expect(task.model.version).toBe(0);
    expect(h.root.store.parsePresigned(task.model.url)).toEqual({ op: "get", key: keys.runPrefix(1) + keys.modelWeights(0), expiresAt: T0 + 3_600_000 });
  });

  it("queues one aggregate job at quorum; the job writes model 1 = model 0 + the sample-weighted mean delta and opens round 2", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const parts = [
      { delta: delta(1), samples: 3 },
      { delta: delta(-2), samples: 2 },
      { delta: delta(4), samples: 4 },
    ];
    const model0 = await h.model(0);
    // Execute
    const replies = [];
    const queuedAfter = [];
    for (const [i, site] of sites.entries()) {
      replies.push(await h.submit(site, 1, parts[i]!.delta, parts[i]!.samples));
      queuedAfter.push(h.deps.queue.messages.length);
    }
    const jobs = [...h.deps.queue.messages];
    h.deps.clock.advance(5_000);
    const outcomes = await h.runJobs();
    // Assert
    expect(replies.map((r) => r.body)).toEqual([{ queued: false }, { queued: false }, { queued: true }]);
    expect(queuedAfter).toEqual([0, 0, 1]);
    expect(jobs.map((j) => JSON.parse(j))).toEqual([{ kind: "aggregate", federation: "test-fed", round: 1, run: 1 }]);
    expect(outcomes).toEqual(["aggregated"]);
    expectClose(await h.model(1), fedAvgExpected(model0, parts));
    const ids = sites.map((s) => s.siteId).sort();
    expect(await readJson(h.deps.store, keys.modelManifest(1), ModelManifest)).toMatchObject({ version: 1, round: 1, strategy: "fedavg", sites: ids, samples: 9 });
    expect(await h.round(1)).toEqual({
      round: 1, baseVersion: 0, status: "closed", openedAt: T0, deadline: T0 + 600_000, aggregationStartedAt: T0 + 5_000, included: ids, rejected: [], resultVersion: 1,
      closedAt: T0 + 5_000,
    });
    expect(await h.round(2)).toEqual({ round: 2, baseVersion: 1, status: "open", openedAt: T0 + 5_000, deadline: T0 + 605_000 });
    const next = await h.task(sites[0]!);
    expect(next).toMatchObject({ kind: "train", round: 2, model: { version: 1 } });
    const status = await h.status();
    expect(status.state).toEqual({ phase: "training", round: 2, modelVersion: 1, updatedAt: T0 + 5_000 });
    expect(status.roundLog.find((r) => r.round === 1)).toMatchObject({ updates: 3, bytesUp: 3 * encodedSize(BODY_SIZE, "float32") });
    expect(status.rejections).toEqual([]);
  });

  it("answers a redelivered job with already-done and leaves every stored byte as it was", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 1 + i);
    const [job] = h.deps.queue.messages;
    await h.runJobs();
    const before = new Map([...h.root.store.objects].map(([k, v]) => [k, Buffer.from(v).toString("hex")]));
    h.deps.clock.advance(60_000);
    // Execute
    const again = await handleJobMessage(h.deps, job!);
    // Assert
    expect(again).toBe("already-done");
    const after = new Map([...h.root.store.objects].map(([k, v]) => [k, Buffer.from(v).toString("hex")]));
    expect(after).toEqual(before);
    expect(h.deps.queue.messages).toEqual([]);
  });

  it("serves a stored model's manifest and download URL to a site", async () => {
    // Prepare
    const h = new Harness();
    const [site] = await h.startTraining();
    // Execute
    const found = await h.request("GET", "/v1/models/0", { token: site!.token });
    const missing = await h.request("GET", "/v1/models/9", { token: site!.token });
    // Assert
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ manifest: { version: 0 }, version: 0, url: `memory://consilium/${keys.runPrefix(1)}${keys.modelWeights(0)}?op=get&expires=${T0 + 3_600_000}` });
    expect(missing).toEqual({ status: 404, body: { error: { code: "NO_MODEL", message: "model 9 not found" } } });
  });

  it("runs every planned round, then collects evaluations and pools their counts", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    for (const round of [1, 2]) {
      for (const [i, site] of sites.entries()) await h.submit(site, round, delta(i + round), 2);
      await h.runJobs();
    }
    const evaluation = { modelVersion: 2, trainRows: 3, testRows: 4, global: counts(1, 1, 1, 1), personalized: counts(2, 0, 2, 0), local: counts(0, 2, 1, 1) };
    // Execute
    const task = await h.task(sites[0]!);
    const post = (site: TestSite) => h.request("POST", "/v1/evaluations", { token: site.token, json: evaluation });
    const first = await post(sites[0]!);
    const retried = await post(sites[0]!);
    const duplicate = await h.request("POST", "/v1/evaluations", { token: sites[0]!.token, json: { ...evaluation, testRows: 5 } });
    const rest = [await post(sites[1]!), await post(sites[2]!)];
    const late = await post(sites[0]!);
    const status = await h.status();
    // Assert
    expect(task).toMatchObject({ kind: "evaluate", model: { version: 2 } });
    expect([first, retried, ...rest].map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(duplicate).toEqual({ status: 409, body: { error: { code: "DUPLICATE_EVALUATION", message: `site ${sites[0]!.siteId} already reported its evaluation` } } });
    expect(ErrorBody.parse(late.body).error).toEqual({ code: "WRONG_PHASE", message: "federation is in phase done, not evaluating" });
    expect(status.state.phase).toBe("done");
    expect(status.final?.sites).toBe(3);
    expect(status.final?.personalized.accuracy).toBe(1);
    expect(await h.task(sites[1]!)).toEqual({ kind: "done", modelVersion: 2 });
  });
});

describe("createApp: training-row counts at the evaluation", () => {
  const finished = async (overrides: Parameters<Harness["startTraining"]>[0] = {}) => {
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 1, ...overrides });
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 2);
    await h.runJobs();
    return { h, sites };
  };
  const evaluation = (globalTrain?: ReturnType<typeof counts>) => ({ modelVersion: 1, trainRows: 4, testRows: 4, global: counts(1, 1, 1, 1), personalized: counts(1, 1, 1, 1), local: counts(1, 1, 1, 1), ...(globalTrain && { globalTrain }) });

  it("asks for them without a privacy policy, and refuses counts of another number of rows than the training rows named", async () => {
    const { h, sites } = await finished();
    expect(await h.task(sites[0]!)).toMatchObject({ kind: "evaluate", trainCounts: true });
    const wrong = await h.request("POST", "/v1/evaluations", { token: sites[0]!.token, json: evaluation(counts(2, 1, 1, 1)) });
    expect(wrong).toEqual({ status: 400, body: { error: { code: "INVALID_EVALUATION", message: "globalTrain counts 5 rows, the evaluation names 4 training rows" } } });
    expect((await h.request("POST", "/v1/evaluations", { token: sites[0]!.token, json: evaluation(counts(1, 1, 1, 1)) })).status).toBe(202);
  });

  it("takes a site's word on its personal head only where it holds together", async () => {
    const { h, sites } = await finished();
    const post = (json: object) => h.request("POST", "/v1/evaluations", { token: sites[0]!.token, json });
    const base = { ...evaluation(), personalized: counts(2, 0, 2, 0) };
    const global = { kind: "global", reason: "global: judged", validationRows: 1, loss: { personal: 0.7, global: 0.6 } };
    expect(await post({ ...base, personalChoice: global })).toEqual({ status: 400, body: { error: { code: "INVALID_EVALUATION", message: "personalChoice: the global model kept, but the personalized counts are not the global model's" } } });
    expect(await post({ ...base, personalChoice: { ...global, kind: "personal", loss: null } })).toMatchObject({ status: 400, body: { error: { code: "INVALID_EVALUATION" } } });
    expect(await post({ ...base, personalChoice: { ...global, kind: "personal", validationRows: 5 } })).toMatchObject({ status: 400, body: { error: { message: "personalChoice: 5 validation rows of 4 training rows" } } });
    expect(await post({ ...base, personalChoice: { ...global, kind: "personal", loss: { personal: Number.NaN, global: 0.6 } } })).toMatchObject({ status: 400 });
    expect((await post({ ...base, personalChoice: { ...global, kind: "personal" } })).status).toBe(202);
  });

  it("neither asks for them nor takes them under a privacy policy, whose guarantees do not cover them", async () => {
    const { h, sites } = await finished({ privacy: { level: "sample", epsilon: 3, delta: 1e-5, clip: 1 } });
    const task = await h.task(sites[0]!);
    expect(task.kind).toBe("evaluate");
    expect(task).not.toHaveProperty("trainCounts");
    const refused = await h.request("POST", "/v1/evaluations", { token: sites[0]!.token, json: evaluation(counts(1, 1, 1, 1)) });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: "UNASKED_COUNTS" } } });
    expect((await h.request("POST", "/v1/evaluations", { token: sites[0]!.token, json: evaluation() })).status).toBe(202);
  });
});

describe("createApp: a K-class model's evaluation", () => {
  it("is refused with continuous learning, whose model card, gate and operating point are a binary model's", async () => {
    const h = new Harness();
    const features = { ...federationConfig().features, label: { column: "outcome", classes: ["0", "1", "2"] } };
    const res = await h.admin("POST", "/v1/admin/federation", federationConfig({ features, continuous: { schedule: { everyHours: 24 } } }));
    expect(res).toMatchObject({ status: 400, body: { error: { code: "INVALID_CONFIG", message: expect.stringContaining("a K-class label cannot be used with it yet") } } });
    // A model read from a model.json keeps its output width: one sigmoid unit does not fit three classes.
    const narrow = await h.admin("POST", "/v1/admin/federation", federationConfig({ features, model: { kind: "mlp", hidden: [3], outputs: 1 } }));
    expect(narrow).toMatchObject({ status: 400, body: { error: { code: "INVALID_CONFIG", message: "the model has 1 output, the label needs 3 (one per class of 3)" } } });
  });

  it("asks for no training-row counts, takes counts of the model's classes, and refuses binary counts or another number of classes", async () => {
    // Prepare: outcome's values 0, 1 and a third class no site has yet; mlp:3 over 2 inputs, 3 outputs: 21 parameters.
    const h = new Harness();
    const base = federationConfig().features;
    const sites = await h.startTraining({ rounds: 1, features: { ...base, label: { column: "outcome", classes: ["0", "1", "2"] } } });
    const classes = (k: number) => countMulticlass(Float32Array.from({ length: 2 * k }, (_, i) => (i % k === 0 ? 1 : 0)), Uint8Array.from([0, 1]), k, MULTICLASS_BINS);
    const kClass = (k: number) => ({ modelVersion: 1, trainRows: 4, testRows: 2, classes: { global: classes(k), personalized: classes(k), local: classes(k) } });
    const post = (site: TestSite, json: object) => h.request("POST", "/v1/evaluations", { token: site.token, json });
    const manifest = await h.upload(sites[0]!, 1, delta(1, 21), 2);
    const binaryBase = await h.postUpdate(sites[0]!, 1, { ...manifest, baseMetrics: edgeCounts(1, 1, 1, 1) });
    const fourBase = await h.postUpdate(sites[0]!, 1, { ...manifest, baseClasses: classes(4) });
    for (const [i, site] of sites.entries()) {
      const res = await h.postUpdate(site, 1, { ...(await h.upload(site, 1, delta(i + 1, 21), 2)), baseClasses: classes(3) });
      expect(res.status).toBe(202);
    }
    await h.runJobs();

    // Execute
    const task = await h.task(sites[0]!);
    const binary = await post(sites[0]!, { modelVersion: 1, trainRows: 4, testRows: 4, global: edgeCounts(1, 1, 1, 1), personalized: edgeCounts(1, 1, 1, 1), local: edgeCounts(1, 1, 1, 1) });
    const four = await post(sites[0]!, kClass(4));
    const accepted = await Promise.all(sites.map((site) => post(site, kClass(3))));
    const status = await h.status();

    // Assert
    expect(task).toMatchObject({ kind: "evaluate", layout: { bodySize: 21 } });
    expect(task).not.toHaveProperty("trainCounts");
    expect(binary).toEqual({ status: 400, body: { error: { code: "INVALID_EVALUATION", message: "this federation's model has 3 classes: send classes counts of 3 classes (not binary counts)" } } });
    expect(four).toEqual({ status: 400, body: { error: { code: "INVALID_EVALUATION", message: "this federation's model has 3 classes: send classes counts of 3 classes, not 4" } } });
    expect(accepted.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(status.state.phase).toBe("done");
    expect(status.final).toBeNull();
    expect(status.finalClasses).toMatchObject({ names: ["0", "1", "2"], sites: 3, global: { n: 6, accuracy: 0.5, confusion: [[3, 0, 0], [3, 0, 0], [0, 0, 0]] } });
    // A round's counts of its model must be the model's kind; the accepted ones give the round its accuracy and macro AUROC.
    expect(binaryBase).toMatchObject({ status: 422, body: { error: { code: "COUNTS_MISMATCH", message: "this federation's model has 3 classes: report the round's model as baseClasses, not baseMetrics" } } });
    expect(fourBase).toMatchObject({ status: 422, body: { error: { code: "COUNTS_MISMATCH", message: "this federation's model has 3 classes, baseClasses counts 4" } } });
    expect(status.roundLog[0]?.baseModel).toMatchObject({ n: 6, accuracy: 0.5, sensitivity: null, auroc: 0.5 });
  });
});

describe("createApp: edges", () => {
  it("answers /healthz without credentials", async () => {
    const h = new Harness();
    expect(await h.request("GET", "/healthz")).toEqual({ status: 200, body: { ok: true } });
  });

  it("answers an unknown route with a 404 error body and records nothing", async () => {
    // Prepare
    const h = new Harness();
    // Execute
    const res = await h.request("GET", "/v2/nothing", { token: ADMIN_TOKEN });
    // Assert
    expect(res).toEqual({ status: 404, body: { error: { code: "NOT_FOUND", message: "no route for GET /v2/nothing" } } });
    expect(await h.deps.store.list("")).toEqual([]);
  });

  it("hides the details of an internal error behind a 500 and logs them", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation();
    await h.deps.store.put(keys.state, "{ not json");
    // Execute
    const res = await h.admin("GET", "/v1/admin/status");
    // Assert
    expect(res).toEqual({ status: 500, body: { error: { code: "CORRUPT_STATE", message: "internal error" } } });
    expect(h.deps.logger.entries.filter((e) => e.level === "error").map((e) => e.message)).toEqual(["request failed"]);
    expect(await h.rejections()).toEqual([]);
  });
});
