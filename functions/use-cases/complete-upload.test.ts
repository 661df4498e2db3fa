import { describe, expect, it } from "vitest";
import { encodedSize, encodeUpdate, sha256Hex } from "../../core/codec/index.ts";
import { StoredUpdate } from "../../core/schemas/round.ts";
import type { UploadedPart } from "../../core/schemas/upload.ts";
import { CoordinatorClient } from "../../client/coordinator-client.ts";
import { MemoryObjectStore } from "../adapters/memory-object-store.ts";
import { keys } from "../keys.ts";
import { readJson } from "../repo.ts";
import { BODY_SIZE, delta, FlakyStore, Harness, T0, testDeps, type TestSite } from "../../test/support/coordinator.ts";

/** Parts of 40 bytes: a float32 update of the test body (100 bytes) goes up in three. */
const PART = 40;
const SIZE = encodedSize(BODY_SIZE, "float32");

/** Every update above 0 bytes goes up in parts, to a memory store that takes parts that small. */
function multipartHarness(store?: MemoryObjectStore): Harness {
  return new Harness({ ...testDeps(store ? { store } : { minPartBytes: PART }), multipartThresholdBytes: 0, uploadPartBytes: PART });
}

/** A site runner's client whose PUTs land in the memory store, answering the ETag as S3 does. */
function siteClient(store: MemoryObjectStore): CoordinatorClient {
  return new CoordinatorClient("http://coordinator.test", "unused", async (input, init) => {
    const etag = await store.putWithUrl(String(input), init?.body as Uint8Array);
    return new Response(null, { status: 200, headers: { etag } });
  });
}

/** What a site does for round 1: its task, the update PUT part by part, and the manifest with the part list. */
async function sendInParts(h: Harness, site: TestSite, k: number, samples: number) {
  const task = await h.task(site);
  if (task.kind !== "train" || task.upload.kind !== "multipart") throw new Error(`expected a multipart train task, got ${JSON.stringify(task).slice(0, 80)}`);
  const bytes = encodeUpdate(delta(k), "float32");
  const parts = await siteClient(h.root.store).uploadParts(task.upload, bytes);
  return { bytes, manifest: { round: 1, samples, codec: "float32", byteLength: bytes.length, sha256: sha256Hex(bytes), uploadId: task.upload.uploadId, parts } };
}

describe("completeUpload: the task", () => {
  it("hands out one presigned URL per part above the threshold, each scoped to its part's length", async () => {
    // Prepare
    const h = multipartHarness();
    const [site] = await h.startTraining();
    // Execute
    const task = await h.task(site!);
    // Assert
    if (task.kind !== "train" || task.upload.kind !== "multipart") throw new Error("expected a multipart upload");
    const { uploadId, parts } = task.upload;
    expect(task.upload).toMatchObject({ kind: "multipart", partBytes: PART, byteLength: SIZE });
    expect(parts.map((p) => h.root.store.parsePresigned(p.url))).toEqual([40, 40, 20].map((contentLength, i) => ({
      op: "part", key: keys.runPrefix(1) + keys.updateBin(1, site!.siteId), uploadId, partNumber: i + 1, contentLength, expiresAt: T0 + 3_600_000,
    })));
  });
});

