import { describe, expect, it } from "vitest";
import { uploadPlan } from "./upload-plan.ts";

const MiB = 1024 * 1024;

describe("uploadPlan", () => {
  it("sends an update in one PUT up to the threshold and in parts above it", () => {
    expect(uploadPlan({}, 8 * MiB)).toEqual({ kind: "single" });
    expect(uploadPlan({}, 8 * MiB + 1)).toEqual({ kind: "multipart", partBytes: 8 * MiB, parts: 2 });
    expect(uploadPlan({ multipartThresholdBytes: 0, uploadPartBytes: 5 * MiB }, 12 * MiB)).toEqual({ kind: "multipart", partBytes: 5 * MiB, parts: 3 });
  });

  it("grows the parts rather than outnumber S3's 10,000", () => {
    // Prepare: 100 GB in 8 MiB parts would take 11,921.
    const byteLength = 100e9;
    // Execute
    const plan = uploadPlan({}, byteLength);
    // Assert
    expect(plan).toEqual({ kind: "multipart", partBytes: 10_000_000, parts: 10_000 });
  });
});
