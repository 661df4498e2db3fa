import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { createStrategy, strategyNames } from "./create-strategy.ts";

describe("createStrategy", () => {
  it.each(["constructor", "toString", "__proto__", "hasOwnProperty", "FedAvg", "fedavgx", ""])("rejects the unknown name %j with the known ones listed", (name) => {
    // Execute
    const run = () => createStrategy(`${name}:1`);

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(`unknown strategy "${name}" (known: ${strategyNames().join(", ")})`);
  });

  it("says which names it knows", () => {
    // Execute
    const run = () => createStrategy("bulyan:1");

    // Assert
    expect(run).toThrow(
      'unknown strategy "bulyan" (known: fedavg, fedadam, scaffold, fedyogi, fedadagrad, sgd, mean, median, trimmed-mean, geomed, krum, centered-clip, clip, clip-median, robust)',
    );
  });

  it("names an unknown stage inside a composition", () => {
    // Execute
    const run = () => createStrategy("clip:2,bulyan,fedadam");

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/^unknown strategy "bulyan" \(known: /);
  });

  it("gives its ConfigError the stable code INVALID_CONFIG and HTTP status 400", () => {
    // Execute
    let error: unknown;
    try {
      createStrategy("fedadam:-1");
    } catch (e) {
      error = e;
    }

    // Assert
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: "INVALID_CONFIG", status: 400, message: "fedadam learning rate must be in (0, 10], got -1" });
  });

  it.each([
    ["fedavg:", 'strategy "fedavg" argument "" is not a number'],
    ["fedadam::0.9", 'strategy "fedadam" argument "" is not a number'],
    ["fedadam:0.1:beta", 'strategy "fedadam" argument "beta" is not a number'],
  ])("rejects the empty or non-numeric argument in %j", (spec, message) => {
    // Execute
    const run = () => createStrategy(spec);

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});

