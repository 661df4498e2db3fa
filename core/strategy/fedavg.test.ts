import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { createStrategy } from "./create-strategy.ts";
import { fedAvg } from "./fedavg.ts";
import { emptyState, type AggregateResult, type SiteUpdate } from "./strategy.ts";

const modelOf = (r: AggregateResult): Float32Array => (r.kind === "model" ? r.model : expect.fail(`skipped: ${r.reason}`));
const site = (siteId: string, delta: number[], weight: number): SiteUpdate => ({ siteId, delta: Float32Array.from(delta), weight });

describe("fedAvg known answers", () => {
  it("adds the sample-weighted mean delta to the global model", () => {
    // Prepare: mean = (1·[0.4, 0, -0.8, 1] + 3·[0, 0.4, 0.8, -1]) / 4 = [0.1, 0.3, 0.4, -0.5]
    const global = Float32Array.from([1, 2, -1, 0.5]);
    const updates = [site("a", [0.4, 0, -0.8, 1], 1), site("b", [0, 0.4, 0.8, -1], 3)];

    // Execute
    const model = modelOf(fedAvg().aggregate({ global, updates }, emptyState));

    // Assert
    expectClose(model, [1.1, 2.3, -0.6, 0], 1e-6);
  });

  it("scales the mean delta by the server learning rate", () => {
    // Prepare: same mean as above, halved: [0.05, 0.15, 0.2, -0.25]
    const global = Float32Array.from([1, 2, -1, 0.5]);
    const updates = [site("a", [0.4, 0, -0.8, 1], 1), site("b", [0, 0.4, 0.8, -1], 3)];

    // Execute
    const model = modelOf(createStrategy("fedavg:0.5").aggregate({ global, updates }, emptyState));

    // Assert
    expectClose(model, [1.05, 2.15, -0.8, 0.25], 1e-6);
  });

  it("lands on global + delta when every site sends the same delta", () => {
    // Prepare
    const global = Float32Array.from([1, -1, 0.25]);
    const updates = [site("a", [0.25, 0.5, -0.125], 7), site("b", [0.25, 0.5, -0.125], 1), site("c", [0.25, 0.5, -0.125], 100)];

    // Execute
    const model = modelOf(fedAvg().aggregate({ global, updates }, emptyState));

    // Assert
    expectClose(model, [1.25, -0.5, 0.125], 1e-6);
  });

  it("lets a site with 3× the weight pull 3× as hard", () => {
    // Prepare: weights 3 and 1 put the mean at [0.75, 0.25], a quarter of the way from a to b.
    const global = new Float32Array(2);
    const a = site("a", [1, 0], 3);
    const b = site("b", [0, 1], 1);

    // Execute
    const model = modelOf(fedAvg().aggregate({ global, updates: [a, b] }, emptyState));

    // Assert
    expectClose(model, [0.75, 0.25], 1e-6);
    for (let i = 0; i < 2; i++) {
      const fromA = Math.abs((model[i] ?? 0) - (a.delta[i] ?? 0));
      const fromB = Math.abs((model[i] ?? 0) - (b.delta[i] ?? 0));
      expect(fromB / fromA).toBeCloseTo(3, 6);
    }
  });

  it("carries its (empty) state through unchanged", () => {
    // Prepare
    const global = Float32Array.from([0, 0]);

    // Execute
    const result = fedAvg().aggregate({ global, updates: [site("a", [1, 1], 1)] }, emptyState);

    // Assert
    expect(result.state).toEqual({ scalars: {}, vectors: {} });
  });

  it("skips an empty round with the reason \"no valid updates\"", () => {
    // Execute
    const result = fedAvg().aggregate({ global: new Float32Array(3), updates: [] }, emptyState);

    // Assert
    expect(result).toEqual({ kind: "skip", reason: "no valid updates", state: emptyState });
  });

  it("skips a round whose updates all weigh 0 with the reason \"updates carry no weight\"", () => {
    // Execute
    const result = fedAvg().aggregate({ global: new Float32Array(1), updates: [site("a", [5], 0)] }, emptyState);

    // Assert
    expect(result).toEqual({ kind: "skip", reason: "updates carry no weight", state: emptyState });
  });
});

describe("fedAvg hyperparameters", () => {
  it.each([
    ["fedavg", "fedavg"],
    ["fedavg:1", "fedavg"],
    ["fedavg:0.5", "fedavg:0.5"],
    ["  fedavg:2 ", "fedavg:2"],
  ])("builds %j with spec %j", (spec, expected) => {
    // Execute
    const strategy = createStrategy(spec);

    // Assert
    expect(strategy.spec).toBe(expected);
  });

  it.each([
    ["fedavg:0", "fedavg server learning rate must be in (0, 10], got 0"],
    ["fedavg:-1", "fedavg server learning rate must be in (0, 10], got -1"],
    ["fedavg:10.5", "fedavg server learning rate must be in (0, 10], got 10.5"],
    ["fedavg:1:2", 'strategy "fedavg" takes at most 1 argument, got 2'],
  ])("rejects %j at construction with a ConfigError", (spec, message) => {
    // Execute
    const run = () => createStrategy(spec);

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});
