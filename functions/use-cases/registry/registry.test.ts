import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../core/codec/index.ts";
import { configHash, ModelCard, ModelsView, ModelView, RegistryDecision } from "../../../core/registry/index.ts";
import { FederationConfig } from "../../../core/schemas/federation.ts";
import { delta, federationConfig, Harness, type TestSite, edgeCounts } from "../../../test/support/coordinator.ts";
import { keys } from "../../keys.ts";
import { readJson, writeJson } from "../../repo.ts";
import { closeExpiredRounds } from "../close-expired-rounds.ts";
import { championHistory, moveChampion } from "./champion.ts";
import { MAX_REGISTRATION_ATTEMPTS, registerRun } from "./register-run.ts";

const counts = edgeCounts;

/** A 2-round federation through the API to its end, every site reporting `global` counts. */
async function finishedRun(global: ReturnType<typeof counts>, globalTrain?: ReturnType<typeof counts>): Promise<{ h: Harness; sites: TestSite[] }> {
  const h = new Harness();
  const sites = await h.startTraining({ rounds: 2 });
  for (const round of [1, 2]) {
    for (const [i, site] of sites.entries()) await h.submit(site, round, delta(i + round), 2);
    await h.runJobs();
  }
  const evaluation = { modelVersion: 2, trainRows: globalTrain?.n ?? 80, testRows: global.n, global, personalized: global, local: global, ...(globalTrain && { globalTrain }) };
  for (const site of sites) expect((await h.request("POST", "/v1/evaluations", { token: site.token, json: evaluation })).status).toBe(202);
  return { h, sites };
}

/** Another version in the registry, as a later run would leave it: version 1's card under a new number and run. */
async function anotherVersion(h: Harness, version: number): Promise<void> {
  const card = (await readJson(h.deps.store, keys.registryCard(1), ModelCard))!;
  await writeJson(h.deps.store, keys.registryRun(version), { run: `run-${version}`, key: String(version).padStart(64, "b") }, { ifAbsent: true });
  await writeJson(h.deps.store, keys.registryCard(version), { ...card, version, run: `run-${version}`, parent: 1 }, { ifAbsent: true });
}

