import { describe, expect, it } from "vitest";
import { MemoryObjectStore } from "./memory-object-store.ts";
import { isWriteOnce, withWriteOnceCache } from "./write-once-cache.ts";
import type { ObjectStore } from "../ports.ts";

function counting(store: ObjectStore): { store: ObjectStore; gets: string[] } {
  const gets: string[] = [];
  return { gets, store: { ...bind(store), get: (k) => (gets.push(k), store.get(k)) } };
}

function bind(s: ObjectStore): ObjectStore {
  return {
    get: (k) => s.get(k),
    getStream: (k) => s.getStream(k),
    put: (k, b, o) => s.put(k, b, o),
    head: (k) => s.head(k),
    list: (p) => s.list(p),
    delete: (k) => s.delete(k),
    presignGet: (k, e) => s.presignGet(k, e),
    presignPut: (k, e, l) => s.presignPut(k, e, l),
    presignMultipart: (k, e, l, p) => s.presignMultipart(k, e, l, p),
    completeMultipart: (k, u, p) => s.completeMultipart(k, u, p),
  };
}

describe("withWriteOnceCache", () => {
  it("knows which keys are written once", () => {
    // Prepare
    const once = ["federation.json", "preprocessing.json", "quality.json", "runs/2/quality.json", "sites/a.json", "models/000003/weights.bin", "rounds/000002/included.json", `rounds/000002/accepted/a/${"ab".repeat(32)}.bin`];
    const mutable = ["state.json", "rounds/000002/round.json", "rounds/000002/updates/a.bin", "rounds/000002/updates/a.json", "rejections/1-a.json", "stats-failure.json"];

    // Execute
    const verdicts = [...once, ...mutable].map(isWriteOnce);

    // Assert
    expect(verdicts).toEqual([...once.map(() => true), ...mutable.map(() => false)]);
  });

  it("serves a write-once object it wrote with If-None-Match without reading it back, and only that", async () => {
    // Prepare
    const counted = counting(new MemoryObjectStore());
    const cache = withWriteOnceCache(counted.store);
    const weights = "models/000004/weights.bin";
    await counted.store.put("federation.json", "theirs");

    // Execute
    const buffer = Uint8Array.of(1, 2, 3);
    const wrote = await cache.put(weights, buffer, { ifAbsent: true });
    // A caller that reuses its buffer after the write does not change what was cached.
    buffer.fill(9);
    const lost = await cache.put("federation.json", "mine", { ifAbsent: true });
    await cache.put("preprocessing.json", "{}");
    await cache.put("state.json", "{}", { ifAbsent: true });
    const reads = [await cache.get(weights), await cache.get("federation.json"), await cache.get("preprocessing.json"), await cache.get("state.json")];

    // A won write replaces whatever the cache held under its key (it proves the store held nothing there).
    const replaced = withWriteOnceCache(new MemoryObjectStore());
    await replaced.put("models/000005/weights.bin", Uint8Array.of(7), { ifAbsent: true });
    await replaced.delete("models/000005/weights.bin");
    await replaced.put("models/000005/weights.bin", Uint8Array.of(8), { ifAbsent: true });
    expect(await replaced.get("models/000005/weights.bin")).toEqual(Uint8Array.of(8));

    // Assert: the won write is served from memory; a lost one, a plain put and a mutable key are read from the store.
    expect([wrote, lost]).toEqual([true, false]);
    expect(reads.map((r) => Buffer.from(r ?? []).toString("latin1"))).toEqual(["\x01\x02\x03", "theirs", "{}", "{}"]);
    expect(counted.gets).toEqual(["federation.json", "preprocessing.json", "state.json"]);
  });

  it("reads a write-once object from the store only once", async () => {
    // Prepare
    const inner = counting(new MemoryObjectStore());
    await inner.store.put("models/000001/weights.bin", new Uint8Array([1, 2, 3]));
    const cached = withWriteOnceCache(inner.store);

    // Execute
    const first = await cached.get("models/000001/weights.bin");
    const second = await cached.get("models/000001/weights.bin");

    // Assert
    expect([...(second ?? [])]).toEqual([1, 2, 3]);
    expect(second).toBe(first);
    expect(inner.gets).toEqual(["models/000001/weights.bin"]);
  });

  it("always reads mutable objects and absent ones from the store", async () => {
    // Prepare
    const inner = counting(new MemoryObjectStore());
    const cached = withWriteOnceCache(inner.store);
    await cached.put("state.json", "{}");

    // Execute
    await cached.get("state.json");
    await cached.put("state.json", '{"phase":"done"}');
    const state = await cached.get("state.json");
    const absent = await cached.get("models/000009/manifest.json");
    await inner.store.put("models/000009/manifest.json", "{}");
    const later = await cached.get("models/000009/manifest.json");

    // Assert
    expect(new TextDecoder().decode(state ?? new Uint8Array())).toBe('{"phase":"done"}');
    expect(absent).toBeNull();
    expect(new TextDecoder().decode(later ?? new Uint8Array())).toBe("{}");
    expect(inner.gets).toEqual(["state.json", "state.json", "models/000009/manifest.json", "models/000009/manifest.json"]);
  });

  it("evicts the oldest entries beyond its byte budget", async () => {
    // Prepare
    const inner = counting(new MemoryObjectStore());
    for (const v of [1, 2, 3]) await inner.store.put(`models/00000${v}/weights.bin`, new Uint8Array(4).fill(v));
    const cached = withWriteOnceCache(inner.store, 8);

    // Execute
    for (const v of [1, 2, 3]) await cached.get(`models/00000${v}/weights.bin`);
    await cached.get("models/000003/weights.bin");
    await cached.get("models/000001/weights.bin");

    // Assert
    expect(inner.gets).toEqual(["models/000001/weights.bin", "models/000002/weights.bin", "models/000003/weights.bin", "models/000001/weights.bin"]);
  });

  it("shares one store read among concurrent misses on a key, and counts its bytes once", async () => {
    // Prepare: a budget of two 4-byte objects.
    const inner = counting(new MemoryObjectStore());
    for (const v of [1, 2]) await inner.store.put(`models/00000${v}/weights.bin`, new Uint8Array(4).fill(v));
    const cached = withWriteOnceCache(inner.store, 8);

    // Execute
    const concurrent = await Promise.all([1, 2, 3].map(() => cached.get("models/000001/weights.bin")));
    await cached.get("models/000002/weights.bin");
    await cached.get("models/000001/weights.bin");
    await cached.get("models/000002/weights.bin");

    // Assert: both objects still fit, so neither is read again.
    expect(concurrent.map((v) => [...(v ?? [])])).toEqual([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]);
    expect(inner.gets).toEqual(["models/000001/weights.bin", "models/000002/weights.bin"]);
  });

  it("lets every concurrent miss see a failed read, and reads again on the next miss", async () => {
    // Prepare
    const inner = new MemoryObjectStore();
    await inner.put("models/000001/weights.bin", new Uint8Array([1]));
    let failures = 1;
    const gets: string[] = [];
    const flaky: ObjectStore = {
      ...bind(inner),
      get: async (k) => {
        gets.push(k);
        if (failures-- > 0) throw new Error("connection reset");
        return inner.get(k);
      },
    };
    const cached = withWriteOnceCache(flaky);

    // Execute
    const concurrent = await Promise.allSettled([1, 2].map(() => cached.get("models/000001/weights.bin")));
    const later = await cached.get("models/000001/weights.bin");

    // Assert
    expect(concurrent.map((r) => (r.status === "rejected" ? String(r.reason) : "fulfilled"))).toEqual(["Error: connection reset", "Error: connection reset"]);
    expect([...(later ?? [])]).toEqual([1]);
    expect(gets).toEqual(["models/000001/weights.bin", "models/000001/weights.bin"]);
  });

  it("frees a deleted object's bytes from its budget", async () => {
    // Prepare
    const inner = counting(new MemoryObjectStore());
    for (const v of [1, 2, 3]) await inner.store.put(`models/00000${v}/weights.bin`, new Uint8Array(4).fill(v));
    const cached = withWriteOnceCache(inner.store, 8);
    await cached.get("models/000001/weights.bin");
    await cached.get("models/000002/weights.bin");

    // Execute
    await cached.delete("models/000001/weights.bin");
    await cached.get("models/000003/weights.bin");
    await cached.get("models/000002/weights.bin");

    // Assert: 2 and 3 fit once 1's bytes are gone.
    expect(inner.gets).toEqual(["models/000001/weights.bin", "models/000002/weights.bin", "models/000003/weights.bin"]);
  });

  it("forgets a cached object that a completed multipart upload replaces", async () => {
    // Prepare
    const inner = new MemoryObjectStore({ minPartBytes: 1 });
    const cached = withWriteOnceCache(inner);
    await inner.put("models/000001/weights.bin", new Uint8Array([1]));
    await cached.get("models/000001/weights.bin");
    const { uploadId, parts } = await cached.presignMultipart("models/000001/weights.bin", 60, 2, 1);
    const etags = [];
    for (const p of parts) etags.push({ partNumber: p.partNumber, etag: await inner.putWithUrl(p.url, new Uint8Array([2])) });

    // Execute
    await cached.completeMultipart("models/000001/weights.bin", uploadId, etags);

    // Assert
    expect(await cached.get("models/000001/weights.bin")).toEqual(new Uint8Array([2, 2]));
  });
});
