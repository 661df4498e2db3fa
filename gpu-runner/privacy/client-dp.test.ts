import { describe, expect, it } from "vitest";
import { seededRandom, standardNormal } from "../../core/random.ts";
import { privatiseUpdate } from "./client-dp.ts";

describe("privatiseUpdate", () => {
  it("scales an update above the bound down to it, and leaves one below it alone", () => {
    const zero = () => 0;
    const big = privatiseUpdate(Float32Array.from([3, 4]), 1, 1, 4, zero);
    expect(Array.from(big)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(privatiseUpdate(Float32Array.from([0.3, 0.4]), 1, 1, 4, zero))).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it("adds noise of standard deviation noiseMultiplier × clip to one update on its own (one share)", () => {
    const rng = seededRandom(3);
    const sent = privatiseUpdate(new Float32Array(20_000), 0.5, 2, 1, () => standardNormal(rng));
    let sq = 0;
    for (const v of sent) sq += v * v;
    expect(Math.sqrt(sq / sent.length)).toBeGreaterThan(0.98);
    expect(Math.sqrt(sq / sent.length)).toBeLessThan(1.02);
  });

  it("splits it into shares whose sum over the sites has standard deviation noiseMultiplier × clip", () => {
    const rng = seededRandom(7);
    const noise = () => standardNormal(rng);
    const sites = 9;
    const n = 20_000;
    const sum = new Float64Array(n);
    for (let s = 0; s < sites; s++) {
      const sent = privatiseUpdate(new Float32Array(n), 0.5, 2, sites, noise);
      for (let i = 0; i < n; i++) sum[i]! += sent[i]!;
    }
    let sq = 0;
    for (const v of sum) sq += v * v;
    // σ·C = 1; the sample sd of 20,000 draws is within 2 % of it with overwhelming probability.
    expect(Math.sqrt(sq / n)).toBeGreaterThan(0.98);
    expect(Math.sqrt(sq / n)).toBeLessThan(1.02);
  });
});
