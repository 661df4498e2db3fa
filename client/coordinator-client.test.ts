import { describe, expect, it } from "vitest";
import type { MultipartUpload } from "../core/schemas/upload.ts";
import { CoordinatorClient } from "./coordinator-client.ts";

/** Patience for a few attempts 1 ms apart, and for a few within 50 ms. */
const THREE_TRIES = { patienceMs: 5, firstPauseMs: 1, maxPauseMs: 1 };
const BRIEF = { patienceMs: 50, firstPauseMs: 2, maxPauseMs: 10 };

const upload: MultipartUpload = {
  kind: "multipart",
  uploadId: "u-1",
  partBytes: 4,
  parts: [1, 2, 3].map((partNumber) => ({ partNumber, url: `https://store.example/a.bin?partNumber=${partNumber}&uploadId=u-1` })),
  byteLength: 10,
};

/** A store that answers each PUT with `answer(partNumber)` and keeps what it was sent. */
function storeFetch(answer: (partNumber: number) => Response) {
  const sent: [number, number[]][] = [];
  const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const partNumber = Number(new URL(String(input)).searchParams.get("partNumber"));
    sent.push([partNumber, [...(init?.body as Uint8Array)]]);
    return answer(partNumber);
  };
  return { sent, fetchFn: fetchFn as typeof fetch };
}

describe("CoordinatorClient.sendUpdate", () => {
  it("PUTs each part's bytes to its URL, one after another, and answers the upload id and every ETag", async () => {
    // Prepare
    const { sent, fetchFn } = storeFetch((n) => new Response(null, { headers: { etag: `"e${n}"` } }));
    const client = new CoordinatorClient("https://coordinator.example", "token", fetchFn);
    // Execute
    const manifestPart = await client.sendUpdate(upload, Uint8Array.from({ length: 10 }, (_, i) => i));
    // Assert
    expect(sent).toEqual([[1, [0, 1, 2, 3]], [2, [4, 5, 6, 7]], [3, [8, 9]]]);
    expect(manifestPart).toEqual({ uploadId: "u-1", parts: [1, 2, 3].map((partNumber) => ({ partNumber, etag: `"e${partNumber}"` })) });
    expect(client.traffic.up).toBe(10);
  });

  it("stops at a part the store refuses, or answers without an ETag, with UPLOAD_FAILED", async () => {
    // Prepare
    const refused = storeFetch((n) => (n === 2 ? new Response("SlowDown", { status: 503 }) : new Response(null, { headers: { etag: '"e"' } })));
    const silent = storeFetch(() => new Response(null));
    // Execute
    const outcomes = await Promise.all([refused, silent].map(({ fetchFn }) => new CoordinatorClient("https://c.example", "t", fetchFn, { policy: THREE_TRIES }).sendUpdate(upload, new Uint8Array(10)).catch((e: unknown) => e)));
    // Assert
    expect(outcomes).toMatchObject([
      { code: "UPLOAD_FAILED", message: "upload of part 2 failed: HTTP 503 SlowDown" },
      { code: "UPLOAD_FAILED", message: "the store answered part 1 without an ETag" },
    ]);
    // A 503 is sent again while the patience lasts; nothing after the refused part goes.
    const parts = refused.sent.map(([n]) => n);
    expect(parts[0]).toBe(1);
    expect(parts.slice(1).every((n) => n === 2) && parts.length >= 3).toBe(true);
  });
});

describe("CoordinatorClient's requests to the store", () => {
  const bytes = Uint8Array.from([1, 2, 3]);
  const ref = { version: 2, url: "https://store.example/m.bin", byteLength: 3, sha256: "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81" };

  it("downloads again after a dropped connection or a 5xx, and says so once its patience is spent", async () => {
    let calls = 0;
    const flaky = (async () => {
      calls++;
      if (calls === 1) throw new TypeError("fetch failed");
      if (calls === 2) return new Response("busy", { status: 503 });
      return new Response(bytes);
    }) as typeof fetch;
    expect([...(await new CoordinatorClient("https://c.example", "t", flaky, { policy: BRIEF }).download(ref))]).toEqual([1, 2, 3]);
    expect(calls).toBe(3);

    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    await expect(new CoordinatorClient("https://c.example", "t", down, { policy: BRIEF }).download(ref)).rejects.toMatchObject({ code: "STORE_UNREACHABLE" });
  });
});
