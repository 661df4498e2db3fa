import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/support/strategy-conformance.ts";
import { createStrategy } from "./create-strategy.ts";
import { fedAdamStep } from "./fedadam.ts";
import { pipeline } from "./pipeline.ts";
import type { Aggregator, UpdateTransform } from "./stage.ts";
import { decodeState, encodeState } from "./state-codec.ts";
import type { SiteUpdate, StrategyState } from "./strategy.ts";
import { modelOf, site } from "../../test/support/strategy.ts";
import { weightedMeanOf } from "./weighted-mean.ts";

/** An aggregator that counts its rounds in a vector named like FedAdam's first moment, to provoke a collision. */
const counting: Aggregator = {
  kind: "aggregator",
  name: "counting",
  spec: "counting",
  init: (dim) => ({ scalars: { t: 0 }, vectors: { m: new Float32Array(dim) } }),
  aggregate(updates, state, out) {
    weightedMeanOf(
      updates.map((u) => u.delta),
      updates.map((u) => u.weight),
      out,
    );
    const m = (state.vectors.m ?? new Float32Array(out.length)).map((x) => x + 1);
    return { scalars: { t: (state.scalars.t ?? 0) + 1 }, vectors: { m } };
  },
};

describe("pipeline", () => {
  it.each([
    ["fedavg", [], []],
    ["fedadam", ["t"], ["m", "v"]],
    ["scaffold", [], ["c"]],
    ["geomed,fedyogi", ["t"], ["m", "v"]],
    ["robust", [], []],
    ["centered-clip:1,fedadagrad", ["t"], ["centered-clip.center", "m", "v"]],
  ])("keeps %j's state under the keys stored states already use", (spec, scalars, vectors) => {
    // Prepare
    const strategy = createStrategy(spec);
    const updates = [{ ...site("a", [1, 2], 1), control: Float32Array.of(0, 0) }];

    // Execute
    const { state } = strategy.aggregate({ global: new Float32Array(2), updates }, strategy.init(2));

    // Assert
    expect(Object.keys(state.scalars).sort()).toEqual(scalars);
    expect(Object.keys(state.vectors).sort()).toEqual(vectors);
  });

  it("namespaces an aggregator's state so that it never collides with the server step's", () => {
    // Prepare
    const strategy = pipeline({ transforms: [], aggregator: counting, server: fedAdamStep() });
    const updates = [site("a", [0.5, -0.1], 1)];
    let state: StrategyState = strategy.init(2);
    let global: Float32Array = new Float32Array(2);

    // Execute
    for (let r = 0; r < 3; r++) {
      const result = strategy.aggregate({ global, updates }, decodeState(encodeState(state)));
      global = modelOf(result);
      state = result.state;
    }

    // Assert
    expect(state.scalars).toEqual({ t: 3, "counting.t": 3 });
    expectClose(state.vectors["counting.m"] ?? new Float32Array(), [3, 3], 0);
    expectClose(state.vectors.m ?? new Float32Array(), [0.5 * (1 - 0.9 ** 3), -0.1 * (1 - 0.9 ** 3)], 1e-6);
  });

  it("hands transforms and the aggregator only the sites with weight, and the server step every site", () => {
    // Prepare
    const seen: string[][] = [];
    const spy: UpdateTransform = { kind: "transform", name: "spy", spec: "spy", apply: (updates) => (seen.push(updates.map((u) => u.siteId)), [...updates]) };
    const controls: string[] = [];
    const strategy = pipeline({
      transforms: [spy],
      aggregator: counting,
      server: {
        kind: "server",
        name: "watch",
        spec: "watch",
        init: () => ({ scalars: {}, vectors: {} }),
        step: (global, delta, state, updates: readonly SiteUpdate[]) => (controls.push(...updates.map((u) => u.siteId)), { model: global.map((g, i) => g + (delta[i] ?? 0)), state }),
      },
    });
    const updates = [site("a", [1], 2), site("zero", [1e9], 0), site("b", [3], 2)];

    // Execute
    const model = modelOf(strategy.aggregate({ global: new Float32Array(1), updates }, strategy.init(1)));

    // Assert
    expect(seen).toEqual([["a", "b"]]);
    expect(controls).toEqual(["a", "zero", "b"]);
    expectClose(model, [2], 0);
  });

  it("skips before any stage runs, returning the very state it was given", () => {
    // Prepare
    const strategy = createStrategy("clip-median:2,centered-clip:1,fedadam");
    const state = strategy.init(3);

    // Execute
    const result = strategy.aggregate({ global: new Float32Array(3), updates: [site("a", [1, 1, 1], 0)] }, state);

    // Assert
    expect(result).toEqual({ kind: "skip", reason: "updates carry no weight", state });
    expect(result.state).toBe(state);
  });
});

describe("fromMean", () => {
  const global = Float32Array.from([0.5, -1, 2, 0]);
  const updates: SiteUpdate[] = [
    { ...site("a", [1, 2, 3, 4], 3), control: Float32Array.from([0.1, 0, -0.1, 1]) },
    { ...site("b", [-2, 0, 1, 1], 1), control: Float32Array.from([0.3, 0.2, 0, -1]) },
    { ...site("c", [0, 4, -1, 2], 2), control: Float32Array.from([0, 0, 0.5, 0]) },
  ];
  const total = 6;
  const meanOf = (pick: (u: SiteUpdate) => Float32Array) =>
    weightedMeanOf(updates.map(pick), updates.map((u) => u.weight), new Float32Array(4));

  it.each(["fedavg", "fedavg:0.5", "sgd:2", "fedadam:0.1", "fedyogi:0.1", "fedadagrad:0.1", "scaffold", "scaffold:0.5"])(
    "%s finishes from the weighted mean as aggregate does from the updates, over two rounds",
    (spec) => {
      const strategy = createStrategy(spec);
      expect(strategy.fromMean).toBeDefined();
      const mean: SiteUpdate = { siteId: "mean", weight: total, delta: meanOf((u) => u.delta), control: meanOf((u) => u.control!) };
      let viaUpdates = strategy.init(4);
      let viaMean = strategy.init(4);
      for (let r = 0; r < 2; r++) {
        const a = strategy.aggregate({ global, updates }, viaUpdates);
        const b = strategy.fromMean!(global, mean, viaMean);
        expectClose(modelOf(b), modelOf(a), 1e-6);
        for (const [k, v] of Object.entries(a.state.vectors)) expectClose(b.state.vectors[k]!, v, 1e-6);
        expect(b.state.scalars).toEqual(a.state.scalars);
        viaUpdates = a.state;
        viaMean = b.state;
      }
    },
  );

  it.each(["median", "trimmed-mean:0.2", "geomed", "krum:1", "centered-clip:1", "clip:1", "clip-median:3,fedadam", "robust"])(
    "%s has none: it needs every update",
    (spec) => expect(createStrategy(spec).fromMean).toBeUndefined(),
  );
});
