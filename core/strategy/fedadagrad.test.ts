import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { createStrategy } from "./create-strategy.ts";
import { modelOf, site } from "../../test/support/strategy.ts";

/*
 * Reddi et al. 2021, Algorithm 2, FedAdagrad, defaults η = 0.05, β1 = 0.9, τ = 1e-3, from x0 = [1, -2]:
 * Round 1, Δ1 = [0.5, -0.1] (mean of [0.2, -0.4]·1 and [0.6, 0]·3): m1 = [0.05, -0.01]; v1 = Δ1² = [0.25, 0.01];
 *   x1 = x0 + 0.05·m1/(√v1 + τ) = x0 + [0.0025/0.501, -0.0005/0.101] = [1.0049900200, -2.0049504950].
 * Round 2, Δ2 = [0.5, 0]: m2 = [0.045 + 0.05, -0.009] = [0.095, -0.009]; v2 = v1 + Δ2² = [0.5, 0.01];
 *   x2 = x1 + [0.00475/(√0.5 + 0.001), -0.00045/0.101] = x1 + [0.0067080205, -0.0044554455].
 */
describe("fedAdagrad known answers", () => {
  it("sums squared pseudo-gradients into v, so the same delta steps less the second time", () => {
    // Prepare
    const strategy = createStrategy("fedadagrad");
    const x0 = Float32Array.from([1, -2]);
    const round1 = [site("a", [0.2, -0.4], 1), site("b", [0.6, 0], 3)];

    // Execute
    const first = strategy.aggregate({ global: x0, updates: round1 }, strategy.init(2));
    const x1 = modelOf(first);
    const second = strategy.aggregate({ global: x1, updates: [site("c", [0.5, 0], 7)] }, first.state);

    // Assert
    expectClose(x1, [1.00499002, -2.004950495], 1e-6);
    expectClose(first.state.vectors.v ?? new Float32Array(), [0.25, 0.01], 1e-7);
    expectClose(second.state.vectors.m ?? new Float32Array(), [0.095, -0.009], 1e-7);
    expectClose(second.state.vectors.v ?? new Float32Array(), [0.5, 0.01], 1e-7);
    expectClose(modelOf(second), [(x1[0] ?? 0) + 0.0067080205, (x1[1] ?? 0) - 0.0044554455], 1e-6);
    expect(second.state.scalars.t).toBe(2);
  });

  it.each([
    ["fedadagrad", "fedadagrad:0.05"],
    ["fedadagrad:0.1:0.9:0.001", "fedadagrad:0.1"],
    ["fedadagrad:0.1:0:1e-9", "fedadagrad:0.1:0:1e-9"],
  ])("builds %j with spec %j", (spec, expected) => {
    // Execute
    const strategy = createStrategy(spec);

    // Assert
    expect(strategy.spec).toBe(expected);
  });
});
