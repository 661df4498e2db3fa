import { describe, expect, it } from "vitest";
import { seededRandom } from "../random.ts";
import { decodeUpdate } from "./decode-update.ts";
import { decodeUpdateInto } from "./decode-update-into.ts";
import { encodeUpdate } from "./encode-update.ts";
import { encodedSize } from "./encoded-size.ts";
import { seededSubset } from "./seeded-subset.ts";
import { failure, seededValues, toHex } from "../../test/support/codec.ts";

/** Coordinates a decoded update keeps, for inputs with no zero coordinate and a gain of at least 1. */
const nonZero = (values: Float32Array) => Array.from(values.keys()).filter((i) => values[i] !== 0);

describe("randk-int8 codec", () => {
  it("encodes a fixed vector to golden bytes", () => {
    // Prepare: seed 7 draws coordinates 1 and 3 of 8 (seededSubset); the gain is 8 / 2 = 4.
    const values = new Float32Array([0.5, -0.25, 0.125, 0.0625, -1, 0.75, 0.375, -0.5]);

    // Execute
    const bytes = encodeUpdate(values, "randk-int8", { fraction: 0.25, seed: 7 });

    // Assert
    expect(Array.from(seededSubset(8, 2, 7))).toEqual([1, 3]);
    expect(toHex(bytes)).toBe(
      "434e534c" + // magic "CNSL"
        "01" + // format version
        "06" + // codec id: randk-int8
        "0000" + // reserved
        "08000000" + // 8 values
        "02000000" + // k = ceil(0.25 × 8) = 2 kept
        "07000000" + // seed 7, instead of any index bits
        "0502013c" + // one chunk of kept values 4 × -0.25 = -1 and 4 × 0.0625 = 0.25: scale 1 / 127 rounded up
        "8120" + // codes -127 and 32 (31.75 rounds to nearest)
        "6f80547e190abecbb17def64cd3f55750f93aae108f3a22262838844410a65bb", // SHA-256 of the above
    );
    expect(Array.from(decodeUpdate(bytes).values)).toEqual([0, -1.0000001192092896, 0, 0.25196853280067444, 0, 0, 0, 0]);
  });

  it("keeps the same coordinates for every vector encoded with one seed, and others for another seed", () => {
    // Prepare
    const [a, b] = [seededValues(300, 1, 2), seededValues(300, 2, 2)];

    // Execute
    const keptA = nonZero(decodeUpdate(encodeUpdate(a, "randk-int8", { fraction: 0.1, seed: 99 })).values);
    const keptB = nonZero(decodeUpdate(encodeUpdate(b, "randk-int8", { fraction: 0.1, seed: 99 })).values);
    const keptOther = nonZero(decodeUpdate(encodeUpdate(a, "randk-int8", { fraction: 0.1, seed: 100 })).values);

    // Assert
    expect(keptA).toEqual(Array.from(seededSubset(300, 30, 99)));
    expect(keptB).toEqual(keptA);
    expect(keptOther).not.toEqual(keptA);
  });

  it("carries no index bytes: 1M values at fraction 0.1 are 39.67 times smaller than float32", () => {
    // Execute
    const size = encodedSize(1_000_000, "randk-int8", { fraction: 0.1 });

    // Assert
    expect(size).toBe(16 + 4 + 100_000 + 196 * 4 + 32);
    expect(encodedSize(1_000_000, "float32") / size).toBeCloseTo(39.6688, 4);
  });

  it("decodes to an unbiased estimate of the vector over many seeds", () => {
    // Prepare: n 64, k 16, gain 4, 4,000 seeds, values rounded stochastically. A kept coordinate
    // decodes to 4·x plus rounding noise of variance at most s²/4 (s the chunk's scale, at most
    // 4·max|x| / 127), so var(decoded_i) ≤ 3·x_i² + (k / n)·s²/4. The total over coordinates is a
    // sample without replacement: var ≤ 4²·k·σ²·(n − k)/(n − 1) + k·s²/4, σ² the variance of x.
    // A correct codec has some |z| above 5 with probability 64 × 5.7e-7 ≈ 4e-5.
    const n = 64;
    const k = 16;
    const trials = 4000;
    const values = seededValues(n, 21);
    const sums = new Float64Array(n);
    const totals: number[] = [];

    // Execute
    for (let t = 0; t < trials; t++) {
      const decoded = decodeUpdate(encodeUpdate(values, "randk-int8", { fraction: k / n, seed: t, rng: seededRandom(t + 1e6) })).values;
      decoded.forEach((v, i) => (sums[i]! += v));
      totals.push(decoded.reduce((s, v) => s + v, 0));
    }

    // Assert
    const gain = n / k;
    const maxAbs = Math.max(...Array.from(values, Math.abs));
    const rounding = (gain * maxAbs * (1 + 2 ** -20)) ** 2 / 127 ** 2 / 4;
    const z = (mean: number, expected: number, variance: number) => Math.abs(mean - expected) / Math.sqrt(variance / trials);
    const worst = Math.max(...Array.from(values, (x, i) => z(sums[i]! / trials, x, (gain - 1) * x * x + (k / n) * rounding)));
    const worstUnscaled = Math.max(...Array.from(values, (x, i) => z(sums[i]! / trials, x / gain, (gain - 1) * x * x + (k / n) * rounding)));
    const sum = values.reduce((s, x) => s + x, 0);
    const variance = values.reduce((s, x) => s + (x - sum / n) ** 2, 0) / n;
    const totalVariance = gain ** 2 * k * variance * ((n - k) / (n - 1)) + k * rounding;
    const overall = z(totals.reduce((s, v) => s + v, 0) / trials, sum, totalVariance);
    expect(worst).toBeLessThanOrEqual(5);
    expect(overall).toBeLessThanOrEqual(5);
    // The same test tells an estimator without the n / k gain apart.
    expect(worstUnscaled).toBeGreaterThan(10);
  });

  it("rejects an update drawn from another seed than the round's with SEED_MISMATCH, before touching out", () => {
    // Prepare
    const bytes = encodeUpdate(seededValues(50, 3), "randk-int8", { seed: 12 });
    const out = new Float32Array(50).fill(1);

    // Execute
    const error = failure(() => decodeUpdateInto(bytes, out, 1, { seed: 13 }));
    const accepted = decodeUpdate(bytes, { seed: 12 }).values;

    // Assert
    expect(error).toEqual({ name: "UpdateFormatError", code: "SEED_MISMATCH", message: "update draws its coordinates from seed 12, the round's seed is 13" });
    expect(out.every((v) => v === 1)).toBe(true);
    expect(accepted.length).toBe(50);
  });

  it("ignores a seed expectation for codecs that carry no seed", () => {
    // Prepare
    const bytes = encodeUpdate(seededValues(50, 3), "topk-int8");

    // Execute
    const decoded = decodeUpdate(bytes, { seed: 13 }).values;

    // Assert
    expect(nonZero(decoded).length).toBe(5);
  });

  it.each([-1, 1.5, 2 ** 32])("rejects a seed of %s", (seed) => {
    // Execute
    const error = failure(() => encodeUpdate(new Float32Array(4), "randk-int8", { seed }));

    // Assert
    expect(error).toEqual({ name: "ConfigError", code: "INVALID_CONFIG", message: `a rand-k seed must be an integer from 0 to 4294967295, got ${seed}` });
  });
});

describe("seededSubset", () => {
  it.each([
    [10, 0],
    [10, 1],
    [10, 10],
    [1000, 37],
    [2 ** 20, 5],
  ])("draws %i distinct increasing coordinates below %i", (n, k) => {
    // Execute
    const kept = Array.from(seededSubset(n, k, n + k));

    // Assert
    expect(kept.length).toBe(k);
    expect(kept.every((x, j) => x < n && (j === 0 || x > kept[j - 1]!))).toBe(true);
  });

  it("keeps each coordinate with probability k / n over many seeds", () => {
    // Prepare: 4,000 seeds, k / n = 1/4: each count is 1,000 ± 27.4; some |z| above 5 has
    // probability 64 × 5.7e-7 ≈ 4e-5 for a uniform sampler.
    const counts = new Array<number>(64).fill(0);

    // Execute
    for (let seed = 0; seed < 4000; seed++) for (const i of seededSubset(64, 16, seed)) counts[i]! += 1;

    // Assert
    const sd = Math.sqrt(4000 * 0.25 * 0.75);
    expect(Math.max(...counts.map((c) => Math.abs(c - 1000) / sd))).toBeLessThanOrEqual(5);
  });
});
