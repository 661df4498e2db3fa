import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { fedAvg } from "../strategy/fedavg.ts";
import { emptyState } from "../strategy/strategy.ts";
import { admit } from "./admit.ts";
import { applyBuffer } from "./apply-buffer.ts";
import { AsyncPolicy } from "./async-policy.ts";
import { emptyBuffer, type BufferState } from "./buffer-state.ts";

describe("applyBuffer", () => {
  it("adds serverLr × the weight-normalised mean of the deltas", () => {
    // Prepare: mean = (1·[0.4, 0, -0.8, 1] + 3·[0, 0.4, 0.8, -1]) / 4 = [0.1, 0.3, 0.4, -0.5]
    const global = Float32Array.from([1, 2, -1, 0.5]);
    const deltas = [Float32Array.from([0.4, 0, -0.8, 1]), Float32Array.from([0, 0.4, 0.8, -1])];

    // Execute
    const model = applyBuffer(global, deltas, [0.5, 1.5], 2);

    // Assert
    expectClose(model, [1.2, 2.6, -0.2, -0.5], 1e-6);
  });

  it("is deterministic and leaves its inputs alone", () => {
    // Prepare
    const global = Float32Array.from([0.1, 0.2, 0.3]);
    const deltas = [Float32Array.from([0.7, -0.3, 1e-3]), Float32Array.from([-0.2, 0.9, 5])];

    // Execute
    const a = applyBuffer(global, deltas, [3, 7], 0.5);
    const b = applyBuffer(global, deltas, [3, 7], 0.5);

    // Assert
    expect(b).toEqual(a);
    expect(global).toEqual(Float32Array.from([0.1, 0.2, 0.3]));
  });

  it.each([
    ["no deltas", [], [], 1, "applyBuffer needs at least one delta"],
    ["a weight missing", [Float32Array.of(1)], [], 1, "applyBuffer got 1 deltas but 0 weights"],
    ["a delta of the wrong length", [Float32Array.of(1, 2)], [1], 1, "delta 0 has 2 values, expected 1"],
    ["a zero weight", [Float32Array.of(1)], [0], 1, "weight 0 must be finite and positive, got 0"],
    ["a negative server rate", [Float32Array.of(1)], [1], -1, "server learning rate must be finite and positive, got -1"],
  ] as const)("refuses %s with an exact message", (_, deltas, weights, lr, message) => {
    expect(() => applyBuffer(Float32Array.of(0), deltas, weights, lr)).toThrow(message);
  });
});

describe("one FedBuff flush equals a FedAvg step", () => {
  it("with constant weights, K = sites and no staleness, gives FedAvg's bytes", () => {
    // Prepare: three sites, all trained from version 0, arriving in an order unlike the canonical one
    const policy = AsyncPolicy.parse({ bufferSize: 3, maxStaleness: 4, weighting: { kind: "constant" } });
    const global = Float32Array.from([0.3, -1.2, 2.5, 0.01]);
    const sites = [
      { siteId: "c", samples: 50, delta: Float32Array.from([0.11, -0.07, 0.3, 1e-4]) },
      { siteId: "a", samples: 120, delta: Float32Array.from([-0.2, 0.05, 0.13, -0.9]) },
      { siteId: "b", samples: 7, delta: Float32Array.from([0.6, 0.2, -0.33, 0.25]) },
    ];
    let state: BufferState = emptyBuffer();
    let flush;

    // Execute
    for (const s of sites) {
      const admitted = admit(state, { siteId: s.siteId, baseVersion: 0, samples: s.samples, key: `k-${s.siteId}` }, policy);
      state = admitted.state;
      if (admitted.outcome.kind === "flush") flush = admitted.outcome;
    }
    if (!flush) return expect.fail("no flush after K admissions");
    const deltas = flush.entries.map((e) => sites.find((s) => s.siteId === e.siteId)!.delta);
    const model = applyBuffer(global, deltas, flush.entries.map((e) => e.weight), 0.7);
    const byName = [...sites].sort((x, y) => x.siteId.localeCompare(y.siteId));
    const fedavg = fedAvg(0.7).aggregate({ global, updates: byName.map((s) => ({ siteId: s.siteId, delta: s.delta, weight: s.samples })) }, emptyState);

    // Assert
    if (fedavg.kind !== "model") return expect.fail(fedavg.reason);
    expect(model).toEqual(fedavg.model);
  });

  it("with the buffer's samples as the total, moves the model less when the whole buffer is stale", () => {
    const global = Float32Array.of(1, 1);
    const deltas = [Float32Array.of(2, 0), Float32Array.of(0, 2)];
    // Two updates of 10 samples, both weighted 0.5 for staleness: half of FedAvg's step.
    const scaled = applyBuffer(global, deltas, [5, 5], 1, { total: 20 });
    expect(Array.from(scaled)).toEqual([1.5, 1.5]);
    expect(Array.from(applyBuffer(global, deltas, [5, 5], 1))).toEqual([2, 2]);
    expect(() => applyBuffer(global, deltas, [5, 5], 1, { total: 0 })).toThrow("total must be finite and positive, got 0");
  });
});
