import { describe, expect, it } from "vitest";
import { delta, federationConfig, Harness, T0 } from "../../test/support/coordinator.ts";
import { strategyNames } from "../../core/strategy/create-strategy.ts";

const DEADLINE = T0 + 600_000;

describe("admin routes: authentication", () => {
  it("refuses a request without a bearer token with 401 UNAUTHENTICATED, counts it without keeping it, and the round goes on", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    // Execute
    const res = await h.request("GET", "/v1/admin/status");
    // Assert
    expect(res).toEqual({ status: 401, body: { error: { code: "UNAUTHENTICATED", message: "missing bearer token" } } });
    expect(await h.rejections()).toEqual([]);
    const status = await h.status();
    expect(status.failures).toEqual([{ minute: T0 - (T0 % 60_000), code: "UNAUTHENTICATED", count: 1 }]);
    expect(status.rejections).toEqual([]);
    expect(await h.finishRound(sites, 1)).toEqual(["aggregated"]);
  });

  it("refuses a wrong admin token, or a site's credential, with 403 FORBIDDEN, counted as failures", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    // Execute
    const wrong = await h.request("POST", "/v1/admin/sites", { token: "not-the-admin-token", json: { name: "Intruder" } });
    const site = await h.request("GET", "/v1/admin/status", { token: sites[0]!.token });
    // Assert
    expect(wrong).toEqual({ status: 403, body: { error: { code: "FORBIDDEN", message: "wrong admin token: this is not the coordinator's admin token" } } });
    expect(site).toEqual({ status: 403, body: { error: { code: "FORBIDDEN", message: "a site credential cannot make admin requests: send the consortium's admin token" } } });
    expect(await h.rejections()).toEqual([]);
    const status = await h.status();
    expect(status.failures?.map((f) => [f.code, f.count])).toEqual([["FORBIDDEN", 2]]);
    expect(status.sites).toHaveLength(3);
    expect(await h.finishRound(sites, 1)).toEqual(["aggregated"]);
  });

  it("records each refusal of the administrator's own requests, as audit data", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation();
    // Execute
    const res = await h.admin("POST", "/v1/admin/sites", { name: "" });
    // Assert
    expect(res.status).toBe(400);
    expect((await h.rejections()).map((r) => [r.siteId, r.code])).toEqual([[null, "INVALID_BODY"]]);
  });

  it("refuses a credential in another scheme with 401 UNAUTHENTICATED", async () => {
    const h = new Harness();
    const res = await h.request("GET", "/v1/admin/status", { headers: { authorization: "Basic YWRtaW46YWRtaW4=" } });
    expect(res).toEqual({ status: 401, body: { error: { code: "UNAUTHENTICATED", message: "missing bearer token" } } });
  });
});

describe("admin routes: federation and sites", () => {
  it("refuses a second federation with FEDERATION_EXISTS and keeps the first", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation();
    // Execute
    const res = await h.admin("POST", "/v1/admin/federation", federationConfig({ id: "another-fed" }));
    // Assert
    expect(res).toEqual({ status: 409, body: { error: { code: "FEDERATION_EXISTS", message: "a federation already exists in this store" } } });
    expect((await h.status()).federation).toBe("test-fed");
  });

  it("refuses an unknown strategy with INVALID_CONFIG before writing anything but the rejection and its audit record", async () => {
    // Prepare
    const h = new Harness();
    // Execute
    const res = await h.admin("POST", "/v1/admin/federation", federationConfig({ strategy: "fedmagic" }));
    // Assert
    expect(res).toEqual({ status: 400, body: { error: { code: "INVALID_CONFIG", message: `unknown strategy "fedmagic" (known: ${strategyNames().join(", ")})` } } });
    expect((await h.deps.store.list("")).filter((k) => !k.startsWith("rejections/") && !k.startsWith("audit/"))).toEqual([]);
    expect(await h.deps.store.list("audit/trail/")).toEqual(["audit/trail/000000000001.json"]);
  });

  it("refuses a site without a name with INVALID_BODY", async () => {
    const h = new Harness();
    const res = await h.admin("POST", "/v1/admin/sites", { name: "" });
    expect(res).toEqual({ status: 400, body: { error: { code: "INVALID_BODY", message: "invalid request body: name: Too small: expected string to have >=1 characters" } } });
  });

  it("answers status before any federation with 404 NO_FEDERATION", async () => {
    const h = new Harness();
    const res = await h.admin("GET", "/v1/admin/status");
    expect(res).toEqual({ status: 404, body: { error: { code: "NO_FEDERATION", message: "federation not found" } } });
  });
});

describe("POST /v1/admin/rounds/close-expired", () => {
  it("queues an expired round that has an update, and the job aggregates it", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    await h.submit(sites[2]!, 1, delta(2), 4);
    h.deps.clock.ms = DEADLINE;
    const early = await h.admin("POST", "/v1/admin/rounds/close-expired");
    h.deps.clock.ms = DEADLINE + 1;
    // Execute
    const res = await h.admin("POST", "/v1/admin/rounds/close-expired");
    const jobs = [...h.deps.queue.messages];
    const outcomes = await h.runJobs();
    // Assert
    expect(early).toEqual({ status: 200, body: { round: 1, action: "none", runs: { action: "training", run: 1 } } });
    expect(res).toEqual({ status: 200, body: { round: 1, action: "queued", runs: { action: "training", run: 1 } } });
    expect(jobs.map((j) => JSON.parse(j))).toEqual([{ kind: "aggregate", federation: "test-fed", round: 1, run: 1 }]);
    expect(outcomes).toEqual(["aggregated"]);
    const status = await h.status();
    expect(status.state).toMatchObject({ phase: "training", round: 2, modelVersion: 1 });
    expect(status.roundLog.map((r) => [r.round, r.status, r.updates])).toEqual([[1, "closed", 1], [2, "open", 0]]);
  });

  it("skips an expired round without updates and opens the next from the same model", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    h.deps.clock.ms = DEADLINE + 1;
    // Execute
    const res = await h.admin("POST", "/v1/admin/rounds/close-expired");
    // Assert
    expect(res).toEqual({ status: 200, body: { round: 1, action: "skipped", runs: { action: "training", run: 1 } } });
    expect(h.deps.queue.messages).toEqual([]);
    const status = await h.status();
    expect(status.state).toEqual({ phase: "training", round: 2, modelVersion: 0, updatedAt: DEADLINE + 1 });
    expect(status.roundLog.map((r) => [r.round, r.status, r.baseVersion])).toEqual([[1, "skipped", 0], [2, "open", 0]]);
    expect(await h.task(sites[0]!)).toMatchObject({ kind: "train", round: 2, model: { version: 0 } });
  });
});
