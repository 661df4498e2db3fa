import { describe, expect, it } from "vitest";
import { seededSubset } from "../codec/seeded-subset.ts";
import { seededRandom } from "../random.ts";
import { addWrapping } from "./add-wrapping.ts";
import { quantisationStep, type QuantisationSpec } from "./quantisation-spec.ts";
import { secureCodes, secureMean } from "./secure-vector.ts";
import { randomUpdate } from "../../test/support/secagg.ts";

const LENGTH = 2000;
const spec: QuantisationSpec = { clipNorm: 10, maxSummands: 4, rounding: "stochastic", bits: 32 };

/** The weighted mean of `updates` in float64, each first scaled down to L2 norm `clip` if longer. */
function weightedMean(updates: readonly Float32Array[], weights: readonly number[], clip: number): Float64Array {
  const out = new Float64Array(LENGTH);
  const total = weights.reduce((a, b) => a + b, 0);
  updates.forEach((u, s) => {
    const norm = Math.hypot(...u);
    const f = (norm > clip ? clip / norm : 1) * (weights[s]! / total);
    u.forEach((v, i) => (out[i] = out[i]! + v * f));
  });
  return out;
}

describe("secureCodes and secureMean", () => {
  it("the mean decoded from the plain sum of the sites' codes is their weighted mean of clipped updates, within the quantisation's steps", () => {
    // Prepare: four sites, one update long enough to be clipped (norm ≈ 26 > 10).
    const updates = [randomUpdate(LENGTH, 1, 0.1), randomUpdate(LENGTH, 2, 0.2), randomUpdate(LENGTH, 3, 1), randomUpdate(LENGTH, 4, 0.05)];
    const weights = [300, 1200, 50, 800];
    const max = Math.max(...weights);
    const rng = seededRandom(9);

    // Execute
    const sum = new Uint32Array(LENGTH);
    for (const [s, u] of updates.entries()) addWrapping(sum, secureCodes(u, { spec, clip: 10, scale: weights[s]! / max, rng }));
    const mean = secureMean(sum, { spec, summands: 4, scaleSum: weights.reduce((a, w) => a + w / max, 0), length: LENGTH });

    // Assert: within 4 steps of the sum, divided by the scales' sum (2350 / 1200).
    const expected = weightedMean(updates, weights, 10);
    const bound = (4 * quantisationStep(spec)) / (2350 / 1200) + 1e-7;
    for (let i = 0; i < LENGTH; i++) expect(Math.abs(mean[i]! - expected[i]!)).toBeLessThanOrEqual(bound);
    expect(Math.hypot(...updates[2]!)).toBeGreaterThan(10);
  });

  it("with random-k, masks only the kept coordinates and decodes them with the codec's gain, zero elsewhere", () => {
    // Prepare
    const kept = seededSubset(LENGTH, 200, 77);
    const updates = [randomUpdate(LENGTH, 5), randomUpdate(LENGTH, 6)];
    const rng = seededRandom(3);

    // Execute
    const codes = updates.map((u) => secureCodes(u, { spec, clip: 10, scale: 1, kept, rng }));
    const sum = addWrapping(codes[0]!.slice(), codes[1]!);
    const mean = secureMean(sum, { spec, summands: 2, scaleSum: 2, length: LENGTH, randk: { kept, gain: LENGTH / 200 } });

    // Assert
    expect(codes[0]!.length).toBe(200);
    const keptSet = new Set(kept);
    for (let i = 0; i < LENGTH; i++) {
      const expected = keptSet.has(i) ? ((updates[0]![i]! + updates[1]![i]!) / 2) * 10 : 0;
      expect(Math.abs(mean[i]! - expected)).toBeLessThanOrEqual(10 * quantisationStep(spec) + 1e-7);
    }
  });

  it("without an rng, rounds stochastically with crypto draws: unbiased, and never the same twice", () => {
    // Prepare: every value a quarter of a step above a code.
    const step = quantisationStep(spec);
    const update = new Float32Array(100_000).fill(0);
    const values = Float64Array.from(update, (_, i) => (1000 + (i % 7) + 0.25) * step);
    update.set(values);

    // Execute
    const a = new Int32Array(secureCodes(update, { spec, scale: 1 }).buffer);
    const b = new Int32Array(secureCodes(update, { spec, scale: 1 }).buffer);

    // Assert: the mean error within 5 sd of zero (sd = √(0.25·0.75/n) steps), and the draws differ.
    let error = 0;
    for (let i = 0; i < a.length; i++) error += a[i]! - update[i]! / step;
    expect(Math.abs(error / a.length)).toBeLessThan(5 * Math.sqrt(0.1875 / a.length));
    expect(a.some((v, i) => v !== b[i])).toBe(true);
  });

  it("refuses a NaN with the index", () => {
    const update = new Float32Array([0.1, Number.NaN, 0.2]);
    expect(() => secureCodes(update, { spec, scale: 1 })).toThrow(/index 1 is NaN/);
    expect(() => secureCodes(update, { spec, scale: 1, clip: 10 })).toThrow(/index 1 is NaN/);
  });

  it("refuses a scale outside (0, 1]", () => {
    expect(() => secureCodes(new Float32Array(3), { spec, scale: 1.5 })).toThrow(/scale must be in \(0, 1\]/);
  });
});
