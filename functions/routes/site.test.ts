import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeUpdate, encodedSize, sha256Hex } from "../../core/codec/index.ts";
import { countPredictions } from "../../core/metrics/index.ts";
import type { Rejection } from "../../core/schemas/round.ts";
import { keys } from "../keys.ts";
import { BODY_SIZE, delta, Harness, siteTables, testDeps, type Reply, type TestSite } from "../../test/support/coordinator.ts";

/** The coordinator's answer was the expected error, and nothing else. */
function expectError(res: Reply, status: number, code: string, message: string): void {
  expect(res).toEqual({ status, body: { error: { code, message } } });
}

/** The refusal is stored under `rejections/` and listed by the admin status. */
async function expectRecorded(h: Harness, rejection: Omit<Rejection, "at">): Promise<void> {
  const recorded = { at: h.deps.clock.now(), ...rejection };
  expect(await h.rejections()).toEqual([recorded]);
  expect((await h.status()).rejections).toEqual([recorded]);
}

/** Refused before any site was authenticated: counted in this minute under `code`, nothing of the request stored. */
async function expectCounted(h: Harness, code: string, count: number): Promise<void> {
  const now = h.deps.clock.now();
  expect(await h.rejections()).toEqual([]);
  expect((await h.status()).failures).toEqual([{ minute: now - (now % 60_000), code, count }]);
}

/** Every site not yet accepted sends a valid update; the round must still aggregate all of them. */
async function expectRoundGoesOn(h: Harness, sites: TestSite[], round: number, accepted: TestSite[] = []): Promise<void> {
  expect(await h.finishRound(sites, round, accepted)).toEqual(["aggregated"]);
  const record = await h.round(round);
  expect(record?.status).toBe("closed");
  expect(record?.included).toEqual(sites.map((s) => s.siteId).sort());
  expect(record?.rejected).toEqual([]);
  expect((await h.round(round + 1))?.status).toBe("open");
}

/** A float32 container whose value at `index` is NaN, sealed with a correct checksum. */
function nanContainer(values: Float32Array, index: number): Uint8Array {
  const bytes = encodeUpdate(values, "float32");
  new DataView(bytes.buffer).setFloat32(16 + 4 * index, Number.NaN, true);
  const end = bytes.length - 32;
  bytes.set(createHash("sha256").update(bytes.subarray(0, end)).digest(), end);
  return bytes;
}

const path = (round: number) => `/v1/rounds/${round}/updates`;

/** Consistent statistics of two rows (ages 50 and 40, one of each sex, one positive). */
const twoRows = () => ({
  rows: 2,
  positives: 1,
  features: { age: { kind: "numeric", count: 2, mean: 45, m2: 50, missing: 0 }, sex: { kind: "categorical", counts: { F: 1, M: 1 }, missing: 0 } },
});

