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
    const run = () => createStrategy("krum");

    // Assert
    expect(run).toThrow('unknown strategy "krum" (known: fedavg, fedadam, scaffold)');
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
