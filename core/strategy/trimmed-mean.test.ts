import { describe, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { aggregated, site } from "../../test/support/strategy.ts";

const tenSites = (values: number[]) => values.map((v, s) => site(`s${s}`, [v, -v], 1));

describe("trimmed mean known answers", () => {
  it("drops beta·n values at each end for n equal weights when beta·n is whole", () => {
    // Prepare: 10 sites, beta 0.2: drop 1, 2 and 9, 10; the mean of 3..8 is 5.5.
    const updates = tenSites([7, 1, 10, 4, 2, 9, 3, 8, 5, 6]);

    // Execute
    const { delta } = aggregated("trimmed-mean:0.2", updates);

    // Assert
    expectClose(delta, [5.5, -5.5], 1e-7);
  });

  it("drops the outliers however large they are", () => {
    // Prepare: sorted -1000, 1..8, 1000; beta 0.2 drops -1000, 1 and 8, 1000; the mean of 2..7 is 4.5.
    const updates = tenSites([1, 2, 3, 4, 5, 6, 7, 8, 1000, -1000]);

    // Execute
    const { delta } = aggregated("trimmed-mean:0.2", updates);

    // Assert
    expectClose(delta, [4.5, -4.5], 1e-7);
  });

  it("trims part of a site when beta·n is not whole", () => {
    // Prepare: 4 equal sites [0, 1, 2, 10], beta 0.2: the cuts are at 0.8 and 3.2 of 4, so 0 counts 0.2, 1 and 2 count
    // fully and 10 counts 0.2: (0·0.2 + 1 + 2 + 10·0.2) / 2.4 = 5 / 2.4.
    const updates = [site("a", [0], 1), site("b", [1], 1), site("c", [2], 1), site("d", [10], 1)];

    // Execute
    const { delta } = aggregated("trimmed-mean:0.2", updates);

    // Assert
    expectClose(delta, [5 / 2.4], 1e-7);
  });

  it("trims by sample weight", () => {
    // Prepare: weights 2, 1, 1 (total 4), beta 0.25: keep the weight in [1, 3]; sorted 0 over [0, 2], 4 over [2, 3],
    // 8 over [3, 4]: (0·1 + 4·1) / 2 = 2.
    const updates = [site("a", [0], 2), site("b", [4], 1), site("c", [8], 1)];

    // Execute
    const { delta } = aggregated("trimmed-mean:0.25", updates);

    // Assert
    expectClose(delta, [2], 1e-7);
  });
});
