import { describe, expect, it } from "vitest";
import { createStrategy } from "../strategy/create-strategy.ts";
import { site } from "../../test/support/strategy.ts";
import { marginalGains } from "./validation-gain.ts";

/** A quadratic "validation loss" with its minimum at [1, 1]: 1 + ‖w − 1‖². */
const loss = (w: Float32Array) => 1 + w.reduce((s, x) => s + (x - 1) ** 2, 0);

describe("marginalGains", () => {
  it("scores each kept site by the loss of the aggregate without it, and a left-out site by the loss with it", () => {
    // Prepare: FedAvg (unit weights) from 0; a and b step to [1, 1], c to [−2, −2], q is left out at [1, 1].
    const strategy = createStrategy("mean,sgd");
    const global = new Float32Array(2);
    const kept = [site("a", [1, 1], 1), site("b", [1, 1], 1), site("c", [-2, -2], 1)];
    const excluded = [site("q", [1, 1], 1)];
    const state = strategy.init(2);
    const model = Float32Array.of(0, 0);

    // Execute
    const gains = marginalGains({ strategy, state, global, kept, excluded, model, loss });

    // Assert: L(round) = 3; without a → mean [−0.5, −0.5], L = 5.5; without c → [1, 1], L = 1; with q → [0.25, 0.25], L = 2.125.
    expect(gains.get("a")).toBeCloseTo((5.5 - 3) / 3, 6);
    expect(gains.get("b")).toBeCloseTo((5.5 - 3) / 3, 6);
    expect(gains.get("c")).toBeCloseTo((1 - 3) / 3, 6);
    expect(gains.get("q")).toBeCloseTo((3 - 2.125) / 3, 6);
  });

  it("leaves the strategy's state as it was, and a lone site's alternative is the global model", () => {
    // Prepare
    const strategy = createStrategy("fedadam:0.1");
    const state = strategy.init(2);
    const before = JSON.stringify(Object.fromEntries(Object.entries(state.vectors).map(([k, v]) => [k, [...v]])));
    const kept = [site("a", [1, 1], 1)];

    // Execute
    const gains = marginalGains({ strategy, state, global: Float32Array.of(0.5, 0.5), kept, excluded: [], model: Float32Array.of(0.6, 0.6), loss });

    // Assert: without a, the model stays at [0.5, 0.5].
    expect(gains.get("a")).toBeCloseTo((1.5 - (1 + 2 * 0.16)) / (1 + 2 * 0.16), 5);
    expect(JSON.stringify(Object.fromEntries(Object.entries(state.vectors).map(([k, v]) => [k, [...v]])))).toBe(before);
  });

  it("gives no gains when the round's loss is not finite", () => {
    // Execute
    const gains = marginalGains({ strategy: createStrategy("fedavg"), state: createStrategy("fedavg").init(1), global: Float32Array.of(0), kept: [site("a", [1], 1)], excluded: [], model: Float32Array.of(Number.NaN), loss: () => Number.NaN });

    // Assert
    expect(gains.size).toBe(0);
  });
});
