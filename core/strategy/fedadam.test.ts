import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { expectClose, seededVector } from "../../test/support/strategy-conformance.ts";
import { createStrategy } from "./create-strategy.ts";
import { fedAdam } from "./fedadam.ts";
import { decodeState, encodeState } from "./state-codec.ts";
import type { AggregateResult, SiteUpdate, StrategyState } from "./strategy.ts";

const modelOf = (r: AggregateResult): Float32Array => (r.kind === "model" ? r.model : expect.fail(`skipped: ${r.reason}`));
const site = (siteId: string, delta: number[] | Float32Array, weight: number): SiteUpdate => ({ siteId, delta: Float32Array.from(delta), weight });

/*
 * Reddi et al. 2021, Algorithm 2 (no bias correction), defaults η = 0.05, β1 = 0.9, β2 = 0.99, τ = 1e-3:
 *   m ← β1·m + (1−β1)·Δ;  v ← β2·v + (1−β2)·Δ²;  x ← x + η·m / (√v + τ)
 *
 * Round 1 from x0 = [1, -2, 0.5, 0], sites [0.2, -0.4, 0, 1]·1 and [0.6, 0, 0, 1]·3:
 *   Δ1 = [0.5, -0.1, 0, 1]
 *   m1 = [0.05, -0.01, 0, 0.1];  v1 = [0.0025, 0.0001, 0, 0.01];  √v1 = [0.05, 0.01, 0, 0.1]
 *   step = [0.0025/0.051, -0.0005/0.011, 0, 0.005/0.101] = [0.0490196078, -0.0454545455, 0, 0.0495049505]
 *   x1 = [1.0490196078, -2.0454545455, 0.5, 0.0495049505]
 * Round 2, one site Δ2 = [0.5, 0.1, -0.2, 0]:
 *   m2 = [0.045+0.05, -0.009+0.01, -0.02, 0.09] = [0.095, 0.001, -0.02, 0.09]
 *   v2 = [0.002475+0.0025, 0.000099+0.0001, 0.0004, 0.0099] = [0.004975, 0.000199, 0.0004, 0.0099]
 *   step = [0.00475/0.0715336799, 0.00005/0.0151067360, -0.001/0.021, 0.0045/0.1004987437]
 *        = [0.0664022878, 0.0033097818, -0.0476190476, 0.0447766791]
 *   x2 = [1.1154218956, -2.0421447636, 0.4523809524, 0.0942816296]
 */
const x0 = [1, -2, 0.5, 0];
const round1 = [site("a", [0.2, -0.4, 0, 1], 1), site("b", [0.6, 0, 0, 1], 3)];
const round2 = [site("c", [0.5, 0.1, -0.2, 0], 7)];

