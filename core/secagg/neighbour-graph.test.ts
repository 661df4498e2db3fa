import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { pickSites } from "../../test/support/secagg.ts";
import { neighbourGraph, type NeighbourGraph } from "./neighbour-graph.ts";

const SEED = "ab".repeat(32);

/** Whether the sites left after removing `removed` form one connected component. */
function connectedWithout(graph: NeighbourGraph, removed: ReadonlySet<number>): boolean {
  const left = [...graph.keys()].filter((s) => !removed.has(s));
  const seen = new Set([left[0]!]);
  const queue = [left[0]!];
  while (queue.length > 0) for (const j of graph.get(queue.pop()!)!) if (!removed.has(j) && !seen.has(j)) seen.add(j), queue.push(j);
  return seen.size === left.length;
}

describe("neighbourGraph", () => {
  it.each([
    [30, 12],
    [100, 66],
    [101, 8],
  ])("is symmetric, k-regular and loop-free for %i sites, degree %i", (sites, degree) => {
    // Execute
    const graph = neighbourGraph(SEED, sites, degree);

    // Assert
    expect([...graph.keys()]).toEqual(Array.from({ length: sites }, (_, i) => i + 1));
    for (const [i, near] of graph) {
      expect(near).toHaveLength(degree);
      expect(new Set(near).size).toBe(degree);
      expect(near).not.toContain(i);
      expect(near).toEqual([...near].sort((a, b) => a - b));
      for (const j of near) expect(graph.get(j)).toContain(i);
    }
  });

  it("is a deterministic function of the round seed", () => {
    // Execute
    const a = neighbourGraph(SEED, 50, 10);
    const b = neighbourGraph(SEED, 50, 10);
    const other = neighbourGraph("cd".repeat(32), 50, 10);

    // Assert
    expect(b).toEqual(a);
    expect(other).not.toEqual(a);
  });

  it("is the complete graph when the degree is n − 1", () => {
    // Execute
    const graph = neighbourGraph(SEED, 7, 6);

    // Assert
    expect(graph.get(3)).toEqual([1, 2, 4, 5, 6, 7]);
  });

  it("stays connected after removing any k − 1 sites (spot-checked on random removals)", () => {
    // Prepare
    const graph = neighbourGraph(SEED, 60, 8);

    // Execute / Assert
    for (let trial = 0; trial < 200; trial++) expect(connectedWithout(graph, new Set(pickSites(60, 7, trial)))).toBe(true);
  });

  it("rejects degrees the construction cannot build", () => {
    // Execute / Assert
    expect(() => neighbourGraph(SEED, 10, 5)).toThrow(new ConfigError("degree must be 9 (complete) or an even number from 2 to 8, got 5"));
    expect(() => neighbourGraph(SEED, 10, 10)).toThrow(ConfigError);
  });
});
