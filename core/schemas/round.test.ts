import { describe, expect, it } from "vitest";
import { AggregateJob, AuditRecord, Job, RoundRecord, StoredUpdate, UpdateManifest } from "./round.ts";
import { counts, issuesOf, sha } from "../../test/support/schemas.ts";

const manifest = () => ({ round: 3, samples: 120, codec: "float32", byteLength: 4096, sha256: sha, baseMetrics: counts(), trainLoss: 0.41, bytesDown: 2048 });

describe("UpdateManifest", () => {
  it("parses a site's manifest with its base-model counts", () => {
    // Execute and Assert
    expect(UpdateManifest.parse(manifest())).toEqual(manifest());
  });

  it("defaults bytesDown to 0 and accepts a manifest without metrics or loss", () => {
    // Prepare
    const { baseMetrics: _, trainLoss: __, bytesDown: ___, ...bare } = manifest();

    // Execute and Assert
    expect(UpdateManifest.parse(bare)).toEqual({ ...bare, bytesDown: 0 });
  });

  it("parses a multipart upload's id and part list, left for the coordinator to check against the task", () => {
    // Prepare: out of order, which only the task's part count can judge (see partList).
    const multipart = { ...manifest(), uploadId: "u-1", parts: [{ partNumber: 2, etag: '"b"' }, { partNumber: 1, etag: '"a"' }] };

    // Execute and Assert
    expect(UpdateManifest.parse(multipart)).toEqual(multipart);
  });

  it.each([
    ["zero samples", { samples: 0 }, [["samples", "Too small: expected number to be >0"]]],
    ["a part without an ETag", { uploadId: "u-1", parts: [{ partNumber: 1 }] }, [["parts.0.etag", "Invalid input: expected string, received undefined"]]],
    ["an uppercase checksum", { sha256: "A".repeat(64) }, [["sha256", "Invalid string: must match pattern /^[0-9a-f]{64}$/"]]],
    ["a negative training loss", { trainLoss: -1 }, [["trainLoss", "Too small: expected number to be >=0"]]],
    ["base counts whose tp disagrees with the histogram", { baseMetrics: { ...counts(), tp: 0, fn: 1 } }, [["baseMetrics.tp", "tp = 0 disagrees with the pos histogram"]]],
    ["base counts in another number of bins", { baseMetrics: counts(4) }, [["baseMetrics.pos", "histogram must have 1000 bins, got 4"]]],
  ])("rejects %s", (_, patch, expected) => {
    // Execute and Assert
    expect(issuesOf(UpdateManifest, { ...manifest(), ...patch })).toEqual(expected);
  });

  it("still reads back a stored manifest whose counts have another number of bins", () => {
    // Prepare: accepted before every site had to bin alike.
    const stored = { ...manifest(), baseMetrics: counts(4), siteId: "st-marys", receivedAt: 1 };

    // Execute and Assert
    expect(StoredUpdate.parse(stored)).toEqual(stored);
  });
});

describe("AggregateJob", () => {
  it("parses an aggregate job, also as a Job", () => {
    // Prepare
    const job = { kind: "aggregate", federation: "heart-2025", round: 4 };

    // Execute and Assert
    expect(AggregateJob.parse(job)).toEqual(job);
    expect(Job.parse(job)).toEqual(job);
  });

  it.each([
    ["round 0", AggregateJob, { kind: "aggregate", federation: "f", round: 0 }, [["round", "Too small: expected number to be >0"]]],
    ["another kind", AggregateJob, { kind: "evaluate", federation: "f", round: 1 }, [["kind", 'Invalid input: expected "aggregate"']]],
    ["another kind as a Job", Job, { kind: "evaluate", federation: "f", round: 1 }, [["kind", "Invalid discriminator value. Expected 'aggregate'"]]],
  ])("rejects %s", (_, schema, value, expected) => {
    // Execute and Assert
    expect(issuesOf(schema, value)).toEqual(expected);
  });
});

describe("RoundRecord", () => {
  it("parses a closed round", () => {
    // Prepare
    const round = { round: 2, baseVersion: 1, status: "closed", openedAt: 1000, deadline: 61000, included: ["a", "b"], rejected: [], resultVersion: 2, closedAt: 5000 };

    // Execute and Assert
    expect(RoundRecord.parse(round)).toEqual(round);
  });

  it("rejects an unknown status", () => {
    // Execute and Assert
    expect(issuesOf(RoundRecord, { round: 1, baseVersion: 0, status: "done", openedAt: 0, deadline: 1 })).toEqual([
      ["status", 'Invalid option: expected one of "open"|"aggregating"|"closed"|"skipped"'],
    ]);
  });
});

describe("AuditRecord", () => {
  it("accepts what the aggregator writes and refuses a negative weight", () => {
    // Prepare
    const record = { round: 2, baseVersion: 1, resultVersion: 2, strategy: "fedavg", included: [{ siteId: "a", weight: 10 }], rejected: [], at: 5 };

    // Execute
    const ok = AuditRecord.safeParse(record);
    const bad = AuditRecord.safeParse({ ...record, included: [{ siteId: "a", weight: -1 }] });

    // Assert
    expect(ok.success).toBe(true);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["included", 0, "weight"]);
  });
});