describe("POST /v1/rounds/:round/updates: bad input is refused, recorded, and the round goes on", () => {
  it("refuses a manifest that violates its schema with INVALID_BODY", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const [site] = sites;
    // Execute
    const res = await h.postUpdate(site!, 1, { round: 1, samples: 0, codec: "float32", byteLength: 100, sha256: "not-a-hash" });
    // Assert
    const message = "invalid request body: samples: Too small: expected number to be >0; sha256: Invalid string: must match pattern /^[0-9a-f]{64}$/";
    expectError(res, 400, "INVALID_BODY", message);
    await expectRecorded(h, { siteId: site!.siteId, round: 1, code: "INVALID_BODY", message: `POST ${path(1)}: ${message}` });
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a body that is not JSON with INVALID_JSON", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const [site] = sites;
    // Execute
    const res = await h.request("POST", path(1), { token: site!.token, raw: "round=1&samples=3", headers: { "content-type": "application/json" } });
    // Assert
    expectError(res, 400, "INVALID_JSON", "request body is not valid JSON");
    await expectRecorded(h, { siteId: site!.siteId, round: 1, code: "INVALID_JSON", message: `POST ${path(1)}: request body is not valid JSON` });
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a delta of the wrong length with SIZE_MISMATCH before reading it", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[1]!;
    const manifest = await h.upload(site, 1, delta(1, BODY_SIZE - 1), 2);
    // Execute
    const res = await h.postUpdate(site, 1, manifest);
    // Assert
    const message = `update must be ${encodedSize(BODY_SIZE, "float32")} bytes, manifest says ${encodedSize(BODY_SIZE - 1, "float32")}`;
    expectError(res, 422, "SIZE_MISMATCH", message);
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "SIZE_MISMATCH", message: `POST ${path(1)}: ${message}` });
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses stored bytes whose size differs from an honest-looking manifest with SIZE_MISMATCH", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[0]!;
    const manifest = await h.upload(site, 1, delta(1, BODY_SIZE - 1), 3);
    const size = encodedSize(BODY_SIZE, "float32");
    // Execute
    const res = await h.postUpdate(site, 1, { ...manifest, byteLength: size });
    // Assert
    const message = `update is ${size - 4} bytes, manifest says ${size}`;
    expectError(res, 422, "SIZE_MISMATCH", message);
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "SIZE_MISMATCH", message: `POST ${path(1)}: ${message}` });
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a container of the right size but the wrong element count with LENGTH_MISMATCH", async () => {
    // Prepare: under int8, 9 values in chunks of 5 take as many bytes as 13 values in one chunk.
    const h = new Harness();
    const sites = await h.startTraining({ codec: "int8" });
    const site = sites[2]!;
    const bytes = encodeUpdate(delta(1, 9), "int8", { chunkSize: 5 });
    await h.deps.store.put(keys.updateBin(1, site.siteId), bytes);
    // Execute
    const res = await h.postUpdate(site, 1, { round: 1, samples: 4, codec: "int8", byteLength: bytes.length, sha256: sha256Hex(bytes) });
    // Assert
    expect(bytes.length).toBe(encodedSize(BODY_SIZE, "int8"));
    expectError(res, 422, "LENGTH_MISMATCH", "update has 9 values, expected 13");
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "LENGTH_MISMATCH", message: `POST ${path(1)}: update has 9 values, expected 13` });
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a well-sealed delta holding NaN with NON_FINITE, and takes the site's corrected upload", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[0]!;
    const bytes = nanContainer(delta(1), 3);
    await h.deps.store.put(keys.updateBin(1, site.siteId), bytes);
    // Execute
    const res = await h.postUpdate(site, 1, { round: 1, samples: 3, codec: "float32", byteLength: bytes.length, sha256: sha256Hex(bytes) });
    const retryTask = await h.task(site);
    // Assert
    expectError(res, 422, "NON_FINITE", "update value at index 3 is NaN");
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "NON_FINITE", message: `POST ${path(1)}: update value at index 3 is NaN` });
    expect(retryTask.kind).toBe("train");
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses bytes that do not hash to the manifest's sha256 with CHECKSUM_MISMATCH", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[1]!;
    const manifest = await h.upload(site, 1, delta(1), 2);
    // Execute
    const res = await h.postUpdate(site, 1, { ...manifest, sha256: sha256Hex(encodeUpdate(delta(2), "float32")) });
    // Assert
    const message = "update bytes do not match the manifest's sha256";
    expectError(res, 422, "CHECKSUM_MISMATCH", message);
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "CHECKSUM_MISMATCH", message: `POST ${path(1)}: ${message}` });
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a container whose own checksum is broken with CHECKSUM_MISMATCH, even when the manifest hashes it", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[1]!;
    const bytes = encodeUpdate(delta(1), "float32");
    bytes[20]! ^= 0x01;
    await h.deps.store.put(keys.updateBin(1, site.siteId), bytes);
    const end = bytes.length - 32;
    const stored = Buffer.from(bytes.subarray(end)).toString("hex");
    const actual = createHash("sha256").update(bytes.subarray(0, end)).digest("hex");
    // Execute
    const res = await h.postUpdate(site, 1, { round: 1, samples: 2, codec: "float32", byteLength: bytes.length, sha256: sha256Hex(bytes) });
    // Assert
    expectError(res, 422, "CHECKSUM_MISMATCH", `update checksum is ${stored}, but its contents hash to ${actual}`);
    expect((await h.rejections()).map((r) => r.code)).toEqual(["CHECKSUM_MISMATCH"]);
    await expectRoundGoesOn(h, sites, 1);
  });

  // An unknown site and a wrong secret are answered alike: the answer must not tell an outsider which site ids exist.
  it("refuses a credential naming a site that is not enrolled with BAD_CREDENTIAL, as it would a wrong secret, and only counts it", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3);
    // Execute
    const res = await h.request("POST", path(1), { token: "cs_ghost-ward_c2VjcmV0", json: manifest });
    // Assert
    expectError(res, 401, "BAD_CREDENTIAL", "unknown site or wrong credential");
    await expectCounted(h, "BAD_CREDENTIAL", 1);
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a wrong secret for an enrolled site with BAD_CREDENTIAL and does not attribute it to the site", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[0]!;
    const manifest = await h.upload(site, 1, delta(1), 3);
    // Execute
    const res = await h.request("POST", path(1), { token: `cs_${site.siteId}_bm90LXRoZS1zZWNyZXQ`, json: manifest });
    // Assert
    expectError(res, 401, "BAD_CREDENTIAL", "unknown site or wrong credential");
    await expectCounted(h, "BAD_CREDENTIAL", 1);
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses an update for a round that has closed with ROUND_CLOSED; the next round goes on", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    await expectRoundGoesOn(h, sites, 1);
    const site = sites[2]!;
    const late = await h.upload(site, 1, delta(9), 3);
    // Execute
    const res = await h.postUpdate(site, 1, late);
    // Assert
    expectError(res, 409, "ROUND_CLOSED", "round 1 is not open for updates");
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "ROUND_CLOSED", message: `POST ${path(1)}: round 1 is not open for updates` });
    await expectRoundGoesOn(h, sites, 2);
  });

  it("refuses an update for a round that has not opened yet with ROUND_CLOSED", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const manifest = await h.upload(sites[0]!, 2, delta(1), 3);
    // Execute
    const res = await h.postUpdate(sites[0]!, 2, manifest);
    // Assert
    expectError(res, 409, "ROUND_CLOSED", "round 2 is not open for updates");
    expect((await h.rejections()).map((r) => [r.code, r.round])).toEqual([["ROUND_CLOSED", 2]]);
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a manifest whose round disagrees with the path with ROUND_MISMATCH", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3);
    // Execute
    const res = await h.postUpdate(sites[0]!, 1, { ...manifest, round: 2 });
    // Assert
    expectError(res, 400, "ROUND_MISMATCH", "manifest is for round 2, path says 1");
    expect((await h.rejections()).map((r) => r.code)).toEqual(["ROUND_MISMATCH"]);
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a body over maxBodyBytes with 413 BODY_TOO_LARGE, with or without a Content-Length", async () => {
    // Prepare
    const h = new Harness(testDeps({ maxBodyBytes: 2048 }));
    const sites = await h.startTraining();
    const site = sites[0]!;
    const padded = JSON.stringify({ ...(await h.upload(site, 1, delta(1), 3)), note: "x".repeat(2048) });
    // Execute
    const streamed = await h.request("POST", path(1), { token: site.token, raw: padded, headers: { "content-type": "application/json" } });
    const declared = await h.request("POST", path(1), {
      token: site.token, raw: padded, headers: { "content-type": "application/json", "content-length": String(padded.length) },
    });
    // Assert
    expectError(streamed, 413, "BODY_TOO_LARGE", "request body exceeds 2048 bytes");
    expectError(declared, 413, "BODY_TOO_LARGE", "request body exceeds 2048 bytes");
    // The limit is checked before the credential: no site is known yet, so the refusals are counted.
    await expectCounted(h, "BODY_TOO_LARGE", 2);
    await expectRoundGoesOn(h, sites, 1);
  });

  /** A federation in round 1 whose three sites have each sent an update, with the manifests they posted. */
  async function everySiteSent() {
    const h = new Harness();
    const sites = await h.startTraining();
    const manifests = [];
    for (const [i, site] of sites.entries()) {
      manifests.push(await h.upload(site, 1, delta(i + 1), 2));
      await h.postUpdate(site, 1, manifests[i]);
    }
    return { h, sites, manifests };
  }

  it("answers a retried update the round went on to include as the first post was answered", async () => {
    // Prepare: every site sends; the round aggregates; one site's first answer was lost.
    const { h, sites, manifests } = await everySiteSent();
    await h.runJobs();
    // Execute
    const retried = await h.postUpdate(sites[0]!, 1, manifests[0]);
    const other = await h.postUpdate(sites[0]!, 1, await h.upload(sites[0]!, 1, delta(7), 2));
    // Assert
    expect(retried).toEqual({ status: 202, body: { queued: true } });
    expect(other.status).toBe(409);
  });

  it("answers a retried update as the first post was while the round is aggregating and has yet to fix its set", async () => {
    // Prepare: every site sends; the aggregate job marks the round and dies before fixing its set.
    const { h, sites, manifests } = await everySiteSent();
    const round = (await h.round(1))!;
    await h.deps.store.put(keys.round(1), JSON.stringify({ ...round, status: "aggregating", aggregationStartedAt: round.openedAt }));
    // Execute
    const retried = await h.postUpdate(sites[0]!, 1, manifests[0]);
    const outcomes = await h.runJobs();
    // Assert
    expect(retried).toEqual({ status: 202, body: { queued: true } });
    expect(outcomes).toContain("aggregated");
    expect((await h.round(1))?.included).toEqual(sites.map((s) => s.siteId).sort());
  });

  it("refuses a second update from the same site in a round with DUPLICATE_UPDATE, and takes the same one again as a retry", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[0]!;
    const manifest = await h.upload(site, 1, delta(1), 2);
    await h.postUpdate(site, 1, manifest);
    // Execute
    const retry = await h.postUpdate(site, 1, manifest);
    const res = await h.postUpdate(site, 1, await h.upload(site, 1, delta(2), 2));
    // Assert
    expect(retry).toEqual({ status: 202, body: { queued: false } });
    const message = `site ${site.siteId} already sent an update for round 1`;
    expectError(res, 409, "DUPLICATE_UPDATE", message);
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "DUPLICATE_UPDATE", message: `POST ${path(1)}: ${message}` });
    await expectRoundGoesOn(h, sites, 1, [site]);
  });

  it("refuses a manifest for a codec the federation does not use with CODEC_MISMATCH", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const manifest = await h.upload(sites[0]!, 1, delta(1), 3);
    // Execute
    const res = await h.postUpdate(sites[0]!, 1, { ...manifest, codec: "int8" });
    // Assert
    expectError(res, 422, "CODEC_MISMATCH", "round uses codec float32, update says int8");
    expect((await h.rejections()).map((r) => r.code)).toEqual(["CODEC_MISMATCH"]);
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a manifest for an update that was never uploaded with MISSING_UPDATE", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const bytes = encodeUpdate(delta(1), "float32");
    // Execute
    const res = await h.postUpdate(sites[1]!, 1, { round: 1, samples: 2, codec: "float32", byteLength: bytes.length, sha256: sha256Hex(bytes) });
    // Assert
    expectError(res, 422, "MISSING_UPDATE", `no update uploaded for site ${sites[1]!.siteId} in round 1`);
    expect((await h.rejections()).map((r) => r.code)).toEqual(["MISSING_UPDATE"]);
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses an update holding a value beyond the default bound with UPDATE_OUT_OF_RANGE, naming its magnitude", async () => {
    // Prepare: finite, but large enough to overflow any aggregate it enters.
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[0]!;
    const manifest = await h.upload(site, 1, new Float32Array(BODY_SIZE).fill(-3e38), 3);
    // Execute
    const res = await h.postUpdate(site, 1, manifest);
    // Assert
    const message = "update holds a value of magnitude 3e+38, above the federation's bound of 10000";
    expectError(res, 422, "UPDATE_OUT_OF_RANGE", message);
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "UPDATE_OUT_OF_RANGE", message: `POST ${path(1)}: ${message}` });
    expect(await h.deps.store.head(keys.updateManifest(1, site.siteId))).toBeNull();
    await expectRoundGoesOn(h, sites, 1);
  });

  it("holds updates to the bound the federation agreed on (maxUpdateAbs)", async () => {
    // Prepare: delta(1) reaches 0.08 in magnitude.
    const h = new Harness();
    const sites = await h.startTraining({ maxUpdateAbs: 0.05 });
    const site = sites[2]!;
    const manifest = await h.upload(site, 1, delta(1), 4);
    // Execute
    const res = await h.postUpdate(site, 1, manifest);
    // Assert
    expectError(res, 422, "UPDATE_OUT_OF_RANGE", "update holds a value of magnitude 0.08, above the federation's bound of 0.05");
  });

  it("refuses an update weighing more samples than the site's training rows with SAMPLES_MISMATCH", async () => {
    // Prepare: the second hospital reported 2 training rows.
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[1]!;
    const manifest = await h.upload(site, 1, delta(1), 3);
    // Execute
    const res = await h.postUpdate(site, 1, manifest);
    // Assert
    const message = `update weighs 3 samples, but site ${site.siteId} reported 2 training rows`;
    expectError(res, 422, "SAMPLES_MISMATCH", message);
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "SAMPLES_MISMATCH", message: `POST ${path(1)}: ${message}` });
    await expectRoundGoesOn(h, sites, 1);
  });

  it("takes any weight from a site that joined after the statistics phase, which reported no rows", async () => {
    // Prepare
    const h = new Harness();
    await h.startTraining({ quorum: 4 });
    const late = await h.enrol("Cottage Hospital", siteTables[0]!);
    const manifest = await h.upload(late, 1, delta(1), 1_000);
    // Execute
    const res = await h.postUpdate(late, 1, manifest);
    // Assert
    expect(res).toEqual({ status: 202, body: { queued: false } });
  });

  it("refuses base counts in another number of bins with INVALID_BODY, as they could not be pooled", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    const site = sites[0]!;
    const baseMetrics = countPredictions(new Float64Array([0.2, 0.8]), new Uint8Array([0, 1]), 4);
    const manifest = { ...(await h.upload(site, 1, delta(1), 3)), baseMetrics };
    // Execute
    const res = await h.postUpdate(site, 1, manifest);
    // Assert
    const message = "invalid request body: baseMetrics.pos: histogram must have 1000 bins, got 4";
    expectError(res, 400, "INVALID_BODY", message);
    await expectRecorded(h, { siteId: site.siteId, round: 1, code: "INVALID_BODY", message: `POST ${path(1)}: ${message}` });
    await expectRoundGoesOn(h, sites, 1);
  });

  it("refuses a round that is not a number with INVALID_PARAM and records no round", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    // Execute
    const res = await h.postUpdate(sites[0]!, Number.NaN, {});
    // Assert
    expectError(res, 400, "INVALID_PARAM", "round must be a non-negative integer");
    await expectRecorded(h, { siteId: sites[0]!.siteId, round: null, code: "INVALID_PARAM", message: "POST /v1/rounds/NaN/updates: round must be a non-negative integer" });
    await expectRoundGoesOn(h, sites, 1);
  });
});