describe("the model registry", () => {
  it("registers a finished run once, with a card that names its lineage and bytes, and makes a first version that beats chance the champion", async () => {
    // Prepare: 30 of 35 positives and 30 of 35 negatives right at each of three sites.
    const { h } = await finishedRun(counts(30, 5, 30, 5));
    const config = FederationConfig.parse(federationConfig({ rounds: 2 }));

    // Execute: registered when the last evaluation arrived; again by hand and by the cron tick.
    const again = await registerRun(h.deps);
    await closeExpiredRounds(h.deps);
    const listed = await h.admin("GET", "/v1/admin/models");
    const shown = await h.admin("GET", "/v1/admin/models/1");

    // Assert
    expect(again?.version).toBe(1);
    const card = (await readJson(h.deps.store, keys.registryCard(1), ModelCard))!;
    expect(card).toMatchObject({ version: 1, run: "test-fed", parent: null, configSha256: configHash(config), strategy: config.strategy, codec: config.codec });
    expect(card.artifacts?.weightsSha256).toBe(sha256Hex((await h.deps.store.get(keys.modelWeights(2)))!));
    expect(await h.deps.store.get(keys.registryWeights(1))).toEqual(await h.deps.store.get(keys.modelWeights(2)));
    expect(card.sites).toHaveLength(3);
    // 90 of 105 positives at 1 and 90 of 105 negatives at 0; ties at each end count half.
    expect(card.evaluation.pooled.auroc).toBeCloseTo((90 * 90 + 0.5 * (90 * 15 + 15 * 90)) / (105 * 105), 10);
    expect((await h.deps.store.list(keys.registryVersionsPrefix)).filter((k) => k.endsWith("/card.json"))).toEqual([keys.registryCard(1)]);
    const decision = RegistryDecision.parse(await readJson(h.deps.store, keys.registryDecision(1), RegistryDecision));
    expect(decision).toMatchObject({ judged: true, promoted: true });
    expect(await championHistory(h.deps)).toEqual([expect.objectContaining({ seq: 1, version: 1, action: "promote", by: "gate", previous: null })]);
    expect(ModelsView.parse(listed.body).versions).toEqual([expect.objectContaining({ version: 1, run: "test-fed", champion: true })]);
    expect(ModelView.parse(shown.body)).toMatchObject({ champion: true, formerChampion: false });
  });

  it("records the operating point on the card, chosen on the sites' training-row counts, and hands its threshold out with the champion", async () => {
    const { h, sites } = await finishedRun(counts(30, 5, 30, 5), counts(70, 10, 75, 5));
    const card = (await readJson(h.deps.store, keys.registryCard(1), ModelCard))!;
    expect(card.operatingPoint).toMatchObject({ rule: { rule: "youden" }, chosenOn: { rows: 3 * 160, sites: 3 } });
    // The held-out rows at the card's threshold: 90 of 105 positives and 90 of 105 negatives right, as at 0.5 (scores sit at 0 and 1).
    expect(card.operatingPoint?.pooled).toMatchObject({ n: 210, sensitivity: 90 / 105, specificity: 90 / 105 });
    const offer = await h.request("GET", "/v1/champion", { token: sites[0]!.token });
    expect(offer.body).toMatchObject({ champion: { model: { version: 1 }, threshold: card.operatingPoint!.threshold } });
    // A run whose sites sent no training-row counts (older runners): no operating point, no threshold.
    const { h: older, sites: olderSites } = await finishedRun(counts(30, 5, 30, 5));
    expect((await readJson(older.deps.store, keys.registryCard(1), ModelCard))!.operatingPoint).toBeUndefined();
    expect(((await older.request("GET", "/v1/champion", { token: olderSites[0]!.token })).body as { champion: object }).champion).not.toHaveProperty("threshold");
  });

  it("registers a model no better than chance without making it the champion, saying why with the numbers", async () => {
    // Prepare: every site's scores are coin flips.
    const { h } = await finishedRun(counts(10, 10, 10, 10));

    // Execute
    const registered = await registerRun(h.deps);

    // Assert
    expect(registered?.decision).toMatchObject({ judged: true, promoted: false });
    expect(registered?.decision.reason).toMatch(/0\.500/);
    expect(await championHistory(h.deps)).toEqual([]);
  });

  it("lets one of two concurrent promotions win and refuses the other with the champion that won", async () => {
    // Prepare
    const { h } = await finishedRun(counts(30, 5, 30, 5));
    await anotherVersion(h, 2);
    await anotherVersion(h, 3);
    const promote = (v: number) => h.admin("POST", `/v1/admin/models/${v}/promote`, { reason: `better on the spring data (${v})`, expectedChampion: 1 });

    // Execute
    const [a, b] = await Promise.all([promote(2), promote(3)]);

    // Assert
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const [won, lost] = a.status === 200 ? [a, b] : [b, a];
    const winner = (won.body as { version: number }).version;
    expect((lost.body as { error: { code: string; message: string } }).error).toMatchObject({ code: "CHAMPION_CHANGED" });
    expect((lost.body as { error: { message: string } }).error.message).toContain(`version ${winner}`);
    expect((await championHistory(h.deps)).map((e) => [e.seq, e.version, e.by])).toEqual([[1, 1, "gate"], [2, winner, "operator"]]);
  });

  it("rolls back to a former champion with a reason, and refuses a rollback to a version that never was one", async () => {
    // Prepare
    const { h } = await finishedRun(counts(30, 5, 30, 5));
    await anotherVersion(h, 2);
    await anotherVersion(h, 3);
    await h.admin("POST", "/v1/admin/models/2/promote", { reason: "scheduled retraining" });

    // Execute
    const back = await h.admin("POST", "/v1/admin/models/rollback", { to: 1, reason: "version 2 under-calls sepsis at site b" });
    const never = await h.admin("POST", "/v1/admin/models/rollback", { to: 3, reason: "try it" });
    const unreasoned = await h.admin("POST", "/v1/admin/models/3/promote", { reason: " " });
    const stale = await h.admin("POST", "/v1/admin/models/3/promote", { reason: "x", expectedChampion: 2 });
    const unknown = await h.admin("GET", "/v1/admin/models/9");

    // Assert
    expect(back.body).toMatchObject({ seq: 3, version: 1, action: "rollback", by: "operator", previous: 2, reason: "version 2 under-calls sepsis at site b" });
    expect(never).toMatchObject({ status: 422, body: { error: { code: "NOT_A_FORMER_CHAMPION" } } });
    expect(unreasoned.status).toBe(400);
    expect(stale).toMatchObject({ status: 409, body: { error: { code: "CHAMPION_CHANGED" } } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "UNKNOWN_VERSION" } } });
    expect((await championHistory(h.deps)).map((e) => e.version)).toEqual([1, 2, 1]);
  });

  it("finishes a registration cut short on the next tick, and never writes a version twice", async () => {
    // Prepare: the run is done, but its registration was lost (the card and decision removed as if never written).
    const { h } = await finishedRun(counts(30, 5, 30, 5));
    await h.deps.store.delete(keys.registryCard(1));
    await h.deps.store.delete(keys.registryDecision(1));
    const entries = (await championHistory(h.deps)).length;

    // Execute: two registrations at once, then the tick.
    const both = await Promise.all([registerRun(h.deps), registerRun(h.deps)]);
    await closeExpiredRounds(h.deps);

    // Assert
    expect(both.map((r) => r?.version)).toEqual([1, 1]);
    expect(await readJson(h.deps.store, keys.registryCard(1), ModelCard)).not.toBeNull();
    expect((await h.deps.store.list(keys.registryVersionsPrefix)).filter((k) => k.endsWith("/run.json"))).toEqual([keys.registryRun(1)]);
    // The champion was moved once, when the run first finished.
    expect((await championHistory(h.deps)).length).toBe(entries);
  });

  it("moves the champion only by compare-and-swap: a stale expectation is refused without a write", async () => {
    // Prepare
    const { h } = await finishedRun(counts(30, 5, 30, 5));
    await anotherVersion(h, 2);

    // Execute
    const stale = await moveChampion(h.deps, { version: 2, action: "promote", by: "operator", reason: "x", expected: null }).catch((err: unknown) => err);

    // Assert
    expect(stale).toMatchObject({ code: "CHAMPION_CHANGED", status: 409 });
    expect((await championHistory(h.deps)).map((e) => e.version)).toEqual([1]);
  });

  it("records a version promoted however its registrations interleave: two at once after the first was lost", async () => {
    // Prepare: the run is done and its registration gone entirely (as if the hook never ran).
    const { h } = await finishedRun(counts(30, 5, 30, 5));
    for (const key of await h.deps.store.list("registry/")) await h.deps.store.delete(key);

    // Execute
    const both = await Promise.all([registerRun(h.deps), registerRun(h.deps)]);

    // Assert
    expect(both.map((r) => [r?.version, r?.decision.promoted])).toEqual([[1, true], [1, true]]);
    expect(await readJson(h.deps.store, keys.registryDecision(1), RegistryDecision)).toMatchObject({ judged: true, promoted: true });
    // Whichever registration wrote the decision, it carries the gate's numbers: the one that found the champion moved judged the same counts.
    expect((await readJson(h.deps.store, keys.registryDecision(1), RegistryDecision))?.gate?.promote).toBe(true);
    expect((await championHistory(h.deps)).map((e) => e.version)).toEqual([1]);
  });

  it("passes over a corrupt champion entry and goes on numbering after it; refuses to roll back to the champion itself", async () => {
    // Prepare
    const { h } = await finishedRun(counts(30, 5, 30, 5));
    await anotherVersion(h, 2);
    await h.deps.store.put(keys.championEntry(2), "{ not json", {});

    // Execute
    const listed = await h.admin("GET", "/v1/admin/models");
    const promoted = await h.admin("POST", "/v1/admin/models/2/promote", { reason: "after the corrupt entry" });
    const toItself = await h.admin("POST", "/v1/admin/models/rollback", { to: 2, reason: "r" });

    // Assert
    expect(listed.status).toBe(200);
    expect(ModelsView.parse(listed.body).champion?.version).toBe(1);
    expect(promoted.body).toMatchObject({ seq: 3, version: 2, previous: 1 });
    expect(toItself).toMatchObject({ status: 409, body: { error: { code: "ALREADY_CHAMPION" } } });
  });

  it("lets the cron tick give up on a registration that keeps failing, without ever failing the tick", async () => {
    // Prepare: the run is done, but its preprocessing is gone, so no card can be written.
    const { h } = await finishedRun(counts(30, 5, 30, 5));
    for (const key of await h.deps.store.list("registry/")) await h.deps.store.delete(key);
    await h.deps.store.delete(keys.preprocessing);

    // Execute
    for (let tick = 0; tick < MAX_REGISTRATION_ATTEMPTS + 3; tick++) await closeExpiredRounds(h.deps);

    // Assert
    const failures = (await h.deps.store.list("registry/runs/")).filter((k) => k.endsWith(".failures.json"));
    expect(failures).toHaveLength(1);
    const recorded = JSON.parse(new TextDecoder().decode((await h.deps.store.get(failures[0]!))!)) as { attempts: number; error: string };
    expect(recorded).toEqual({ attempts: MAX_REGISTRATION_ATTEMPTS, error: "run test-fed is done but its model v2 or preprocessing is missing from the store" });
    expect(await readJson(h.deps.store, keys.registryCard(1), ModelCard)).toBeNull();
  });
});

