import { describe, expect, it } from "vitest";
import type { CoordinatorClient } from "../client/coordinator-client.ts";
import { silentLogger } from "../core/logger.ts";
import { testDeps } from "../test/support/coordinator.ts";
import { relayStep } from "./region-relay.ts";

describe("a region's relay before its federation exists", () => {
  it("waits without asking the global coordinator (a regional stage's schedule starts before its federation is created)", async () => {
    const deps = testDeps();
    let asked = 0;
    const global = { task: async () => void asked++ } as unknown as CoordinatorClient;
    expect(await relayStep({ region: "eu", deps, global, logger: silentLogger })).toBe("waiting");
    expect(await relayStep({ region: "eu", deps, global, logger: silentLogger })).toBe("waiting");
    expect(asked).toBe(0);
    // Nothing was written to the region's store either: a later federation starts clean.
    expect(await deps.store.list("")).toEqual([]);
  });
});
