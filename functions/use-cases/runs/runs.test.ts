import { describe, expect, it } from "vitest";
import { ModelCard } from "../../../core/registry/index.ts";
import { RunsView, TriggerOutcome, WarmStart } from "../../../core/schemas/consortium.ts";
import { FederationStatus } from "../../../core/schemas/status.ts";
import { Task } from "../../../core/schemas/task.ts";
import { delta, federationConfig, FlakyStore, Harness, T0, testDeps, type TestSite, edgeCounts } from "../../../test/support/coordinator.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { closeExpiredRounds } from "../close-expired-rounds.ts";
import { championHistory } from "../registry/champion.ts";
import { advanceRuns, requestRun } from "./advance-runs.ts";
import { recordTrigger } from "./triggers.ts";
import { AuditRecord } from "../../../core/audit/trail.ts";
import { readWholeTrail } from "../audit/read-audit.ts";

const HOUR = 3_600_000;

const counts = edgeCounts;

/** Every site posts its statistics to the active run (whose task must ask for them). */
async function postAllStats(h: Harness, sites: readonly TestSite[]): Promise<void> {
  for (const site of sites) expect((await h.postStats(site)).status).toBe(202);
}

type Counts = ReturnType<typeof counts>;

/**
 * Run `seq` trained for its 2 rounds and evaluated by every site (its registration follows the
 * last evaluation): the run's model scores `global`, and the champion, when the task names one,
 * `champion` (the same counts unless given).
 */
async function finishRun(h: Harness, sites: readonly TestSite[], seq: number, scores: { global?: Counts; champion?: Counts | null } = {}): Promise<void> {
  h.useRun(seq);
  for (const round of [1, 2]) {
    for (const [i, site] of sites.entries()) await h.submit(site, round, delta(i + round), 2);
    await h.runJobs();
  }
  const global = scores.global ?? counts(30, 5, 30, 5);
  for (const site of sites) {
    const task = await h.task(site);
    if (task.kind !== "evaluate") throw new Error(`expected an evaluate task, got ${task.kind}`);
    const held = scores.champion === undefined ? global : scores.champion;
    const champion = task.champion && held !== null ? { champion: { version: task.champion.model.version, counts: held } } : {};
    const evaluation = { modelVersion: 2, trainRows: 80, testRows: global.n, global, personalized: global, local: global, ...champion };
    expect((await h.request("POST", "/v1/evaluations", { token: site.token, json: evaluation })).status).toBe(202);
  }
}

async function runs(h: Harness): Promise<RunsView> {
  const res = await h.admin("GET", "/v1/admin/runs");
  expect(res.status).toBe(200);
  return RunsView.parse(res.body);
}

