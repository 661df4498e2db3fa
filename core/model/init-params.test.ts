import { describe, expect, it } from "vitest";
import { initBody } from "./init-params.ts";
import { seededRandom, shuffle, standardNormal } from "../random.ts";
import { modelLayout } from "./layout.ts";

const segment = (body: Float32Array, layout: ReturnType<typeof modelLayout>, name: string) => {
  const s = layout.body.find((x) => x.name === name);
  if (!s) return expect.fail(`no segment ${name}`);
  return body.subarray(s.offset, s.offset + s.size);
};

describe("seededRandom", () => {
  it("repeats its stream for a seed and stays in [0, 1)", () => {
    // Prepare
    const [a, b, c] = [seededRandom(42), seededRandom(42), seededRandom(43)];

    // Execute
    const xs = Array.from({ length: 10_000 }, () => a());
    const ys = Array.from({ length: 10_000 }, () => b());
    const zs = Array.from({ length: 10_000 }, () => c());

    // Assert
    expect(ys).toEqual(xs);
    expect(zs).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});

describe("initBody", () => {
  const layout = modelLayout({ kind: "mlp", hidden: [8, 4] }, 3);

  it("is the same for the same seed and differs between seeds", () => {
    // Execute
    const [a, b, c] = [initBody(layout, seededRandom(7)), initBody(layout, seededRandom(7)), initBody(layout, seededRandom(8))];

    // Assert
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a.length).toBe(layout.bodySize);
  });

  it("starts with a zero output layer and zero biases, so the first model predicts 0.5", () => {
    // Execute
    const body = initBody(layout, seededRandom(1));

    // Assert
    for (const name of ["out/kernel", "out/bias", "dense0/bias", "dense1/bias"]) {
      expect(Array.from(segment(body, layout, name)).every((x) => x === 0)).toBe(true);
    }
  });

  it("draws hidden kernels from Glorot-uniform limits ±√(6 / (fanIn + fanOut))", () => {
    // Execute
    const body = initBody(layout, seededRandom(3));

    // Assert: dense0 is 3 → 8 (limit √(6/11)), dense1 is 8 → 4 (limit √(6/12)).
    for (const [name, limit] of [["dense0/kernel", Math.sqrt(6 / 11)], ["dense1/kernel", Math.sqrt(6 / 12)]] as const) {
      const w = Array.from(segment(body, layout, name));
      expect(w.every((x) => Math.abs(x) <= limit)).toBe(true);
      expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.7 * limit);
      expect(w.some((x) => x < 0) && w.some((x) => x > 0)).toBe(true);
    }
  });

  it("starts logistic regression at all zeros whatever the seed", () => {
    // Prepare
    const logreg = modelLayout({ kind: "logreg" }, 4);

    // Execute
    const body = initBody(logreg, seededRandom(123));

    // Assert
    expect(Array.from(body)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe("shuffle and standardNormal", () => {
  it("shuffles into a permutation fixed by the seed", () => {
    // Execute
    const a = shuffle([...Array(50).keys()], seededRandom(3));
    const b = shuffle([...Array(50).keys()], seededRandom(3));

    // Assert
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(a).not.toEqual([...Array(50).keys()]);
  });

  it("draws normals with mean 0 and variance 1 within four standard errors", () => {
    // Prepare
    const rng = seededRandom(5);
    const n = 20_000;

    // Execute
    const xs = Array.from({ length: n }, () => standardNormal(rng));

    // Assert: the mean's standard error is 1/√n; the variance's is √(2/n).
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });
});
