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

  it("exposes objects for seeding and inspection", async () => {
    const store = new MemoryObjectStore();
    store.objects.set("federation.json", new TextEncoder().encode("{}"));
    expect(await store.head("federation.json")).toBe(2);
  });
});
