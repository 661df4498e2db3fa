import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SiteStats } from "../../core/schemas/site-stats.ts";
import { keptRelease } from "./stats-release.ts";

const release = (rows: number): SiteStats => ({ rows, positives: 1, features: { age: { kind: "numeric", count: rows, mean: 50, m2: 10, missing: 0 } } });
const key = { federation: "fed", noise: { epsilon: 1, delta: 1e-6 } };

describe("keptRelease", () => {
  let dir: string;
  beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), "consilium-release-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("draws once and gives the same release to a restarted runner", async () => {
    // Prepare
    let draws = 0;
    const draw = () => release(100 + ++draws);
    // Execute
    const first = await keptRelease(dir, key, draw);
    const again = await keptRelease(dir, key, draw);
    // Assert
    expect(first).toEqual(release(101));
    expect(again).toEqual(first);
    expect(draws).toBe(1);
  });

  it("draws anew for another federation or another noise", async () => {
    await keptRelease(dir, key, () => release(5));
    expect(await keptRelease(dir, { ...key, federation: "other" }, () => release(6))).toEqual(release(6));
    expect(await keptRelease(dir, { ...key, noise: { epsilon: 2, delta: 1e-6 } }, () => release(7))).toEqual(release(7));
  });

  it("refuses an unreadable release instead of drawing (and spending) again", async () => {
    await writeFile(join(dir, "stats-release.json"), "{ not json");
    await expect(keptRelease(dir, key, () => release(1))).rejects.toThrow(/are unreadable; remove the file only if they were never sent/);
  });
});
