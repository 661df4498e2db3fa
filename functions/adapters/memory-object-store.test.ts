import { describe, expect, it } from "vitest";
import { MemoryObjectStore } from "./memory-object-store.ts";

// The ObjectStore contract shared with S3ObjectStore runs in s3-object-store.test.ts; these cover what is memory-only.
describe("MemoryObjectStore", () => {
  const clock = { now: () => 1_000_000 };

  it("presigns a PUT scoped to key and length", async () => {
    // Prepare
    const store = new MemoryObjectStore({ bucket: "state", clock });
    // Execute
    const url = await store.presignPut("rounds/3/updates/site a.bin", 60, 4096);
    // Assert
    expect(url).toBe("memory://state/rounds/3/updates/site%20a.bin?op=put&len=4096&expires=1060000");
    expect(store.parsePresigned(url)).toEqual({ op: "put", key: "rounds/3/updates/site a.bin", expiresAt: 1_060_000, contentLength: 4096 });
  });

  it("presigns a GET", async () => {
    const store = new MemoryObjectStore({ clock });
    const url = await store.presignGet("models/2/weights.bin", 30);
    expect(url).toBe("memory://consilium/models/2/weights.bin?op=get&expires=1030000");
    expect(store.parsePresigned(url)).toEqual({ op: "get", key: "models/2/weights.bin", expiresAt: 1_030_000 });
  });

  it("does not parse another store's URLs or other schemes", () => {
    const store = new MemoryObjectStore();
    expect(store.parsePresigned("memory://other/k?op=get&expires=1")).toBeNull();
    expect(store.parsePresigned("https://consilium/k?op=get&expires=1")).toBeNull();
    expect(store.parsePresigned("memory://consilium/k?op=delete")).toBeNull();
    expect(store.parsePresigned("not a url")).toBeNull();
  });

  it("rejects a presigned PUT without a valid length", async () => {
    const store = new MemoryObjectStore();
    await expect(store.presignPut("k", 60, 1.5)).rejects.toThrow("contentLength must be a non-negative integer, got 1.5");
  });

  it("presigns one PUT per part, each scoped to its upload, number and length", async () => {
    // Prepare
    const store = new MemoryObjectStore({ clock, minPartBytes: 4 });
    // Execute
    const { uploadId, parts } = await store.presignMultipart("rounds/3/updates/a.bin", 60, 10, 4);
    // Assert
    expect(parts.map((p) => p.url)).toEqual([1, 2, 3].map((n) => `memory://consilium/rounds/3/updates/a.bin?op=part&upload=${uploadId}&part=${n}&len=${n < 3 ? 4 : 2}&expires=1060000`));
    expect(store.parsePresigned(parts[2]!.url)).toEqual({ op: "part", key: "rounds/3/updates/a.bin", uploadId, partNumber: 3, contentLength: 2, expiresAt: 1_060_000 });
  });

  it("refuses, as S3 does, a PUT of another length, past its expiry, or to a URL that grants no PUT", async () => {
    // Prepare
    const now = { ms: 1_000_000 };
    const store = new MemoryObjectStore({ clock: { now: () => now.ms } });
    const put = await store.presignPut("k", 60, 3);
    // Execute
    const wrongLength = store.putWithUrl(put, new Uint8Array(4));
    now.ms += 60_001;
    const expired = store.putWithUrl(put, new Uint8Array(3));
    const get = store.putWithUrl(await store.presignGet("k", 60), new Uint8Array(3));
    // Assert
    await expect(wrongLength).rejects.toThrow("presigned URL for k takes 3 bytes, got 4");
    await expect(expired).rejects.toThrow("presigned URL for k expired");
    await expect(get).rejects.toThrow("not a presigned PUT of this store: memory://consilium/k?op=get&expires=1120001");
    expect(await store.head("k")).toBeNull();
  });

  it("answers a single PUT's ETag as S3 does: the body's MD5, quoted", async () => {
    const store = new MemoryObjectStore();
    const etag = await store.putWithUrl(await store.presignPut("k", 60, 3), new TextEncoder().encode("abc"));
    expect(etag).toBe('"900150983cd24fb0d6963f7d28e17f72"');
    expect(await store.get("k")).toEqual(new TextEncoder().encode("abc"));
  });

  it("exposes objects for seeding and inspection", async () => {
    const store = new MemoryObjectStore();
    store.objects.set("federation.json", new TextEncoder().encode("{}"));
    expect(await store.head("federation.json")).toBe(2);
  });
});