describe("fedAdam known answers", () => {
  it("takes one server Adam step from zero moments", () => {
    // Prepare
    const strategy = fedAdam();
    const global = Float32Array.from(x0);

    // Execute
    const result = strategy.aggregate({ global, updates: round1 }, strategy.init(4));

    // Assert
    expectClose(modelOf(result), [1.0490196078, -2.0454545455, 0.5, 0.0495049505], 1e-6);
    expectClose(result.state.vectors.m ?? new Float32Array(), [0.05, -0.01, 0, 0.1], 1e-7);
    expectClose(result.state.vectors.v ?? new Float32Array(), [0.0025, 0.0001, 0, 0.01], 1e-7);
    expect(result.state.scalars.t).toBe(1);
  });

  it("takes a second step with the moments the first one returned", () => {
    // Prepare
    const strategy = fedAdam();
    const first = strategy.aggregate({ global: Float32Array.from(x0), updates: round1 }, strategy.init(4));

    // Execute
    const second = strategy.aggregate({ global: modelOf(first), updates: round2 }, first.state);

    // Assert
    expectClose(modelOf(second), [1.1154218956, -2.0421447636, 0.4523809524, 0.0942816296], 1e-6);
    expectClose(second.state.vectors.m ?? new Float32Array(), [0.095, 0.001, -0.02, 0.09], 1e-7);
    expectClose(second.state.vectors.v ?? new Float32Array(), [0.004975, 0.000199, 0.0004, 0.0099], 1e-7);
    expect(second.state.scalars.t).toBe(2);
  });

  it("keeps moving on momentum when a later round's deltas are all zero", () => {
    // Prepare: m2 = 0.9·m1 = [0.045, ...], v2 = 0.99·v1; step0 = 0.05·0.045/(√0.002475 + 0.001) = 0.0445510..
    const strategy = fedAdam();
    const first = strategy.aggregate({ global: Float32Array.from(x0), updates: round1 }, strategy.init(4));
    const x1 = modelOf(first);

    // Execute
    const second = strategy.aggregate({ global: x1, updates: [site("a", [0, 0, 0, 0], 1)] }, first.state);

    // Assert
    const step0 = (0.05 * 0.045) / (Math.sqrt(0.002475) + 0.001);
    expect((modelOf(second)[0] ?? 0) - (x1[0] ?? 0)).toBeCloseTo(step0, 6);
  });

  it("continues bit-identically from its stored state over 3 rounds, and differently without it", () => {
    // Prepare
    const strategy = createStrategy("fedadam");
    const rounds = [1, 2, 3].map((r) => [site("a", seededVector(16, r, 0.1), 20), site("b", seededVector(16, 10 + r, 0.1), 35)]);
    let memory: { global: Float32Array; state: StrategyState } = { global: seededVector(16, 99), state: strategy.init(16) };
    let stored: { global: Float32Array; bytes: Uint8Array } = { global: memory.global.slice(), bytes: encodeState(strategy.init(16)) };
    let forgetful: Float32Array = memory.global.slice();

    for (const updates of rounds) {
      // Execute
      const a = strategy.aggregate({ global: memory.global, updates }, memory.state);
      const b = createStrategy("fedadam").aggregate({ global: stored.global, updates }, decodeState(stored.bytes));
      forgetful = modelOf(strategy.aggregate({ global: forgetful, updates }, strategy.init(16)));

      // Assert
      expect(new Uint8Array(modelOf(b).buffer)).toEqual(new Uint8Array(modelOf(a).buffer));
      memory = { global: modelOf(a), state: a.state };
      stored = { global: modelOf(b), bytes: encodeState(b.state) };
    }
    expect(decodeState(stored.bytes).scalars).toEqual({ t: 3 });
    expect(stored.global).toEqual(memory.global);
    expect(forgetful).not.toEqual(memory.global);
  });
});

describe("fedAdam hyperparameters", () => {
  it.each([
    ["fedadam", "fedadam:0.05"],
    ["fedadam:0.05", "fedadam:0.05"],
    ["fedadam:0.1", "fedadam:0.1"],
    ["fedadam:0.1:0.8", "fedadam:0.1:0.8"],
    ["fedadam:0.1:0.9:0.99:0.001", "fedadam:0.1"],
    ["fedadam:0.05:0.9:0.99:0.01", "fedadam:0.05:0.9:0.99:0.01"],
  ])("builds %j with spec %j, which rebuilds the same strategy", (spec, expected) => {
    // Execute
    const strategy = createStrategy(spec);

    // Assert
    expect(strategy.spec).toBe(expected);
    expect(createStrategy(strategy.spec).spec).toBe(expected);
  });

  it.each([
    ["fedadam:-1", "fedadam learning rate must be in (0, 10], got -1"],
    ["fedadam:0", "fedadam learning rate must be in (0, 10], got 0"],
    ["fedadam:11", "fedadam learning rate must be in (0, 10], got 11"],
    ["fedadam:0.05:1", "fedadam beta1 must be in [0, 1), got 1"],
    ["fedadam:0.05:-0.1", "fedadam beta1 must be in [0, 1), got -0.1"],
    ["fedadam:0.05:0.9:1", "fedadam beta2 must be in [0, 1), got 1"],
    ["fedadam:0.05:0.9:0.99:0", "fedadam tau must be positive, got 0"],
    ["fedadam:0.05:0.9:0.99:-1e-3", "fedadam tau must be positive, got -0.001"],
    ["fedadam:0.05:0.9:0.99:0.001:7", 'strategy "fedadam" takes at most 4 arguments, got 5'],
    ["fedadam:fast", 'strategy "fedadam" argument "fast" is not a number'],
  ])("rejects %j at construction with a ConfigError", (spec, message) => {
    // Execute
    const run = () => createStrategy(spec);

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});