describe("createStrategy compositions", () => {
  it.each([
    ["fedavg", "fedavg"],
    ["fedavg:0.5", "fedavg:0.5"],
    ["mean", "fedavg"],
    ["mean,sgd", "fedavg"],
    ["mean,sgd:0.5", "fedavg:0.5"],
    ["sgd:0.5", "fedavg:0.5"],
    ["mean,fedadam", "fedadam:0.05"],
    ["scaffold:0.5", "scaffold:0.5"],
    ["mean,scaffold", "scaffold"],
    ["median", "median"],
    ["median,sgd", "median"],
    ["median,sgd:0.5", "median,sgd:0.5"],
    ["geomed:4", "geomed"],
    ["geomed:9", "geomed:9"],
    ["krum:2:5", "krum:2:5"],
    ["centered-clip:0.5:1", "centered-clip:0.5"],
    ["clip:2", "clip:2,fedavg"],
    ["clip:2,fedavg:0.5", "clip:2,fedavg:0.5"],
    ["clip:2,trimmed-mean:0.2,fedadam", "clip:2,trimmed-mean:0.2,fedadam:0.05"],
    [" clip:2 , trimmed-mean:0.2 , fedyogi:0.1:0.9:0.99:0.001 ", "clip:2,trimmed-mean:0.2,fedyogi:0.1"],
    ["clip-median:3,median,fedadagrad", "clip-median:3,median,fedadagrad:0.05"],
    ["robust", "clip-median:3,geomed"],
    ["robust,fedadam", "clip-median:3,geomed,fedadam:0.05"],
    ["clip:5,robust", "clip:5,clip-median:3,geomed"],
  ])("builds %j with the canonical spec %j, which rebuilds itself", (spec, expected) => {
    // Execute
    const strategy = createStrategy(spec);

    // Assert
    expect(strategy.spec).toBe(expected);
    expect(createStrategy(expected).spec).toBe(expected);
  });

  it.each([
    ["median,geomed", 'strategy "median,geomed" has two aggregators, "median" and "geomed"'],
    ["robust,median", 'strategy "robust,median" has two aggregators, "geomed" and "median"'],
    ["median,clip:2", 'update transform "clip:2" must come before the aggregator "median" in "median,clip:2"'],
    ["fedadam,median", '"median" follows the server step "fedadam" in "fedadam,median"; the server step comes last'],
    ["fedadam,fedyogi", '"fedyogi" follows the server step "fedadam" in "fedadam,fedyogi"; the server step comes last'],
    ["clip:2,clip:3", 'strategy "clip:2,clip:3" applies "clip" twice'],
    ["median,fedavg", '"fedavg" steps by the plain mean of the deltas, so it cannot follow the aggregator "median"; use "sgd" for a server learning rate after another aggregator'],
    ["krum:1,scaffold", '"scaffold" steps by the plain mean of the deltas, so it cannot follow the aggregator "krum:1"'],
    ["clip:2,scaffold", '"scaffold" keeps its control the plain mean of every site\'s, so it cannot follow the update transform "clip:2"'],
    ["median,", 'strategy "median," has an empty stage'],
    [",median", 'strategy ",median" has an empty stage'],
    ["clip", 'strategy "clip" needs 1 argument, got 0'],
    ["krum", 'strategy "krum" needs 1 argument, got 0'],
    ["clip:2,5,median", 'strategy "clip" argument "2,5" is not a number'],
    ["robust:1", 'strategy "robust" takes at most 0 arguments, got 1'],
  ])("rejects %j with a ConfigError", (spec, message) => {
    // Execute
    const run = () => createStrategy(spec);

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });

  it.each([
    ["fedyogi:0", "fedyogi learning rate must be in (0, 10], got 0"],
    ["fedyogi:0.1:1", "fedyogi beta1 must be in [0, 1), got 1"],
    ["fedyogi:0.1:0.9:-0.5", "fedyogi beta2 must be in [0, 1), got -0.5"],
    ["fedyogi:0.1:0.9:0.99:0", "fedyogi tau must be positive, got 0"],
    ["fedadagrad:20", "fedadagrad learning rate must be in (0, 10], got 20"],
    ["fedadagrad:0.1:-1", "fedadagrad beta1 must be in [0, 1), got -1"],
    ["fedadagrad:0.1:0.9:-1e-9", "fedadagrad tau must be positive, got -1e-9"],
    ["median,sgd:0", "sgd server learning rate must be in (0, 10], got 0"],
    ["mean,sgd:11", "sgd server learning rate must be in (0, 10], got 11"],
    ["fedavg:0", "fedavg server learning rate must be in (0, 10], got 0"],
    ["scaffold:-1", "scaffold server learning rate must be in (0, 10], got -1"],
    ["trimmed-mean:0", "trimmed-mean beta must be in (0, 0.5), got 0"],
    ["trimmed-mean:0.5", "trimmed-mean beta must be in (0, 0.5), got 0.5"],
    ["geomed:0", "geomed iterations must be a whole number in [1, 100], got 0"],
    ["geomed:2.5", "geomed iterations must be a whole number in [1, 100], got 2.5"],
    ["geomed:101", "geomed iterations must be a whole number in [1, 100], got 101"],
    ["krum:-1", "krum byzantine count must be a whole number ≥ 0, got -1"],
    ["krum:1.5", "krum byzantine count must be a whole number ≥ 0, got 1.5"],
    ["krum:1:0", "krum selection count must be a whole number ≥ 1, got 0"],
    ["centered-clip:0", "centered-clip tau must be positive, got 0"],
    ["centered-clip:1:0", "centered-clip iterations must be a whole number in [1, 100], got 0"],
    ["clip:0", "clip bound must be positive, got 0"],
    ["clip:-2", "clip bound must be positive, got -2"],
    ["clip-median:0.5", "clip-median factor must be at least 1, got 0.5"],
  ])("rejects the hyperparameter in %j at construction", (spec, message) => {
    // Execute
    const run = () => createStrategy(spec);

    // Assert
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });

  it("keeps control variates for scaffold only", () => {
    // Execute
    const flags = ["scaffold", "mean,scaffold", "fedavg", "robust,fedadam"].map((spec) => createStrategy(spec).controlVariates === true);

    // Assert
    expect(flags).toEqual([true, true, false, false]);
  });
});
