import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { S3ObjectStore } from "../../functions/adapters/s3-object-store.ts";
import { startEmbeddedStack, type EmbeddedStack } from "../embedded-stack.ts";
import { byteOrder } from "./bucket-store.ts";

const sign = (x: number) => Math.sign(x);
/** S3's order, the slow way: the keys' UTF-8 bytes. */
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

// Characters on both sides of every boundary the order cares about: ASCII, the rest of the BMP below
// the surrogates, above them (U+E000 and up), and code points above U+FFFF (surrogate pairs in JavaScript).
const KEY_CHARS = ["a", "b", "/", "-", "~", "ü", "\u0800", "\ud7ff", "\ue000", "\uff01", "\u{10000}", "\u{1f600}"];
const key = fc.array(fc.constantFrom(...KEY_CHARS), { minLength: 1, maxLength: 6 }).map((cs) => cs.join(""));

describe("the embedded store's listing order", () => {
  it("compares keys as S3 does, by their UTF-8 bytes", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => sign(byteOrder(a, b)) === sign(utf8Order(a, b))));
    fc.assert(fc.property(key, key, (a, b) => sign(byteOrder(a, b)) === sign(utf8Order(a, b))));
  });

  describe("over S3 requests", () => {
    let stack: EmbeddedStack;
    let run = 0;
    beforeAll(async () => {
      stack = await startEmbeddedStack();
    });
    afterAll(() => stack.stop());

    it("lists exactly the keys under a prefix in byte order, page after page, while keys come and go", async () => {
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(key, { minLength: 1, maxLength: 20 }), fc.uniqueArray(key, { maxLength: 8 }), fc.array(fc.boolean(), { minLength: 28, maxLength: 28 }), key, async (first, later, gone, prefix) => {
          // Each run under its own folder: the bucket holds every earlier run's keys too, before and after this one's.
          const root = `run-${String(run++).padStart(3, "0")}/`;
          const store = new S3ObjectStore({ client: stack.s3, bucket: stack.bucket });
          const expected = new Set<string>();
          // The server's own order, two keys a page (the store adapter sorts what it lists again).
          const listed = async (p: string) => {
            const out: string[] = [];
            let ContinuationToken: string | undefined;
            do {
              const page = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: p, MaxKeys: 2, ContinuationToken }));
              out.push(...(page.Contents ?? []).map((c) => c.Key!));
              ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
            } while (ContinuationToken !== undefined);
            return out;
          };
          const check = async (p: string) => expect(await listed(p)).toEqual([...expected].filter((k) => k.startsWith(p)).sort(utf8Order));
          for (const k of first) await store.put(root + k, "x"), expected.add(root + k);
          await check(root);
          await check(root + prefix);
          // After the first listing the order is kept up to date, not rebuilt: add, remove, list again.
          for (const k of later) await store.put(root + k, "y"), expected.add(root + k);
          for (const [i, k] of [...first, ...later].entries()) if (gone[i]) await store.delete(root + k), expected.delete(root + k);
          await check(root);
          await check(root + prefix);
          await check(root + [...prefix][0]!);
          // A key removed and written again is listed once.
          for (const [i, k] of [...first, ...later].entries()) if (gone[i] && i % 2 === 0) await store.put(root + k, "z"), expected.add(root + k);
          await check(root);
        }),
        { numRuns: 25 },
      );
    });
  });
});
