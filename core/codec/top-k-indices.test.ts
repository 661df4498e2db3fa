import { describe, expect, it } from "vitest";
import { topKIndices } from "./top-k-indices.ts";
import { seededValues } from "../../test/support/codec.ts";

describe("topKIndices", () => {
  it("keeps the largest magnitudes, in coordinate order, lower coordinates first among ties", () => {
    // Prepare: k = 3 takes the 3 at 5 and two of the three magnitudes 2, at 1, 4 and 6: the lower two.
    const values = new Float32Array([0.5, -2, 0, 1, 2, 3, -2, 0]);

    // Execute
    const kept = topKIndices(values, 3);

    // Assert
    expect(Array.from(kept)).toEqual([1, 4, 5]);
  });

  it.each([0, 1, 37, 999, 1000])("keeps exactly %i of 1000 coordinates, none smaller than any dropped", (k) => {
    // Prepare
    const values = seededValues(1000, k, 4);

    // Execute
    const kept = topKIndices(values, k);

    // Assert
    const isKept = new Set(kept);
    const keptMin = Math.min(...Array.from(kept, (i) => Math.abs(values[i]!)));
    const droppedMax = Math.max(...Array.from(values, (v, i) => (isKept.has(i) ? -Infinity : Math.abs(v))));
    expect(kept.length).toBe(k);
    expect(Array.from(kept)).toEqual(Array.from(kept).sort((a, b) => a - b));
    expect(isKept.size).toBe(k);
    expect(keptMin).toBeGreaterThanOrEqual(droppedMax);
  });
});
