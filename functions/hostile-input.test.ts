/**
 * Inputs found to break the coordinator when it was attacked, each reproduced here: after every
 * one the coordinator answers 4xx and stays readable.
 */
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, ErrorBody, Harness } from "../test/support/coordinator.ts";

describe("hostile inputs leave the federation readable", () => {
  it("a round number beyond the safe integers, with or without a token, is refused and breaks no later status", async () => {
    // Prepare
    const h = new Harness();
    const [site] = await h.startTraining();
    // Execute
    const outsider = await h.request("POST", "/v1/rounds/1e21/updates");
    const enrolled = await h.request("POST", "/v1/rounds/1e21/updates", { token: site!.token, json: {} });
    const unsafe = await h.request("POST", `/v1/rounds/${2 ** 53 + 1}/declines`, { token: site!.token, json: {} });
    const status = await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN });
    // Assert
    expect(outsider.status).toBe(401);
    expect([enrolled.status, ErrorBody.parse(enrolled.body).error.code]).toEqual([400, "INVALID_PARAM"]);
    expect([unsafe.status, ErrorBody.parse(unsafe.body).error.code]).toEqual([400, "INVALID_PARAM"]);
    expect(status.status).toBe(200);
  });
});

describe("an unreadable record in the rejection log", () => {
  it("is passed over and reported, and status still answers", async () => {
    // Prepare
    const h = new Harness();
    await h.startTraining();
    await h.deps.store.put("rejections/000000000000001-bad.json", JSON.stringify({ at: 1, siteId: null, round: 1e21, code: "X", message: "m" }));
    await h.deps.store.put("rejections/000000000000002-bad.json", "not json");
    // Execute
    const status = await h.request("GET", "/v1/admin/status", { token: ADMIN_TOKEN });
    // Assert
    expect(status.status).toBe(200);
    expect(h.deps.logger.entries.filter((e) => e.message === "unreadable rejection record passed over").map((e) => e.fields?.key)).toEqual([
      "rejections/000000000000001-bad.json",
      "rejections/000000000000002-bad.json",
    ]);
  });
});