describe("completeUpload: through submitUpdate", () => {
  it("completes the upload from the manifest's part list, then verifies and keeps the bytes, and not the list", async () => {
    // Prepare
    const h = multipartHarness();
    const [site] = await h.startTraining();
    const { bytes, manifest } = await sendInParts(h, site!, 1, 3);
    // Execute
    const res = await h.postUpdate(site!, 1, manifest);
    // Assert
    expect(res).toEqual({ status: 202, body: { queued: false } });
    expect(await h.deps.store.get(keys.acceptedBin(1, site!.siteId, manifest.sha256))).toEqual(bytes);
    const stored = await readJson(h.deps.store, keys.updateManifest(1, site!.siteId), StoredUpdate);
    expect(stored).toEqual({ round: 1, samples: 3, codec: "float32", byteLength: SIZE, sha256: manifest.sha256, bytesDown: 0, siteId: site!.siteId, receivedAt: T0 });
  });

  const swap = (parts: UploadedPart[]): UploadedPart[] => [parts[1]!, parts[0]!, parts[2]!];
  it.each<[string, (m: { uploadId: string; parts: UploadedPart[] }) => object, string]>([
    ["no part list", () => ({ uploadId: undefined, parts: undefined }), `an update of ${SIZE} bytes goes up in 3 parts; the manifest must give the task's uploadId and every part's ETag`],
    ["no upload id", () => ({ uploadId: undefined }), `an update of ${SIZE} bytes goes up in 3 parts; the manifest must give the task's uploadId and every part's ETag`],
    ["a short list", (m) => ({ parts: m.parts.slice(0, 2) }), "part list: the upload has 3 parts, the list names 2"],
    ["a reordered list", (m) => ({ parts: swap(m.parts) }), "part list: parts.0.partNumber: expected part 1, got 2; parts.1.partNumber: expected part 2, got 1"],
    ["an empty ETag", (m) => ({ parts: m.parts.map((p, i) => (i === 2 ? { ...p, etag: "" } : p)) }), "part list: parts.2.etag: part 3 has an empty ETag"],
    ["another part's ETag", (m) => ({ parts: m.parts.map((p) => ({ ...p, etag: m.parts[0]!.etag })) }), "the store refused the part list (InvalidPart): part 2 was not uploaded or has another ETag"],
  ])("refuses %s with 422 INVALID_PARTS, recorded, and takes the corrected list", async (_, spoil, message) => {
    // Prepare
    const h = multipartHarness();
    const [site] = await h.startTraining();
    const { manifest } = await sendInParts(h, site!, 1, 3);
    // Execute
    const refused = await h.postUpdate(site!, 1, { ...manifest, ...spoil(manifest) });
    const corrected = await h.postUpdate(site!, 1, manifest);
    // Assert
    expect(refused).toEqual({ status: 422, body: { error: { code: "INVALID_PARTS", message } } });
    expect(await h.rejections()).toEqual([{ at: T0, siteId: site!.siteId, round: 1, code: "INVALID_PARTS", message: `POST /v1/rounds/1/updates: ${message}` }]);
    expect(corrected.status).toBe(202);
  });

  it("refuses the id of an upload it never began, naming the store's reason", async () => {
    const h = multipartHarness();
    const [site] = await h.startTraining();
    const { manifest } = await sendInParts(h, site!, 1, 3);
    const res = await h.postUpdate(site!, 1, { ...manifest, uploadId: "not-an-upload" });
    expect(res).toMatchObject({ status: 422, body: { error: { code: "INVALID_PARTS", message: expect.stringContaining("(NoSuchUpload)") } } });
  });

  it("refuses a part list with an update that goes up in one PUT", async () => {
    // Prepare: the default threshold, 8 MiB.
    const h = new Harness();
    const [site] = await h.startTraining();
    const manifest = await h.upload(site!, 1, delta(1), 3);
    // Execute
    const res = await h.postUpdate(site!, 1, { ...manifest, uploadId: "u", parts: [{ partNumber: 1, etag: '"e"' }] });
    // Assert
    const message = `an update of ${SIZE} bytes goes up in one PUT; the manifest must not name an upload or parts`;
    expect(res).toEqual({ status: 422, body: { error: { code: "INVALID_PARTS", message } } });
  });

  it("keeps other sites' updates standing while one site's list is refused, and aggregates once it is corrected", async () => {
    // Prepare
    const h = multipartHarness();
    const [a, b, c] = (await h.startTraining()) as [TestSite, TestSite, TestSite];
    const sent = [await sendInParts(h, a, 1, 3), await sendInParts(h, b, 2, 2), await sendInParts(h, c, 3, 4)];
    // Execute
    const refused = await h.postUpdate(a, 1, { ...sent[0]!.manifest, parts: sent[0]!.manifest.parts.slice(1) });
    const others = [await h.postUpdate(b, 1, sent[1]!.manifest), await h.postUpdate(c, 1, sent[2]!.manifest)];
    const corrected = await h.postUpdate(a, 1, sent[0]!.manifest);
    const outcomes = await h.runJobs();
    // Assert
    expect([refused.status, ...others.map((r) => r.body), corrected.body]).toEqual([422, { queued: false }, { queued: false }, { queued: true }]);
    expect(outcomes).toHaveLength(1);
    expect((await h.round(1))?.included).toEqual([a.siteId, b.siteId, c.siteId].sort());
  });

  it("takes a retried submission whose upload the first one completed before failing", async () => {
    // Prepare: the first submission completes the upload, then dies writing the manifest.
    const store = new FlakyStore({ minPartBytes: PART });
    const h = multipartHarness(store);
    const [site] = await h.startTraining();
    const { manifest } = await sendInParts(h, site!, 1, 3);
    store.failNextPut((key) => key === keys.updateManifest(1, site!.siteId));
    // Execute
    const failed = await h.postUpdate(site!, 1, manifest);
    const retried = await h.postUpdate(site!, 1, manifest);
    // Assert
    expect(failed.status).toBe(500);
    expect(retried).toEqual({ status: 202, body: { queued: false } });
  });

  it("verifies the bytes of a new upload after a completed one was refused, not the refused bytes", async () => {
    // Prepare: the first manifest's checksum is wrong, which only shows once the upload is complete.
    const h = multipartHarness();
    const [site] = await h.startTraining();
    const first = await sendInParts(h, site!, 1, 3);
    const refused = await h.postUpdate(site!, 1, { ...first.manifest, sha256: "0".repeat(64) });
    // Execute: the site asks again, and sends another update under the new task's upload.
    const second = await sendInParts(h, site!, 2, 3);
    const accepted = await h.postUpdate(site!, 1, second.manifest);
    // Assert
    expect(refused.body).toMatchObject({ error: { code: "CHECKSUM_MISMATCH" } });
    expect(second.manifest.uploadId).not.toBe(first.manifest.uploadId);
    expect(accepted.status).toBe(202);
    expect(await h.deps.store.get(keys.acceptedBin(1, site!.siteId, second.manifest.sha256))).toEqual(second.bytes);
  });

  it("takes a site's new upload after one it abandoned half-way, and aggregates the same model as without the abandoned one", async () => {
    // Prepare: two identical federations; in one, site a's runner dies after the first of three parts.
    const [clean, faulty] = [multipartHarness(), multipartHarness()];
    const run = async (h: Harness, abandon: boolean) => {
      const [a, b, c] = (await h.startTraining()) as [TestSite, TestSite, TestSite];
      if (abandon) {
        const task = await h.task(a);
        if (task.kind !== "train" || task.upload.kind !== "multipart") throw new Error("expected a multipart upload");
        await siteClient(h.root.store).uploadParts({ ...task.upload, parts: task.upload.parts.slice(0, 1) }, encodeUpdate(delta(9), "float32"));
      }
      // Execute: the restarted runner asks for its task again and sends its update whole.
      for (const [site, k] of [[a, 1], [b, 2], [c, 3]] as const) {
        const { manifest } = await sendInParts(h, site, k, site.table.rows.length);
        expect((await h.postUpdate(site, 1, manifest)).body).toEqual({ queued: site === c });
      }
      expect(await h.runJobs()).toEqual(["aggregated"]);
      return h.deps.store.get(keys.modelWeights(1));
    };
    // Assert
    expect(await run(faulty, true)).toEqual(await run(clean, false));
  });
});
