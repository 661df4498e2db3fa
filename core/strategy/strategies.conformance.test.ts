/**
 * Runs the strategy conformance suite for every stage in the registry, with default and with
 * non-default hyperparameters, and for compositions of them. A new stage is held to it as soon as
 * it joins `createStrategy`: the registry test below fails until a spec here names it, with the
 * model expected when every site sends the same delta (robust aggregators return that delta).
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { strategyConformance, type ConformanceOptions } from "../../test/support/strategy-conformance.ts";
import { createStrategy, strategyNames } from "./create-strategy.ts";
import { splitSpec } from "./split-spec.ts";

type Step = (global: Float32Array, delta: Float32Array) => Float32Array;

/** Plain server step with learning rate `lr`: global + lr·d. */
const sgd =
  (lr: number): Step =>
  (global, delta) =>
    global.map((g, i) => g + lr * (delta[i] ?? 0));

/** FedAdam's and FedYogi's first step from zero moments, m = (1−β1)d, v = (1−β2)d², x + η·m/(√v + τ). */
const adamFirst =
  (lr: number, beta1: number, beta2: number, tau: number): Step =>
  (global, delta) =>
    global.map((g, i) => {
      const d = delta[i] ?? 0;
      return g + (lr * (1 - beta1) * d) / (Math.sqrt(1 - beta2) * Math.abs(d) + tau);
    });

/** FedAdagrad's first step from zero moments, m = (1−β1)d, v = d², x + η·m/(|d| + τ). */
const adagradFirst =
  (lr: number, beta1: number, tau: number): Step =>
  (global, delta) =>
    global.map((g, i) => {
      const d = delta[i] ?? 0;
      return g + (lr * (1 - beta1) * d) / (Math.abs(d) + tau);
    });

/** The delta clipped to L2 norm `bound`. */
const clipped = (delta: Float32Array, bound: number): Float32Array => {
  const norm = Math.hypot(...delta);
  return norm > bound ? delta.map((x) => (x * bound) / norm) : delta;
};

const consensus = (step: Step, bound = Infinity): ConformanceOptions => ({ consensus: (global, delta) => step(global, clipped(delta, bound)) });

const known: Record<string, ConformanceOptions> = {
  fedavg: consensus(sgd(1)),
  "fedavg:0.5": consensus(sgd(0.5)),
  scaffold: consensus(sgd(1)),
  "scaffold:0.5": consensus(sgd(0.5)),
  fedadam: consensus(adamFirst(0.05, 0.9, 0.99, 1e-3)),
  "fedadam:0.2:0.5:0.9:0.01": consensus(adamFirst(0.2, 0.5, 0.9, 0.01)),
  fedyogi: consensus(adamFirst(0.05, 0.9, 0.99, 1e-3)),
  "fedyogi:0.2:0.5:0.9:0.01": consensus(adamFirst(0.2, 0.5, 0.9, 0.01)),
  fedadagrad: consensus(adagradFirst(0.05, 0.9, 1e-3)),
  "fedadagrad:0.2:0.5:0.01": consensus(adagradFirst(0.2, 0.5, 0.01)),
  sgd: consensus(sgd(1)),
  "sgd:0.5": consensus(sgd(0.5)),
  mean: consensus(sgd(1)),
  "mean,sgd:0.5": consensus(sgd(0.5)),
  median: consensus(sgd(1)),
  "median,sgd:0.5": consensus(sgd(0.5)),
  "trimmed-mean:0.2": consensus(sgd(1)),
  "trimmed-mean:0.45,fedadam": consensus(adamFirst(0.05, 0.9, 0.99, 1e-3)),
  geomed: consensus(sgd(1)),
  "geomed:1,fedyogi:0.1": consensus(adamFirst(0.1, 0.9, 0.99, 1e-3)),
  "krum:0": consensus(sgd(1)),
  "krum:1:1,sgd:2": consensus(sgd(2)),
  "centered-clip:0.1": consensus(sgd(1)),
  "centered-clip:0.01:3,fedadagrad": consensus(adagradFirst(0.05, 0.9, 1e-3)),
  "clip:100": consensus(sgd(1)),
  "clip:0.05,median": consensus(sgd(1), 0.05),
  "clip-median:1": consensus(sgd(1)),
  "clip-median:2,trimmed-mean:0.3,fedadam": consensus(adamFirst(0.05, 0.9, 0.99, 1e-3)),
  "clip:2,trimmed-mean:0.2,fedadam": consensus(adamFirst(0.05, 0.9, 0.99, 1e-3)),
  "clip:0.1,clip-median:3,krum:1,sgd:0.5": consensus(sgd(0.5), 0.1),
  robust: consensus(sgd(1)),
  "robust,fedadam:0.1": consensus(adamFirst(0.1, 0.9, 0.99, 1e-3)),
};

describe("strategy registry", () => {
  it("lists fedavg and fedadam", () => {
    // Execute
    const names = strategyNames();

    // Assert
    expect(names).toEqual(expect.arrayContaining(["fedavg", "fedadam"]));
  });

  it("has every registered name in a spec run below with a consensus expectation, so none runs the suite half-checked", () => {
    // Prepare
    const covered = new Set(
      Object.entries(known)
        .filter(([, options]) => options.consensus !== undefined)
        .flatMap(([spec]) => splitSpec(spec).map((t) => t.name)),
    );

    // Execute
    const missing = strategyNames().filter((name) => !covered.has(name));

    // Assert
    expect(missing).toEqual([]);
  });
});

for (const [spec, options] of Object.entries(known)) strategyConformance(spec, () => createStrategy(spec), options);

describe.each(strategyNames())("createStrategy(%j) arguments", (name) => {
  it.each(["abc", "", "NaN", "Infinity", "1,5"])("rejects the non-numeric argument %j with a ConfigError", (arg) => {
    // Execute
    const run = () => createStrategy(`${name}:${arg}`);

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(`strategy "${name}" argument "${arg}" is not a number`);
  });

  it("rejects more arguments than it takes instead of ignoring them", () => {
    // Execute
    let error: unknown;
    try {
      createStrategy(`${name}${":0.5".repeat(9)}`);
    } catch (e) {
      error = e;
    }

    // Assert
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("INVALID_CONFIG");
    expect((error as ConfigError).message).toMatch(new RegExp(`^strategy "${name}" takes at most \\d+ arguments?, got 9$`));
  });
});
