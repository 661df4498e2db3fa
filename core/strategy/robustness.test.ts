import { describe, expect, it } from "vitest";
import { seededVector } from "../../test/support/strategy-conformance.ts";
import type { SiteUpdate } from "./strategy.ts";
import { aggregated, norm, site } from "../../test/support/strategy.ts";

const DIM = 50;
/** What the honest sites agree on, plus a site-specific part of 30% its size. */
const common = seededVector(DIM, 1, 1);
const honest: SiteUpdate[] = Array.from({ length: 8 }, (_, s) => {
  const own = seededVector(DIM, 100 + s, 0.3);
  return site(`honest-${s}`, common.map((x, i) => x + (own[i] ?? 0)), 40 + 5 * s);
});
const honestWeight = honest.reduce((w, u) => w + u.weight, 0);
const honestMean = common.map((_, i) => honest.reduce((sum, u) => sum + (u.delta[i] ?? 0) * u.weight, 0) / honestWeight);

const attacks: [string, (s: number) => Float32Array][] = [
  ["huge deltas", (s) => seededVector(DIM, 900 + s, 1e4)],
  ["sign-flipped deltas (−4×)", (s) => (honest[s]?.delta ?? common).map((x) => -4 * x)],
];

/** Distance from the honest sites' weighted mean, relative to its norm. */
const offBy = (delta: Float32Array) => norm(delta.map((x, i) => x - (honestMean[i] ?? 0))) / norm(honestMean);

describe.each(attacks)("2 of 10 sites sending %s", (_, attack) => {
  const updates = [...honest, site("byzantine-0", attack(0), 50), site("byzantine-1", attack(1), 55)];

  it.each(["median", "trimmed-mean:0.2", "geomed", "krum:2", "centered-clip:0.5", "robust"])("%s lands near the honest mean", (spec) => {
    // Execute
    const { delta } = aggregated(spec, updates);

    // Assert
    expect(offBy(delta)).toBeLessThan(0.25);
  });

  it("mean does not", () => {
    // Execute
    const { delta } = aggregated("mean", updates);

    // Assert
    expect(offBy(delta)).toBeGreaterThan(0.5);
  });
});