describe("site routes: statistics", () => {
  it("refuses statistics that lack a feature with BAD_STATS and takes the corrected ones", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation({ expectedSites: 1 });
    const site = await h.enrol("St Mary's", { columns: ["age", "sex", "outcome"], rows: [["50", "M", "1"], ["40", "F", "0"]] });
    const partial = { rows: 2, positives: 1, features: { age: { kind: "numeric", count: 2, mean: 45, m2: 50, missing: 0 } } };
    // Execute
    const res = await h.request("POST", "/v1/stats", { token: site.token, json: partial });
    const retry = await h.postStats(site);
    // Assert
    expectError(res, 422, "BAD_STATS", 'statistics for feature "sex" are missing or not categorical');
    expect(retry).toEqual({ status: 202, body: { complete: true } });
  });

  it.each([
    ["more positives than rows", { ...twoRows(), positives: 3 }, "3 positives but only 2 rows"],
    [
      "a numeric feature that does not account for every row",
      { ...twoRows(), features: { ...twoRows().features, age: { kind: "numeric", count: 1, mean: 50, m2: 0, missing: 0 } } },
      'feature "age" counts 1 values and 0 missing, not the 2 rows',
    ],
    [
      "a categorical feature that does not account for every row",
      { ...twoRows(), features: { ...twoRows().features, sex: { kind: "categorical", counts: { M: 1, F: 3 }, missing: 0 } } },
      'feature "sex" counts 4 values and 0 missing, not the 2 rows',
    ],
    [
      "a categorical feature with more than 1000 levels",
      {
        rows: 1001,
        positives: 1,
        features: {
          age: { kind: "numeric", count: 1001, mean: 50, m2: 0, missing: 0 },
          sex: { kind: "categorical", counts: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`L${i}`, 1])), missing: 0 },
        },
      },
      'feature "sex" has 1001 levels, more than 1000',
    ],
  ])("refuses statistics with %s with BAD_STATS, records and does not store them", async (_, stats, problem) => {
    // Prepare
    const h = new Harness();
    await h.createFederation({ expectedSites: 1 });
    const site = await h.enrol("St Mary's", { columns: ["age", "sex", "outcome"], rows: [["50", "M", "1"], ["40", "F", "0"]] });
    // Execute
    const res = await h.request("POST", "/v1/stats", { token: site.token, json: stats });
    const stored = await h.deps.store.head(keys.stats(site.siteId));
    const retry = await h.postStats(site);
    // Assert
    const message = `statistics are inconsistent: ${problem}`;
    expectError(res, 422, "BAD_STATS", message);
    expect((await h.rejections()).map((r) => [r.code, r.siteId, r.message])).toEqual([["BAD_STATS", site.siteId, `POST /v1/stats: ${message}`]]);
    expect(stored).toBeNull();
    expect(retry).toEqual({ status: 202, body: { complete: true } });
  });

  it("refuses a second report of statistics with DUPLICATE_STATS", async () => {
    // Prepare
    const h = new Harness();
    await h.createFederation();
    const site = await h.enrol("St Mary's", { columns: ["age", "sex", "outcome"], rows: [["50", "M", "1"]] });
    await h.postStats(site);
    const other = { age: { kind: "numeric", count: 1, mean: 60, m2: 0, missing: 0 }, sex: { kind: "categorical", counts: { F: 1 }, missing: 0 } };
    // Execute
    const res = await h.request("POST", "/v1/stats", { token: site.token, json: { rows: 1, positives: 0, features: other } });
    // Assert
    expectError(res, 409, "DUPLICATE_STATS", `site ${site.siteId} already reported statistics`);
    expect((await h.status()).sites.map((s) => s.statsReported)).toEqual([true]);
  });

  it("refuses statistics once training has started with WRONG_PHASE", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    // Execute
    const res = await h.request("POST", "/v1/stats", { token: sites[0]!.token, json: { rows: 0, positives: 0, features: {} } });
    // Assert
    expectError(res, 409, "WRONG_PHASE", "federation is in phase training, not stats");
  });
});