describe("a consortium's runs", () => {
  it("keeps triggers raised while a run trains, and starts the next run with all of them once the first is done and registered", async () => {
    // Prepare: run 1 training (rounds open for a day), under a schedule of a run every 2 hours.
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2, roundDeadlineSeconds: 24 * 3600, continuous: { schedule: { everyHours: 2 } } });

    // Execute: an operator asks for a run and a day passes, both while run 1 trains; then run 1 ends.
    const asked = await h.admin("POST", "/v1/admin/runs", { reason: "the 2027 sepsis definition" });
    h.root.clock.advance(3 * HOUR);
    const whileTraining = await closeExpiredRounds(h.root);
    const beforeEnd = await runs(h);
    await finishRun(h, sites, 1);
    const tick = await closeExpiredRounds(h.root);
    const after = await runs(h);
    const task = await h.task(sites[0]!);

    // Assert: both triggers waited, then run 2 took them, started from the champion, and the sites were sent to it.
    expect(asked.status).toBe(202);
    expect(TriggerOutcome.parse(asked.body)).toMatchObject({ started: null, waitingFor: 1, trigger: { kind: "manual", reason: "the 2027 sepsis definition" } });
    expect(whileTraining.runs).toEqual({ action: "training", run: 1 });
    expect(beforeEnd.runs.map((r) => r.seq)).toEqual([1]);
    expect(beforeEnd.pending.map((t) => t.kind)).toEqual(["manual", "schedule"]);
    expect(tick.runs).toEqual({ action: "started", run: 2 });
    expect(after.pending).toEqual([]);
    expect(after.runs.map((r) => [r.seq, r.id, r.phase, r.version, r.active])).toEqual([
      [1, "test-fed", "done", 1, false],
      [2, "test-fed-r2", "stats", null, true],
    ]);
    expect(after.runs[0]!.triggers.map((t) => t.kind)).toEqual(["created"]);
    expect(after.runs[1]!.triggers.map((t) => t.kind)).toEqual(["manual", "schedule"]);
    expect(after.runs[1]!.triggers[1]!.reason).toMatch(/every 2 h/);
    expect(after.runs[1]!.parent).toBe(1);
    expect(task).toMatchObject({ kind: "stats", federation: "test-fed-r2" });
    // Run 1's objects stay where they were; run 2 writes under its own prefix.
    expect(await h.root.store.head(`${keys.runPrefix(1)}${keys.modelWeights(2)}`)).not.toBeNull();
    expect(await h.root.store.head(`${keys.runPrefix(2)}${keys.federation}`)).not.toBeNull();
  });

  it("starts run 2 from the champion's body and records it; its card names the parent", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);
    await h.admin("POST", "/v1/admin/runs", { reason: "new data" });

    // Execute: run 2 collects statistics, trains and ends.
    await postAllStats(h, sites);
    h.useRun(2);
    const warm = await readJson(h.deps.store, keys.warmStart, WarmStart);
    const model0 = await h.model(0);
    await finishRun(h, sites, 2);

    // Assert
    expect(warm).toEqual({ from: 1, reason: expect.stringMatching(/^warm start from version 1/) });
    const champion = (await readJson(h.root.store, keys.registryCard(1), ModelCard))!;
    expect(champion.version).toBe(1);
    const registered = await h.root.store.get(keys.registryWeights(1));
    const run0 = await h.deps.store.get(keys.modelWeights(0));
    expect(Buffer.from(run0!).equals(Buffer.from(registered!))).toBe(true);
    expect(model0).toHaveLength(13);
    const card2 = (await readJson(h.root.store, keys.registryCard(2), ModelCard))!;
    expect(card2).toMatchObject({ version: 2, run: "test-fed-r2", parent: 1 });
    // The first run's model 0 was fresh weights, said so.
    h.useRun(1);
    expect(await readJson(h.deps.store, keys.warmStart, WarmStart)).toEqual({ from: null, reason: "fresh weights: the consortium's first run" });
  });

  it("starts a manual run at once when none trains (201)", async () => {
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);
    const asked = await h.admin("POST", "/v1/admin/runs", { reason: "quarterly refresh" });
    expect(asked.status).toBe(201);
    expect(TriggerOutcome.parse(asked.body).started).toMatchObject({ seq: 2, triggers: [expect.objectContaining({ kind: "manual" })] });
  });

  it("starts one run for two racing ticks, with every pending trigger", async () => {
    // Prepare: run 1 done and registered; two triggers pending, recorded without a tick.
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);
    const a = await recordTrigger(h.root, "manual", "first");
    const b = await recordTrigger(h.root, "manual", "second");

    // Execute
    const ticks = await Promise.all([advanceRuns(h.root), advanceRuns(h.root), advanceRuns(h.root)]);
    const listed = await runs(h);

    // Assert
    expect(ticks.map((t) => t.action).sort()).toEqual(["started", "training", "training"]);
    expect(listed.runs.map((r) => r.seq)).toEqual([1, 2]);
    expect(listed.runs[1]!.triggers.map((t) => t.key).sort()).toEqual([a.key, b.key].sort());
    expect(listed.pending).toEqual([]);
  });

  it("finishes a start cut short before the pointer on the next tick, and the sites follow", async () => {
    // Prepare: the pointer's write fails as run 2 starts.
    const store = new FlakyStore();
    const h = new Harness(testDeps({ store }));
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);
    store.failNextPut((k) => k === keys.activeRun);
    const asked = await h.admin("POST", "/v1/admin/runs", { reason: "r" });
    const stranded = await h.task(sites[0]!);

    // Execute
    const tick = await closeExpiredRounds(h.root);
    const task = await h.task(sites[0]!);

    // Assert
    expect(asked.status).toBe(500);
    expect(stranded.kind).toBe("done");
    expect(tick.runs).toEqual({ action: "training", run: 2 });
    expect(Task.parse(task)).toMatchObject({ kind: "stats", federation: "test-fed-r2" });
  });

  it("leaves the registry and the champion untouched by a run that stops half-way", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);
    const before = { keys: await h.root.store.list("registry/"), champion: await championHistory(h.root) };

    // Execute: run 2 trains one of its two rounds and its coordinator is gone; the tick goes on.
    await h.admin("POST", "/v1/admin/runs", { reason: "r" });
    await postAllStats(h, sites);
    h.useRun(2);
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 2);
    await h.runJobs();
    h.root.clock.advance(HOUR);
    await closeExpiredRounds(h.root);

    // Assert
    expect(await h.root.store.list("registry/")).toEqual(before.keys);
    expect(await championHistory(h.root)).toEqual(before.champion);
  });

  it("keeps a store from before runs working as its one federation, and refuses a run there", async () => {
    // Prepare: the federation at the top of the store, as stores were written before runs.
    const h = new Harness();
    const config = federationConfig({ id: "old-fed" });
    await writeJson(h.root.store, keys.federation, config);
    await writeJson(h.root.store, keys.state, { phase: "stats", round: 0, modelVersion: 0, updatedAt: T0 });

    // Execute
    const status = await h.admin("GET", "/v1/admin/status");
    const asked = await h.admin("POST", "/v1/admin/runs", { reason: "r" });
    const created = await h.admin("POST", "/v1/admin/federation", config);

    // Assert
    expect(FederationStatus.parse(status.body)).toMatchObject({ federation: "old-fed", state: { phase: "stats" } });
    expect(asked).toMatchObject({ status: 409, body: { error: { code: "NO_CONSORTIUM" } } });
    expect(created).toMatchObject({ status: 409, body: { error: { code: "FEDERATION_EXISTS" } } });
  });

  it("judges a later run's model against the champion on the same rows: a worse one is rejected with its numbers, a better one promoted by the gate", async () => {
    // Prepare: version 1 is the champion; runs 2 and 3 follow it.
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);

    // Execute: run 2's model is worse than the champion on the same rows, run 3's better.
    await h.admin("POST", "/v1/admin/runs", { reason: "monthly" });
    await postAllStats(h, sites);
    h.useRun(2);
    const evaluate = await (async () => {
      for (const round of [1, 2]) {
        for (const [i, site] of sites.entries()) await h.submit(site, round, delta(i + round), 2);
        await h.runJobs();
      }
      return h.task(sites[0]!);
    })();
    const wrong = await h.request("POST", "/v1/evaluations", { token: sites[0]!.token, json: { modelVersion: 2, trainRows: 80, testRows: 70, global: counts(30, 5, 30, 5), personalized: counts(30, 5, 30, 5), local: counts(30, 5, 30, 5), champion: { version: 7, counts: counts(30, 5, 30, 5) } } });
    for (const site of sites) {
      const worse = counts(18, 17, 30, 5);
      expect((await h.request("POST", "/v1/evaluations", { token: site.token, json: { modelVersion: 2, trainRows: 80, testRows: 70, global: worse, personalized: worse, local: worse, champion: { version: 1, counts: counts(30, 5, 30, 5) } } })).status).toBe(202);
    }
    await closeExpiredRounds(h.root);
    await h.admin("POST", "/v1/admin/runs", { reason: "monthly" });
    await postAllStats(h, sites);
    await finishRun(h, sites, 3, { global: counts(34, 1, 34, 1), champion: counts(30, 5, 30, 5) });

    // Assert
    if (evaluate.kind !== "evaluate") throw new Error(`expected an evaluate task, got ${evaluate.kind}`);
    expect(evaluate.champion?.model).toMatchObject({ version: 1, sha256: (await readJson(h.root.store, keys.registryCard(1), ModelCard))!.artifacts!.weightsSha256 });
    expect(h.root.store.parsePresigned(evaluate.champion!.model.url)).toMatchObject({ op: "get", key: keys.registryWeights(1) });
    expect(evaluate.champion?.preprocessing.inputs).toEqual(["age", "sex=M"]);
    expect(wrong).toMatchObject({ status: 409, body: { error: { code: "WRONG_CHAMPION" } } });
    const rejected = await h.admin("GET", "/v1/admin/models/2");
    expect(rejected.body).toMatchObject({ decision: { judged: true, promoted: false }, champion: false });
    expect((rejected.body as { decision: { reason: string } }).decision.reason).toMatch(/champion kept: .*AUROC 0\.686 against the champion's 0\.857/);
    const promoted = await h.admin("GET", "/v1/admin/models/3");
    expect(promoted.body).toMatchObject({ decision: { judged: true, promoted: true }, champion: true });
    expect((await championHistory(h.root)).map((e) => [e.version, e.by, e.previous])).toEqual([[1, "gate", null], [3, "gate", 1]]);
  });

  it("records a later run's model not judged when no site scored the champion beside it", async () => {
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);
    await h.admin("POST", "/v1/admin/runs", { reason: "r" });
    await postAllStats(h, sites);
    await finishRun(h, sites, 2, { champion: null });
    const shown = await h.admin("GET", "/v1/admin/models/2");
    expect(shown.body).toMatchObject({ decision: { judged: false, promoted: false, reason: expect.stringMatching(/no site scored the champion \(version 1\)/) } });
  });

  it("lets an operator abandon a run that cannot finish: its sites stop, nothing is registered, and the next trigger starts the next run", async () => {
    // Prepare: run 2 waits for a hospital that has left (two of three statistics).
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);
    await h.admin("POST", "/v1/admin/runs", { reason: "monthly" });
    for (const site of sites.slice(0, 2)) expect((await h.postStats(site)).status).toBe(202);
    const registry = await h.root.store.list("registry/");

    // Execute
    const stopped = await h.admin("POST", "/v1/admin/runs/abandon", { reason: "hospital 3 left the consortium" });
    const again = await h.admin("POST", "/v1/admin/runs/abandon", { reason: "twice" });
    const task = await h.task(sites[0]!);
    const next = await h.admin("POST", "/v1/admin/runs", { reason: "without hospital 3" });
    const listed = await runs(h);

    // Assert
    expect(stopped).toMatchObject({ status: 200, body: { run: 2, abandoned: { reason: "hospital 3 left the consortium" } } });
    expect(again).toMatchObject({ status: 200, body: { run: 2, abandoned: { reason: "hospital 3 left the consortium" } } });
    expect(task.kind).toBe("done");
    expect(next.status).toBe(201);
    expect(listed.runs.map((r) => [r.seq, r.phase, r.version, r.abandoned?.reason ?? null])).toEqual([
      [1, "done", 1, null],
      [2, "done", null, "hospital 3 left the consortium"],
      [3, "stats", null, null],
    ]);
    expect(await h.root.store.list("registry/")).toEqual(registry);
  });

  it("records a site's download of each run's model 0 once per run, though every run numbers its models from 0", async () => {
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await h.task(sites[0]!);
    await h.task(sites[0]!);
    await finishRun(h, sites, 1);
    await h.admin("POST", "/v1/admin/runs", { reason: "new data" });
    await postAllStats(h, sites);
    h.useRun(2);
    expect((await h.task(sites[0]!)).kind).toBe("train");
    const { records } = await readWholeTrail(h.root);
    const downloads = records
      .map((b) => AuditRecord.parse(JSON.parse(new TextDecoder().decode(b!))))
      .filter((r) => r.action === "model.download" && r.actor.id === sites[0]!.siteId && r.object === "model/0")
      .map((r) => r.detail?.run);
    expect(downloads).toEqual([1, 2]);
  });

  it("answers an operator's request as started when a concurrent tick started the run with its trigger first", async () => {
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 2 });
    await finishRun(h, sites, 1);
    // The cron's tick runs right after the request's trigger is written, before the request's own tick.
    let raced = false;
    const store = new Proxy(h.root.store, {
      get: (target, prop, receiver) =>
        prop === "put"
          ? async (key: string, ...rest: unknown[]) => {
              const written = await (target.put as (...a: unknown[]) => Promise<boolean>).call(target, key, ...rest);
              if (!raced && key.startsWith("consortium/triggers/") && key.includes("-manual-")) {
                raced = true;
                expect((await advanceRuns(h.root)).action).toBe("started");
              }
              return written;
            }
          : Reflect.get(target, prop, receiver),
    });
    const outcome = await requestRun({ ...h.root, store }, "new data");
    expect(raced).toBe(true);
    expect(outcome.started?.seq).toBe(2);
    expect(outcome.started?.triggers.map((t) => t.key)).toEqual([outcome.trigger.key]);
    expect(outcome.waitingFor).toBeNull();
  });
});
