import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { createStrategy } from "./create-strategy.ts";
import { modelOf, site } from "../../test/support/strategy.ts";

/*
 * Reddi et al. 2021, Algorithm 2, FedYogi, defaults η = 0.05, β1 = 0.9, β2 = 0.99, τ = 1e-3, from x0 = [1, -2]:
 * Round 1, Δ1 = [0.5, -0.1]: m1 = 0.1·Δ1 = [0.05, -0.01]; v0 = 0 < Δ1², so v1 = 0 + 0.01·Δ1² = [0.0025, 0.0001]
 *   (Adam's first step): x1 = x0 + [0.0025/0.051, -0.0005/0.011] = [1.0490196078, -2.0454545455].
 * Round 2, Δ2 = [0.01, 1]: m2 = 0.9·m1 + 0.1·Δ2 = [0.046, 0.091];
 *   v2[0]: v1 = 0.0025 > Δ² = 0.0001, so v2 = 0.0025 − 0.01·0.0001 = 0.002499 (Adam would shrink it to 0.002476);
 *   v2[1]: v1 = 0.0001 < Δ² = 1, so v2 = 0.0001 + 0.01·1 = 0.0101;
 *   x2 = x1 + 0.05·m2/(√v2 + τ) = x1 + [0.0023/0.0509899990, 0.00455/0.1014987562] = x1 + [0.0451068867, 0.0448281886].
 */
describe("fedYogi known answers", () => {
  it("takes Adam's step from zero moments, then grows and shrinks v additively", () => {
    // Prepare
    const strategy = createStrategy("fedyogi");
    const x0 = Float32Array.from([1, -2]);

    // Execute
    const first = strategy.aggregate({ global: x0, updates: [site("a", [0.5, -0.1], 3)] }, strategy.init(2));
    const x1 = modelOf(first);
    const second = strategy.aggregate({ global: x1, updates: [site("a", [0.01, 1], 3)] }, first.state);

    // Assert
    expectClose(x1, [1.0490196078, -2.0454545455], 1e-6);
    expectClose(first.state.vectors.v ?? new Float32Array(), [0.0025, 0.0001], 1e-7);
    expectClose(second.state.vectors.m ?? new Float32Array(), [0.046, 0.091], 1e-7);
    expectClose(second.state.vectors.v ?? new Float32Array(), [0.002499, 0.0101], 1e-7);
    expectClose(modelOf(second), [(x1[0] ?? 0) + 0.0451068867, (x1[1] ?? 0) + 0.0448281886], 1e-6);
    expect(second.state.scalars.t).toBe(2);
  });

  it.each([
    ["fedyogi", "fedyogi:0.05"],
    ["fedyogi:0.1:0.9:0.99:0.001", "fedyogi:0.1"],
    ["fedyogi:0.1:0.5", "fedyogi:0.1:0.5"],
  ])("builds %j with spec %j", (spec, expected) => {
    // Execute
    const strategy = createStrategy(spec);

    // Assert
    expect(strategy.spec).toBe(expected);
  });
});
