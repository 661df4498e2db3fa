/**
 * Runs the strategy conformance suite for every strategy in the registry, with default and with
 * non-default hyperparameters. A new strategy is covered as soon as it joins `createStrategy`;
 * give it a `consensus` entry below when its fixed point has a closed form.
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { strategyConformance, type ConformanceOptions } from "./conformance.ts";
import { createStrategy, strategyNames } from "./create-strategy.ts";

/** FedAvg with server learning rate `lr`: every site agreeing on d gives global + lr·d. */
const fedAvgConsensus = (lr: number): ConformanceOptions["consensus"] => (global, delta) => global.map((g, i) => g + lr * (delta[i] ?? 0));

/** FedAdam's first step from zero moments, m = (1−β1)d, v = (1−β2)d², x + η·m/(√v + τ). */
const fedAdamConsensus = (lr: number, beta1: number, beta2: number, tau: number): ConformanceOptions["consensus"] => (global, delta) =>
  global.map((g, i) => {
    const d = delta[i] ?? 0;
    return g + (lr * (1 - beta1) * d) / (Math.sqrt(1 - beta2) * Math.abs(d) + tau);
  });

const known: Record<string, ConformanceOptions> = {
  fedavg: { consensus: fedAvgConsensus(1) },
  "fedavg:0.5": { consensus: fedAvgConsensus(0.5) },
  scaffold: { consensus: fedAvgConsensus(1) },
  "scaffold:0.5": { consensus: fedAvgConsensus(0.5) },
  fedadam: { consensus: fedAdamConsensus(0.05, 0.9, 0.99, 1e-3) },
  "fedadam:0.2:0.5:0.9:0.01": { consensus: fedAdamConsensus(0.2, 0.5, 0.9, 0.01) },
};

describe("strategy registry", () => {
  it("lists fedavg and fedadam", () => {
    // Execute
    const names = strategyNames();

    // Assert
    expect(names).toEqual(expect.arrayContaining(["fedavg", "fedadam"]));
  });

  it("has a consensus expectation for every registered strategy, so none runs the suite half-checked", () => {
    // Execute
    const missing = strategyNames().filter((name) => known[name]?.consensus === undefined);

    // Assert
    expect(missing).toEqual([]);
  });
});

const specs = [...new Set([...strategyNames(), ...Object.keys(known)])];
for (const spec of specs) strategyConformance(spec, () => createStrategy(spec), known[spec] ?? {});

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