describe("site routes: evaluations", () => {
  it("refuses counts in another number of bins with INVALID_BODY, records them, and takes the corrected ones", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining({ rounds: 1, expectedSites: 3 });
    await h.finishRound(sites, 1);
    const site = sites[0]!;
    const scores = new Float64Array([0.2, 0.8]);
    const labels = new Uint8Array([0, 1]);
    const evaluation = (bins?: number) => {
      const counts = countPredictions(scores, labels, bins);
      return { modelVersion: 1, trainRows: 3, testRows: 2, global: counts, personalized: counts, local: counts };
    };
    // Execute
    const res = await h.request("POST", "/v1/evaluations", { token: site.token, json: evaluation(4) });
    const retry = await h.request("POST", "/v1/evaluations", { token: site.token, json: evaluation() });
    // Assert
    const message = "invalid request body: global.pos: histogram must have 1000 bins, got 4; personalized.pos: histogram must have 1000 bins, got 4; local.pos: histogram must have 1000 bins, got 4";
    expectError(res, 400, "INVALID_BODY", message);
    expect((await h.rejections()).map((r) => [r.code, r.siteId, r.message])).toEqual([["INVALID_BODY", site.siteId, `POST /v1/evaluations: ${message}`]]);
    expect(retry).toEqual({ status: 202, body: { accepted: true } });
    expect((await h.status()).final?.sites).toBe(1);
  });
});
