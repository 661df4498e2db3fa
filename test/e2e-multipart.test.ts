/**
 * End to end through the real wire protocol, for updates sent as S3 multipart uploads: site
 * runners whose every update goes up in parts, updates larger than the embedded S3 server takes in
 * one request, and part lists that do not complete their upload, which the coordinator refuses
 * without holding up the other sites.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { decodeUpdate, encodedSize, encodeUpdate, sha256Hex } from "../core/codec/index.ts";
import { ConsiliumError } from "../core/errors.ts";
import { silentLogger } from "../core/logger.ts";
import { computeSiteStats } from "../core/preprocess/site-stats.ts";
import type { RunReport } from "../core/schemas/report.ts";
import type { FederationStatus } from "../core/schemas/status.ts";
import type { Task } from "../core/schemas/task.ts";
import type { UploadedPart } from "../core/schemas/upload.ts";
import { AdminClient } from "../client/admin-client.ts";
import { startCoordinator, type CoordinatorServer } from "../cli/coordinator-server.ts";
import { startEmbeddedStack, type EmbeddedStack } from "../cli/embedded-stack.ts";
import { simulateOnce } from "../cli/simulate.ts";
import { withWriteOnceCache } from "../functions/adapters/write-once-cache.ts";
import { systemClock } from "../functions/ports.ts";
import { selectBackend } from "../gpu-runner/model/backend.ts";
import { CoordinatorClient } from "../client/coordinator-client.ts";
import { syntheticSites, syntheticSpec } from "./fixtures/synthetic-sites.ts";

const MiB = 1024 * 1024;
const realFetch = globalThis.fetch;
const training = { localEpochs: 1, lrSchedule: "constant", batchSize: 16, learningRate: 0.05, l2: 0, headEpochs: 1, headL2: 0.01 } as const;

describe("a federation whose sites send every update in parts", () => {
  let report: RunReport;
  const partPuts: string[] = [];

  beforeAll(async () => {
    await selectBackend("cpu");
    const sites = syntheticSites({ sites: 2, trainRows: 40, testRows: 20, seed: 3 });
    // Runners speak to the store through fetch (the coordinator's SDK does not): watch for part PUTs.
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (init?.method === "PUT" && url.includes("uploadId=")) partPuts.push(new URL(url).pathname);
      return realFetch(input, init);
    });
    try {
      // A threshold of 0 sends even a small model's update through the multipart path.
      const plan = { sites, features: syntheticSpec, model: "mlp:16", training, rounds: 2, strategy: "fedavg", codec: "float32", roundDeadlineSeconds: 120, multipartThresholdBytes: 0 } as const;
      report = await simulateOnce(plan, 1, { logger: silentLogger });
    } finally {
      fetchSpy.mockRestore();
    }
  }, 60_000);

  it("completes every round with every site's update, each sent as a one-part multipart upload, and no rejection", () => {
    expect(report.rounds.map((r) => [r.round, r.status, r.sites])).toEqual([[1, "closed", 2], [2, "closed", 2]]);
    expect(report.rejections).toBe(0);
    expect(partPuts.sort()).toEqual(["000001/updates/site-01", "000001/updates/site-02", "000002/updates/site-01", "000002/updates/site-02"].map((k) => `/consilium/runs/000001/rounds/${k}.bin`));
    expect(report.sites.map((s) => s.accuracy.global !== null)).toEqual([true, true]);
  });
});

describe("updates larger than one request to the embedded S3 server, and part lists that do not complete them", () => {
  // Five inputs and two hidden layers of 1,750: 3,076,501 body values, 11.7 MiB as float32.
  const bodySize = 3_076_501;
  const sites = syntheticSites({ sites: 2, trainRows: 20, testRows: 10, seed: 4 });
  const clients: CoordinatorClient[] = [];
  const tasks: Extract<Task, { kind: "train" }>[] = [];
  const answers: string[] = [];
  let stack: EmbeddedStack;
  let coordinator: CoordinatorServer;
  let status: FederationStatus;
  let base: Float32Array;
  let model1: Float32Array;

  const answer = (post: Promise<unknown>): Promise<string> =>
    post.then(() => "accepted", (err: unknown) => (err instanceof ConsiliumError ? `${err.status} ${err.code}` : String(err)));

  beforeAll(async () => {
    stack = await startEmbeddedStack();
    const adminToken = randomBytes(24).toString("base64url");
    // The coordinator's default threshold and part size (8 MiB): each update goes up in two parts.
    const deps = { store: withWriteOnceCache(stack.store), queue: stack.queue, clock: systemClock, logger: silentLogger, adminToken, pollMs: 25 };
    coordinator = await startCoordinator({ deps, sqs: stack.sqs, queueUrl: stack.queueUrl, cronMs: 500 });
    const admin = new AdminClient(coordinator.url, adminToken);
    await admin.createFederation({
      id: "big-updates", features: syntheticSpec, model: { kind: "mlp", hidden: [1750, 1750] }, training, rounds: 1, expectedSites: 2,
      roundDeadlineSeconds: 120, strategy: "fedavg", codec: "float32", seed: 1,
    });
    for (const [i, site] of sites.entries()) {
      const client = new CoordinatorClient(coordinator.url, (await admin.enrol(site.name, `site-${i + 1}`)).token);
      const stats = await client.task();
      if (stats.kind !== "stats") throw new Error(`expected a stats task, got ${stats.kind}`);
      await client.postStats(computeSiteStats(site.train, stats.features));
      clients.push(client);
    }
    for (const client of clients) {
      const task = await client.task();
      if (task.kind !== "train") throw new Error(`expected a train task, got ${task.kind}`);
      tasks.push(task);
    }
    base = decodeUpdate(await clients[0]!.download(tasks[0]!.model), { length: bodySize, codec: "float32" }).values;

    // Site i sends the constant delta (i + 1) / 1000, as a site runner would: parts first, then the manifest.
    const send = async (i: number) => {
      const bytes = encodeUpdate(new Float32Array(bodySize).fill((i + 1) / 1000), "float32");
      const { uploadId = "", parts = [] } = await clients[i]!.sendUpdate(tasks[i]!.upload, bytes);
      return { manifest: { round: 1, samples: 10, codec: "float32", byteLength: bytes.length, sha256: sha256Hex(bytes), bytesDown: 0 }, uploadId, parts };
    };
    const [a, b] = [await send(0), await send(1)];
    const [siteA, siteB] = [clients[0]!, clients[1]!];
    const [first, second] = [a.parts[0]!, a.parts[1]!];
    const withParts = (parts: UploadedPart[]) => ({ ...a.manifest, uploadId: a.uploadId, parts });
    answers.push(
      await answer(siteA.postUpdate(a.manifest)),
      await answer(siteA.postUpdate(withParts([first]))),
      await answer(siteA.postUpdate(withParts([second, first]))),
      await answer(siteA.postUpdate(withParts([first, { ...second, etag: first.etag }]))),
      await answer(siteA.postUpdate(withParts([first, second]))),
      // A retried submission finds its upload completed and its update already taken: answered as the first was.
      await answer(siteA.postUpdate(withParts([first, second]))),
      await answer(siteB.postUpdate({ ...b.manifest, uploadId: b.uploadId, parts: b.parts })),
    );
    status = await admin.status();
    // Closed, and the run moved on to its evaluation (the round's record is written before the state).
    for (let tries = 0; (status.roundLog[0]?.status !== "closed" || status.state.phase === "training") && tries < 100; tries++) status = (await delay(100), await admin.status());
    const next = await clients[0]!.task();
    if (next.kind !== "evaluate") throw new Error(`expected an evaluate task, got ${next.kind}`);
    model1 = decodeUpdate(await clients[0]!.download(next.model), { length: bodySize, codec: "float32" }).values;
  }, 60_000);
  afterAll(async () => {
    await coordinator?.stop();
    await stack?.stop();
  });

  it("hands each site a two-part upload for an update over 11 MiB", () => {
    const upload = tasks[0]!.upload;
    expect(upload.byteLength).toBe(encodedSize(bodySize, "float32"));
    expect(upload.byteLength).toBeGreaterThan(11 * MiB);
    expect(upload).toMatchObject({ kind: "multipart", partBytes: 8 * MiB });
    expect(upload.kind === "multipart" && upload.parts.map((p) => p.partNumber)).toEqual([1, 2]);
  });

  it("refuses a missing, short, reordered or mis-tagged part list with 422 INVALID_PARTS and records each", () => {
    expect(answers).toEqual(["422 INVALID_PARTS", "422 INVALID_PARTS", "422 INVALID_PARTS", "422 INVALID_PARTS", "accepted", "accepted", "accepted"]);
    expect(status.rejections.map((r) => [r.siteId, r.round, r.code])).toEqual(Array.from({ length: 4 }, () => ["site-1", 1, "INVALID_PARTS"]));
    expect(status.rejections[3]?.message).toContain("InvalidPart");
  });

  it("aggregates both sites' updates into a model written and read back through multipart", () => {
    // Prepare: FedAvg at server rate 1 adds the sample-weighted mean delta, (0.001 + 0.002) / 2.
    const expected = (i: number) => (base[i] ?? 0) + 0.0015;
    // Assert
    expect(status.roundLog[0]).toMatchObject({ round: 1, status: "closed", updates: 2 });
    expect(model1).toHaveLength(bodySize);
    for (const i of [0, 1, bodySize >> 1, bodySize - 1]) expect(model1[i]).toBeCloseTo(expected(i), 6);
  });
});
