import { describe, expect, it } from "vitest";
import { dequantiseSum } from "./dequantise-sum.ts";
import { graphOf } from "./neighbour-graph.ts";
import { quantisationStep } from "./quantisation-spec.ts";
import { SecAggError } from "./secagg-error.ts";
import { pickSites, randomUpdate, runToMasked, simulateRound, testConfig, testUpdates } from "../../test/support/secagg.ts";

const LENGTH = 1000;

/** Whether two vectors are equal in every coordinate (mod 2^32, as stored). */
const same = (a: Uint32Array, b: Uint32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe("a whole secure-aggregation round in memory", () => {
  it.each([10, 30])("n = %i, no dropouts: the unmasked sum is exactly the sum of the quantised updates", (sites) => {
    // Prepare
    const config = testConfig({ sites, length: LENGTH });

    // Execute
    const round = simulateRound(config, testUpdates(sites, LENGTH));

    // Assert
    expect(round.result.summands).toBe(sites);
    expect(same(round.result.sum, round.expected)).toBe(true);
    expect(same(round.maskedSum, round.expected)).toBe(false);
  });

  it.each([10, 30])("n = %i, 30 per cent drop after sending their masked inputs: their self-mask seeds are rebuilt without them", (sites) => {
    // Prepare
    const config = testConfig({ sites, length: LENGTH });
    const dropped = pickSites(sites, Math.round(0.3 * sites), sites);

    // Execute
    const round = simulateRound(config, testUpdates(sites, LENGTH), { beforeUnmask: dropped });

    // Assert: their inputs still count, and they answered nothing.
    expect(round.result.summands).toBe(sites);
    expect(round.reveals.map((r) => r.site)).toEqual(Array.from({ length: sites }, (_, i) => i + 1).filter((s) => !dropped.includes(s)));
    expect(same(round.result.sum, round.expected)).toBe(true);
  });

  it.each([10, 30])("n = %i, 30 per cent drop after sharing keys: their pairwise masks are removed through their rebuilt keys", (sites) => {
    // Prepare
    const config = testConfig({ sites, length: LENGTH });
    const dropped = pickSites(sites, Math.round(0.3 * sites), 100 + sites);

    // Execute
    const round = simulateRound(config, testUpdates(sites, LENGTH), { beforeMask: dropped });

    // Assert
    expect(round.result.sites).toEqual(Array.from({ length: sites }, (_, i) => i + 1).filter((s) => !dropped.includes(s)));
    expect(same(round.result.sum, round.expected)).toBe(true);
  });

  it.each([10, 30])("n = %i in a 16-bit ring, 30 per cent dropping after their upload: the sum is exact, from 2 bytes per value", (sites) => {
    // Prepare
    const config = testConfig({ sites, length: LENGTH, bits: 16 });
    const dropped = pickSites(sites, Math.round(0.3 * sites), 7 * sites);

    // Execute
    const round = simulateRound(config, testUpdates(sites, LENGTH), { beforeUnmask: dropped });

    // Assert: every code within ±Q = ⌊32767 / n⌋, and the unmasked sum exactly theirs.
    expect(round.manifests.every((m) => m.byteLength === 2 * LENGTH)).toBe(true);
    expect(round.result.summands).toBe(sites);
    expect(same(round.result.sum, round.expected)).toBe(true);
    expect(same(round.maskedSum, round.expected)).toBe(false);
  });

  it("n = 30 on a sparse graph (k = 12, t = 7), with sites dropping at every phase", () => {
    // Prepare: five dropouts in all, k − t = 5, which any neighbourhood survives.
    const config = testConfig({ sites: 30, length: LENGTH, neighbours: 12, threshold: 7 });
    const [a, b, c, d, e] = pickSites(30, 5, 7) as [number, number, number, number, number];

    // Execute
    const round = simulateRound(config, testUpdates(30, LENGTH), { beforeShare: [a], beforeMask: [b, c], beforeUnmask: [d, e] });

    // Assert
    expect(graphOf(config).get(1)).toHaveLength(12);
    expect(round.result.summands).toBe(27);
    expect(same(round.result.sum, round.expected)).toBe(true);
  });

  it("decodes the unmasked sum to the float sum of the updates within n quantisation steps", () => {
    // Prepare
    const config = testConfig({ sites: 10, length: LENGTH, clipNorm: 10 });
    const updates = testUpdates(10, LENGTH, 3);
    const floatSum = new Float64Array(LENGTH);
    for (const update of updates.values()) update.forEach((v, i) => (floatSum[i]! += v));

    // Execute
    const round = simulateRound(config, updates);
    const decoded = dequantiseSum(round.result.sum, config.quantisation, round.result.summands);

    // Assert: no update reaches the clip norm here, so the clipped sum is the sum.
    const bound = 10 * quantisationStep(config.quantisation);
    for (let i = 0; i < LENGTH; i++) expect(Math.abs(decoded[i]! - floatSum[i]!)).toBeLessThanOrEqual(bound + Math.abs(floatSum[i]!) * 2 ** -24);
  });

  it("refuses with a typed error when too few neighbours answer to rebuild a survivor's self-mask seed", () => {
    // Prepare: n = 10, t = 5; sites 6..10 send masked inputs and then vanish.
    const config = testConfig({ sites: 10, length: LENGTH });

    // Execute / Assert
    expect(() => simulateRound(config, testUpdates(10, LENGTH), { beforeUnmask: [6, 7, 8, 9, 10] })).toThrow(
      new SecAggError("SECAGG_TOO_FEW_SHARES", "cannot unmask round 1: the self-mask seed of site 1 needs 5 shares, only 4 of its neighbours revealed one (sites 2, 3, 4, 5)"),
    );
  });

  it("refuses with a typed error when too few neighbours answer to rebuild a dropped site's mask key", () => {
    // Prepare: sparse n = 30, t = 7; site 1 drops before masking, and 6 of its 12 neighbours never answer.
    const config = testConfig({ sites: 30, length: LENGTH, neighbours: 12, threshold: 7 });
    const silent = graphOf(config).get(1)!.slice(0, 6);

    // Execute / Assert
    expect(silent).toEqual([2, 6, 9, 13, 15, 16]);
    expect(() => simulateRound(config, testUpdates(30, LENGTH), { beforeMask: [1], beforeUnmask: silent })).toThrow(
      new SecAggError("SECAGG_TOO_FEW_SHARES", "cannot unmask round 1: the mask key of site 1 needs 7 shares, only 6 of its neighbours revealed one (sites 17, 18, 24, 27, 29, 30)"),
    );
  });

  it("has a site refuse to mask when fewer than t neighbours sent it shares", () => {
    // Prepare: n = 10, t = 5; five sites advertise and then vanish.
    const config = testConfig({ sites: 10, length: LENGTH });

    // Execute / Assert
    expect(() => runToMasked(config, testUpdates(10, LENGTH), { beforeShare: [1, 2, 3, 4, 5] })).toThrow(
      new SecAggError("SECAGG_TOO_FEW_SHARES", "site 6 holds shares from only 4 neighbours, fewer than the threshold 5; it will not send a masked input"),
    );
  });

  it("uploads masked inputs that look like uniform noise, whatever the update", () => {
    // Prepare: tiny updates, whose codes sit far below 2^30 in magnitude.
    const config = testConfig({ sites: 10, length: 4000 });
    const updates = new Map(Array.from({ length: 10 }, (_, i) => [i + 1, randomUpdate(4000, i, 1e-3)] as const));

    // Execute
    const first = runToMasked(config, updates);
    const second = runToMasked(config, updates);

    // Assert, per site: every coordinate differs from its code; about half of the masked values
    // exceed 2^30 in magnitude as int32 (none of the codes do; 5 sd ≈ 160); a new round masks the
    // same update differently.
    for (let site = 1; site <= 10; site++) {
      const codes = new Int32Array(first.quantised.get(site)!.buffer);
      const masked = new Int32Array(first.masked.get(site)!.buffer);
      expect(codes.every((v) => Math.abs(v) < 2 ** 30)).toBe(true);
      expect(masked.filter((v, i) => v === codes[i]).length).toBe(0);
      expect(Math.abs(masked.filter((v) => Math.abs(v) >= 2 ** 30).length - 2000)).toBeLessThan(160);
      expect(same(first.masked.get(site)!, second.masked.get(site)!)).toBe(false);
    }
  });
});
