import { describe, expect, it } from "vitest";
import { FederationConfig } from "../../../core/schemas/federation.ts";
import { testConfig } from "../../../test/support/secagg.ts";
import { graphOf } from "../../../core/secagg/neighbour-graph.ts";
import { federationConfig, testDeps } from "../../../test/support/coordinator.ts";
import { createFederation } from "../create-federation.ts";
import { canUnmask, registerIdentity, ringBits } from "./index.ts";
import { SecureAggregationPolicy } from "../../../core/schemas/secure-aggregation.ts";

const KEY_A = "ab".repeat(32);
const KEY_B = "cd".repeat(32);

describe("registerIdentity", () => {
  it("keeps a site's first key, accepts it again, and refuses another", async () => {
    // Prepare
    const deps = testDeps();

    // Execute
    const first = await registerIdentity(deps, "site-a", { publicKey: KEY_A });
    const again = await registerIdentity(deps, "site-a", { publicKey: KEY_A });
    const other = await registerIdentity(deps, "site-a", { publicKey: KEY_B }).catch((err: unknown) => err);

    // Assert
    expect(first).toEqual({ registered: true });
    expect(again).toEqual({ registered: false });
    expect(other).toMatchObject({ code: "IDENTITY_MISMATCH", status: 409 });
  });
});

describe("createFederation with secure aggregation", () => {
  const secure = (overrides: Parameters<typeof federationConfig>[0]) => FederationConfig.parse(federationConfig({ secureAggregation: {}, ...overrides }));

  it.each([
    ["a per-update strategy", { strategy: "median" }, /needs each update/],
    ["control variates", { strategy: "scaffold" }, /needs each update/],
    ["contribution scoring", { scoring: { enabled: true } }, /contribution scoring/],
    ["asynchronous rounds", { async: { bufferSize: 2, maxStaleness: 3 } }, /asynchronous/],
    ["top-k", { codec: "topk:0.1+int8" }, /top-k gives each site its own/],
    ["two sites", { expectedSites: 2 }, /at least 3 sites/],
    ["a round deadline too short for the key phases", { roundDeadlineSeconds: 100, secureAggregation: { phaseSeconds: 60 } }, /at least three times phaseSeconds/],
  ])("refuses %s with the reason", async (_name, overrides, reason) => {
    const err = await createFederation(testDeps(), secure(overrides)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_CONFIG", status: 400, message: expect.stringMatching(reason) });
  });

  it.each([["fedavg"], ["fedadam:0.05"]])("takes %s with float32, float16, int8, int4 and random-k", async (strategy) => {
    for (const codec of ["float32", "float16", "int8", "int4", "randk:0.1+int8"]) {
      await expect(createFederation(testDeps(), secure({ strategy, codec }))).resolves.toMatchObject({ phase: "stats" });
    }
  });
});

describe("ringBits", () => {
  it("masks in 16 bits only when the policy asks, for at most 258 sites, and never under client-level privacy", () => {
    expect(ringBits({}, 3, false)).toBe(32);
    expect(ringBits({ bits: 16 }, 3, false)).toBe(16);
    expect(ringBits({ bits: 16 }, 258, false)).toBe(16);
    expect(ringBits({ bits: 16 }, 259, false)).toBe(32);
    expect(ringBits({ bits: 16 }, 10, true)).toBe(32);
    expect(Math.floor(32767 / 258)).toBeGreaterThanOrEqual(127);
  });

  it("a 16-bit ring needs the consortium's per-coordinate range", () => {
    expect(SecureAggregationPolicy.safeParse({ bits: 16 }).success).toBe(false);
    expect(SecureAggregationPolicy.parse({ bits: 16, range: 0.05 })).toMatchObject({ bits: 16, range: 0.05 });
  });
});

describe("canUnmask", () => {
  it("needs t answering neighbours of every survivor and of every site dropped after sharing keys", () => {
    // Prepare: n = 10, complete graph, t = 5.
    const config = testConfig({ sites: 10, length: 4 });
    const all = Array.from({ length: 10 }, (_, i) => i + 1);
    const survivors = all.filter((s) => s !== 10);

    // Assert: site 10 dropped before masking; answers from 5 survivors rebuild everything, 4 do not.
    expect(config.threshold).toBe(5);
    expect(canUnmask(config, all, survivors, [1, 2, 3, 4, 5, 6])).toBe(true);
    expect(canUnmask(config, all, survivors, [1, 2, 3, 4, 5])).toBe(false);
    expect(canUnmask(config, all, all, [1, 2, 3, 4, 5, 6])).toBe(true);
  });

  it("on a sparse graph counts only a site's own neighbours", () => {
    const config = testConfig({ sites: 30, length: 4, neighbours: 12, threshold: 7 });
    const all = Array.from({ length: 30 }, (_, i) => i + 1);
    const near = graphOf(config).get(1)!;
    const far = all.filter((s) => s !== 1 && !near.includes(s));
    // Every site but 1's neighbours answers: site 1's self-mask seed cannot be rebuilt.
    expect(canUnmask(config, all, all, far)).toBe(false);
    expect(canUnmask(config, all, all, all)).toBe(true);
  });
});
