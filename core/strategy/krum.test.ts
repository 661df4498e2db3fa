import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { krumSelect } from "./krum.ts";
import { aggregated, site } from "../../test/support/strategy.ts";

/*
 * Five sites on a line at 0, 1, 2.5, 4 and an outlier at 100; with f = 1 each scores the sum of squared distances
 * to its n − f − 2 = 2 nearest others:
 *   a (0):   1 + 6.25    = 7.25
 *   b (1):   1 + 2.25    = 3.25
 *   c (2.5): 2.25 + 2.25 = 4.5
 *   d (4):   2.25 + 9    = 11.25
 *   z (100): 96² + 97.5² = 18722.25
 */
const line = [site("a", [0, 0], 1), site("b", [1, 0], 2), site("c", [2.5, 0], 3), site("d", [4, 0], 4), site("z", [100, 0], 5)];

describe("krum known answers", () => {
  it("picks the site with the lowest score as Krum (m = 1)", () => {
    // Execute
    const kept = krumSelect(
      line.map((u) => u.delta),
      line.map((u) => u.siteId),
      1,
      1,
    );
    const { delta } = aggregated("krum:1:1", line);

    // Assert
    expect(kept).toEqual([1]);
    expectClose(delta, [1, 0], 0);
  });

  it("keeps the m best and averages them by sample weight as Multi-Krum", () => {
    // Prepare: m = 3 keeps b, c, a: (0·1 + 1·2 + 2.5·3) / 6 = 9.5 / 6.
    // Execute
    const { delta } = aggregated("krum:1:3", line);

    // Assert
    expectClose(delta, [9.5 / 6, 0], 1e-7);
  });

  it("keeps n − f sites by default, leaving out the outlier however heavy it is", () => {
    // Prepare: scores count sites, not samples, so z's weight 5 does not save it; the mean of a..d by weight is 2.
    // Execute
    const { delta } = aggregated("krum:1", line);

    // Assert
    expectClose(delta, [(0 * 1 + 1 * 2 + 2.5 * 3 + 4 * 4) / 10, 0], 1e-7);
  });

  it("breaks ties in score by site id, whatever order the sites arrive in", () => {
    // Prepare: a 1 × 10 rectangle, so every corner scores 1 + 100; m = 1 must pick "p1" both times.
    const sites = [site("q2", [10, 1], 1), site("p1", [0, 0], 1), site("q1", [10, 0], 1), site("p2", [0, 1], 1)];

    // Execute
    const forward = aggregated("krum:0:1", sites).delta;
    const backward = aggregated("krum:0:1", [...sites].reverse()).delta;

    // Assert
    expectClose(forward, [0, 0], 0);
    expectClose(backward, [0, 0], 0);
  });

  it("still aggregates with fewer than 2f + 3 sites", () => {
    // Execute
    const { delta } = aggregated("krum:2", [site("a", [1, 1], 1), site("b", [3, 3], 1)]);

    // Assert: m = max(1, 2 − 2) = 1 of two sites at equal scores; "a" comes first.
    expectClose(delta, [1, 1], 0);
  });
});
