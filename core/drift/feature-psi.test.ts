import { describe, expect, it } from "vitest";
import { seededRandom, standardNormal } from "../random.ts";
import type { CategoricalStats } from "../schemas/site-stats.ts";
import { categoricalPsi } from "./feature-psi.ts";
import { EXACT } from "./noise.ts";
import { driftPolicy } from "./policy.ts";

/** A window of `rows` over levels with shares 0.4, 0.35, 0.25, each count noised with sd `sigma` as noisy statistics do. */
function window(rng: () => number, rows: number, sigma: number): CategoricalStats {
  const counts: Record<string, number> = { A: 0, B: 0, C: 0 };
  for (let i = 0; i < rows; i++) {
    const u = rng();
    counts[u < 0.4 ? "A" : u < 0.75 ? "B" : "C"]! += 1;
  }
  for (const l of Object.keys(counts)) counts[l] = Math.max(0, Math.round(counts[l]! + sigma * standardNormal(rng)));
  return { kind: "categorical", counts, missing: 0 };
}

describe("categoricalPsi", () => {
  it("passes its chance floor about as often as z says, with exact and with noisy counts", () => {
    // Prepare: 1500 pairs of 600- and 200-row windows from one mix; z = 2 is 2.3 % one-sided.
    const policy = driftPolicy({ z: 2 });
    const rate = (sigma: number, floorNoise: number) => {
      const rng = seededRandom(sigma + 1);
      let over = 0;
      for (let i = 0; i < 1500; i++) {
        const p = categoricalPsi(policy, window(rng, 600, sigma), window(rng, 200, sigma), { reference: floorNoise, current: floorNoise });
        if (p && p.chance > p.noise) over += 1;
      }
      return over / 1500;
    };

    // Execute
    const exact = rate(0, 0);
    const noisy = rate(17.5, 17.5);
    const noiseIgnored = rate(17.5, 0);

    // Assert
    expect(exact).toBeGreaterThan(0.01);
    expect(exact).toBeLessThan(0.04);
    expect(noisy).toBeGreaterThan(0.005);
    expect(noisy).toBeLessThan(0.04);
    expect(noiseIgnored).toBeGreaterThan(0.3);
  });

  it("names the level that moved most", () => {
    const ref: CategoricalStats = { kind: "categorical", counts: { A: 50, B: 30, C: 20 }, missing: 0 };
    const cur: CategoricalStats = { kind: "categorical", counts: { A: 20, B: 30, C: 50, D: 0 }, missing: 0 };
    const p = categoricalPsi(driftPolicy(), ref, cur, EXACT);
    // Shares 0.5, 0.3, 0.2 against 0.2, 0.3, 0.5: 0.3 ln 2.5 twice; D, empty in both, is no level.
    expect(p?.value).toBeCloseTo(2 * 0.3 * Math.log(2.5), 12);
    expect(p?.detail).toBe('"A" 20% of rows now vs 50%');
    expect(p?.basis).toBe("over its 3 levels");
  });
});
