import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { createStrategy } from "./create-strategy.ts";
import { decodeState, encodeState } from "./state-codec.ts";
import { aggregated, modelOf, site } from "../../test/support/strategy.ts";

const centeredAt = (center: number[]) => ({ scalars: {}, vectors: { "centered-clip.center": Float32Array.from(center) } });

describe("centered clipping known answers", () => {
  it("clips each site's pull on the previous aggregate to tau", () => {
    // Prepare: centre (0, 0), τ = 1, equal weights: a = (3, 0) is 3 away and pulls (1/2)·(1/3)·(3, 0) = (0.5, 0);
    // b = (0, 0.1) is within τ and pulls (1/2)·(0, 0.1) = (0, 0.05).
    const updates = [site("a", [3, 0], 1), site("b", [0, 0.1], 1)];

    // Execute
    const { delta, state } = aggregated("centered-clip:1", updates, centeredAt([0, 0]));

    // Assert
    expectClose(delta, [0.5, 0.05], 1e-7);
    expect(state.vectors["centered-clip.center"]).toEqual(delta);
  });

  it("weights the pulls by samples: with τ beyond every distance, one step from the centre is the weighted mean", () => {
    // Prepare: weights 1 and 3 put the mean a quarter of the way from b to a.
    const updates = [site("a", [4, 0], 1), site("b", [0, 4], 3)];

    // Execute
    const { delta } = aggregated("centered-clip:100", updates, centeredAt([0, 0]));

    // Assert
    expectClose(delta, [1, 3], 1e-7);
  });

  it("re-centres between iterations", () => {
    // Prepare: from v1 = (0.5, 0.05), a is ‖(2.5, −0.05)‖ = √6.2525 away and pulls (1/2)·(2.5, −0.05)/√6.2525;
    // b is ‖(−0.5, 0.05)‖ < 1 away and pulls (1/2)·(−0.5, 0.05).
    const updates = [site("a", [3, 0], 1), site("b", [0, 0.1], 1)];
    const r = Math.sqrt(6.2525);

    // Execute
    const { delta } = aggregated("centered-clip:1:2", updates, centeredAt([0, 0]));

    // Assert
    expectClose(delta, [0.5 + 1.25 / r - 0.25, 0.05 - 0.025 / r + 0.025], 1e-6);
  });

  it("starts the first round from the weighted median, where a far site pulls no harder than a near one", () => {
    // Prepare: median 1, τ = 0.5, thirds: 0 pulls (1/3)·(−1)·(0.5/1), the outlier (1/3)·(x − 1)·(0.5/(x − 1)), which cancel.
    const honest = [site("a", [0], 1), site("b", [1], 1)];

    // Execute
    const near = aggregated("centered-clip:0.5", [...honest, site("z", [10], 1)]).delta;
    const far = aggregated("centered-clip:0.5", [...honest, site("z", [1e6], 1)]).delta;

    // Assert
    expectClose(near, [1], 1e-7);
    expectClose(far, [1], 1e-7);
  });

  it("moves at most τ × (the Byzantine weight share) × iterations away from where the honest sites alone would put it", () => {
    // Prepare
    const honest = [site("a", [1, 2, 0], 3), site("b", [1.5, 1.5, 0.5], 2), site("c", [0.5, 2, -0.5], 4)];
    const byzantine = site("z", [-1e4, 3e4, 5e4], 1);
    const state = centeredAt([1, 2, 0]);

    // Execute
    const clean = aggregated("centered-clip:0.3:3", honest, state).delta;
    const attacked = aggregated("centered-clip:0.3:3", [...honest, byzantine], state).delta;

    // Assert: the honest pulls shrink by the Byzantine share too, so allow the honest spread on top.
    const gap = Math.hypot(...attacked.map((x, i) => x - (clean[i] ?? 0)));
    expect(gap).toBeLessThanOrEqual(0.1 * 0.3 * 3 + 0.1 * 2);
  });

  it("keeps its centre under its own name beside a server optimizer's moments, through encodeState", () => {
    // Prepare
    const strategy = createStrategy("centered-clip:1,fedadam");
    const updates = [site("a", [1, 0], 1), site("b", [0, 1], 1)];
    const global = new Float32Array(2);

    // Execute
    const first = strategy.aggregate({ global, updates }, strategy.init(2));
    const decoded = decodeState(encodeState(first.state));
    const second = strategy.aggregate({ global: modelOf(first), updates }, decoded);

    // Assert
    expect(Object.keys(first.state.vectors).sort()).toEqual(["centered-clip.center", "m", "v"]);
    expect(first.state.scalars).toEqual({ t: 1 });
    expect(second.state.scalars).toEqual({ t: 2 });
    expectClose(decoded.vectors["centered-clip.center"] ?? new Float32Array(), [0.5, 0.5], 0);
  });
});
