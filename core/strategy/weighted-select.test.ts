import { describe, expect, it } from "vitest";
import { seededVector } from "../../test/support/strategy-conformance.ts";
import { coordinatewise } from "./coordinatewise.ts";
import { medianColumn, trimmedColumn } from "./weighted-select.ts";

/** The reference: sort (value, weight) pairs and integrate the quantile function over [lo, hi] of the total weight. */
function quantileMean(values: number[], weights: number[], lo: number, hi: number): number {
  const order = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const total = weights.reduce((s, w) => s + w, 0);
  const [from, to] = [lo * total, hi * total];
  let at = 0;
  let sum = 0;
  for (const i of order) {
    const w = weights[i] as number;
    sum += (values[i] as number) * Math.max(0, Math.min(at + w, to) - Math.max(at, from));
    at += w;
  }
  return sum / (to - from);
}

/** The reference weighted median: the value at half the weight, the mean of the two meeting there on a boundary. */
function medianReference(values: number[], weights: number[]): number {
  const order = values.map((_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const half = weights.reduce((s, w) => s + w, 0) / 2;
  let at = 0;
  for (let k = 0; k < order.length; k++) {
    at += weights[order[k] as number] as number;
    if (at > half) return values[order[k] as number] as number;
    if (at === half) return ((values[order[k] as number] as number) + (values[order[k + 1] as number] as number)) / 2;
  }
  return NaN;
}

/** Site columns: `n` deltas of `dim` values, some coordinates full of ties, and integer weights. */
function columns(n: number, dim: number, seed: number): { deltas: Float32Array[]; weights: number[] } {
  const deltas = Array.from({ length: n }, (_, s) => {
    const d = seededVector(dim, seed * 1000 + s, 2);
    // Every third coordinate takes one of three values, so that ties straddle every cut.
    for (let i = 0; i < dim; i += 3) d[i] = Math.round(d[i] as number);
    return d;
  });
  const weights = Array.from(seededVector(n, seed + 7, 1), (x) => 1 + Math.floor(Math.abs(x) * 20));
  return { deltas, weights };
}

describe("weighted selection kernels", () => {
  it.each([1, 2, 3, 8, 9, 10, 17, 50, 101])("match a sorted reference for the weighted median of %i sites", (n) => {
    // Prepare
    const { deltas, weights } = columns(n, 60, n);

    // Execute
    const out = coordinatewise(deltas, weights, new Float32Array(60), medianColumn);

    // Assert
    for (let c = 0; c < 60; c++) {
      const expected = medianReference(
        deltas.map((d) => d[c] as number),
        weights,
      );
      expect((out[c] as number) + 0).toBe(Math.fround(expected) + 0); // +0: the order of -0 and 0, which are equal, is free
    }
  });

  it.each([
    [2, 0.2],
    [4, 0.2],
    [10, 0.2],
    [17, 0.1],
    [50, 0.3],
    [101, 0.45],
  ])("match a sorted reference for the weighted trimmed mean of %i sites, beta %f", (n, beta) => {
    // Prepare
    const { deltas, weights } = columns(n, 60, 3 * n);

    // Execute
    const out = coordinatewise(deltas, weights, new Float32Array(60), (keys, words, wts, m, total, res) => trimmedColumn(keys, words, wts, m, total, beta * total, res));

    // Assert
    for (let c = 0; c < 60; c++) {
      const expected = quantileMean(
        deltas.map((d) => d[c] as number),
        weights,
        beta,
        1 - beta,
      );
      expect(Math.abs((out[c] as number) - expected)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)));
    }
  });

  it.each([
    ["the least value", -5],
    ["the greatest value", 5],
  ])("handles most sites sharing %s, wherever the pivots fall", (_, shared) => {
    // Prepare: 30 sites, 20 of them at `shared`, the rest spread over (-1, 1); weights 1..30.
    const spread = seededVector(30, 4, 1);
    const values = Array.from({ length: 30 }, (_, s) => (s % 3 === 2 ? (spread[s] as number) : shared));
    const weights = values.map((_, s) => s + 1);
    const deltas = values.map((v) => Float32Array.of(v));

    // Execute
    const median = coordinatewise(deltas, weights, new Float32Array(1), medianColumn);
    const trimmed = coordinatewise(deltas, weights, new Float32Array(1), (keys, words, wts, n, total, res) => trimmedColumn(keys, words, wts, n, total, 0.2 * total, res));

    // Assert
    expect(median[0]).toBe(Math.fround(medianReference(values, weights)));
    expect(trimmed[0]).toBeCloseTo(quantileMean(values, weights, 0.2, 0.8), 6);
  });

  it("orders signed zeros among the other values and returns them as floats", () => {
    // Prepare
    const deltas = [Float32Array.from([-0, 1.5]), Float32Array.from([0, -2.25]), Float32Array.from([-1, 1e-30])];

    // Execute
    const out = coordinatewise(deltas, [1, 1, 1], new Float32Array(2), medianColumn);

    // Assert
    expect(Math.abs(out[0] as number)).toBe(0);
    expect(out[1]).toBe(Math.fround(1e-30));
  });
});
