import { describe, expect, it } from "vitest";
import { ByteReader } from "./byte-reader.ts";

async function* chunks(parts: number[][]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Uint8Array.from(part);
}

describe("ByteReader", () => {
  it("reads exact counts across chunk boundaries", async () => {
    const reader = new ByteReader(chunks([[1, 2], [3], [], [4, 5, 6, 7]]));
    const a = new Uint8Array(3);
    const b = new Uint8Array(4);
    await reader.readInto(a);
    await reader.readInto(b);
    expect([...a, ...b]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(reader.position).toBe(7);
    await expect(reader.expectEnd()).resolves.toBeUndefined();
  });

  it("says TRUNCATED when the stream ends early and SIZE_MISMATCH when bytes follow", async () => {
    await expect(new ByteReader(chunks([[1, 2]])).readInto(new Uint8Array(3))).rejects.toMatchObject({ code: "TRUNCATED" });
    const reader = new ByteReader(chunks([[1, 2], [3]]));
    await reader.readInto(new Uint8Array(2));
    await expect(reader.expectEnd()).rejects.toMatchObject({ code: "SIZE_MISMATCH" });
  });

  it("stops the stream on close, and pulls no more than it is asked for", async () => {
    let pulled = 0;
    let finished = false;
    async function* counted(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          pulled++;
          yield new Uint8Array(10);
        }
      } finally {
        finished = true;
      }
    }
    const reader = new ByteReader(counted());
    await reader.readInto(new Uint8Array(25));
    expect(pulled).toBe(3);
    await reader.close();
    await reader.close();
    expect(finished).toBe(true);
    await expect(reader.readInto(new Uint8Array(1))).rejects.toMatchObject({ code: "TRUNCATED" });
  });
});
