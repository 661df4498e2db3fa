import { describe, expect, it } from "vitest";
import { issuesOf } from "../../test/support/schemas.ts";
import { partCount, partList, UploadTarget } from "./upload.ts";

const MiB = 1024 * 1024;
const multipart = () => ({
  kind: "multipart",
  uploadId: "u-1",
  partBytes: 5 * MiB,
  parts: [1, 2, 3].map((partNumber) => ({ partNumber, url: `https://store.example/a.bin?partNumber=${partNumber}&uploadId=u-1` })),
  byteLength: 12 * MiB,
});

describe("UploadTarget", () => {
  it.each([
    ["a single PUT", { kind: "single", url: "https://store.example/a.bin", byteLength: 512 }],
    ["a multipart upload", multipart()],
  ])("parses %s", (_, upload) => {
    expect(UploadTarget.parse(upload)).toEqual(upload);
  });

  it("reads an older coordinator's upload, which has no kind, as a single PUT", () => {
    expect(UploadTarget.parse({ url: "https://store.example/a.bin", byteLength: 512 })).toEqual({ kind: "single", url: "https://store.example/a.bin", byteLength: 512 });
  });

  it.each([
    ["a part URL short", { ...multipart(), parts: multipart().parts.slice(0, 2) }, [["parts", `${12 * MiB} bytes in ${5 * MiB}-byte parts take 3 part URLs, got 2`]]],
    ["parts out of order", { ...multipart(), parts: multipart().parts.reverse() }, [["parts.0.partNumber", "expected part 1, got 3"], ["parts.2.partNumber", "expected part 3, got 1"]]],
    ["no upload id", { ...multipart(), uploadId: "" }, [["uploadId", "Too small: expected string to have >=1 characters"]]],
    ["an unknown kind", { ...multipart(), kind: "resumable" }, [["kind", "Invalid discriminator value. Expected 'single' | 'multipart'"]]],
  ])("rejects a multipart upload with %s", (_, upload, expected) => {
    expect(issuesOf(UploadTarget, upload)).toEqual(expected);
  });
});

describe("partList", () => {
  const parts = (...numbers: number[]) => numbers.map((partNumber) => ({ partNumber, etag: `"etag-${partNumber}"` }));

  it("takes parts 1 to n in order, each with an ETag", () => {
    expect(partList(3).parse(parts(1, 2, 3))).toEqual(parts(1, 2, 3));
  });

  it.each([
    ["a missing part", parts(1, 2), [["", "the upload has 3 parts, the list names 2"]]],
    ["an extra part", parts(1, 2, 3, 4), [["", "the upload has 3 parts, the list names 4"]]],
    ["a repeated part", parts(1, 1, 3), [["1.partNumber", "expected part 2, got 1"]]],
    ["an empty ETag", [...parts(1, 2), { partNumber: 3, etag: " " }], [["2.etag", "part 3 has an empty ETag"]]],
  ])("refuses %s", (_, list, expected) => {
    expect(issuesOf(partList(3), list)).toEqual(expected);
  });

  it("counts the parts of an upload, the last one short", () => {
    expect([partCount(12 * MiB, 5 * MiB), partCount(10 * MiB, 5 * MiB), partCount(1, 5 * MiB)]).toEqual([3, 2, 1]);
  });
});
