import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { taskSeed } from "../schemas/task-seed.ts";
import { sharedSeed } from "./shared-seed.ts";

describe("sharedSeed", () => {
  it("is the first four bytes, little-endian, of SHA-256 over the documented text", () => {
    // Prepare: federation seed 7, round 3.
    const digest = createHash("sha256").update("consilium/randk-seed:700024").digest();

    // Execute
    const seed = sharedSeed(taskSeed(7, 3));

    // Assert
    expect(taskSeed(7, 3)).toBe(700_024);
    expect(seed).toBe(digest[0]! + digest[1]! * 2 ** 8 + digest[2]! * 2 ** 16 + digest[3]! * 2 ** 24);
  });

  it("gives every round of a federation its own seed", () => {
    // Execute
    const seeds = Array.from({ length: 100 }, (_, r) => sharedSeed(taskSeed(7, r + 1)));

    // Assert
    expect(new Set(seeds).size).toBe(100);
    expect(seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32)).toBe(true);
  });
});
