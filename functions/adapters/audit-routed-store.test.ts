import { describe, expect, it } from "vitest";
import { keys } from "../keys.ts";
import { withAuditStore } from "./audit-routed-store.ts";
import { MemoryObjectStore } from "./memory-object-store.ts";

describe("withAuditStore", () => {
  it("keeps the trail's records and checkpoints in the audit store, everything else in the state store, and lists across both in key order", async () => {
    const state = new MemoryObjectStore();
    const audit = new MemoryObjectStore();
    const store = withAuditStore(state, audit);
    await store.put(keys.auditRecord(1), "r1");
    await store.put(keys.auditCheckpoint(1), "c1");
    await store.put(keys.auditHead, "head");
    await store.put(keys.auditDownload("site-01", "run-1-model"), "d");
    await store.put(keys.federation, "f");
    expect(await audit.list("")).toEqual([keys.auditCheckpoint(1), keys.auditRecord(1)]);
    expect(await state.list("")).toEqual([keys.auditDownload("site-01", "run-1-model"), keys.auditHead, keys.federation]);
    expect(await store.list("audit/")).toEqual([keys.auditCheckpoint(1), keys.auditDownload("site-01", "run-1-model"), keys.auditHead, keys.auditRecord(1)]);
    expect(await store.list("")).toEqual([...(await store.list("audit/")), keys.federation]);
    expect(await store.list(keys.auditRecordsPrefix)).toEqual([keys.auditRecord(1)]);
    expect(await store.list("rounds/")).toEqual([]);
    // Write-once holds in the audit store as in any other.
    expect(await store.put(keys.auditRecord(1), "other", { ifAbsent: true })).toBe(false);
    expect(Buffer.from((await store.get(keys.auditRecord(1)))!).toString()).toBe("r1");
    expect(await store.head(keys.auditRecord(1))).toBe(2);
  });
});
