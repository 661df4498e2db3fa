import { describe, expect, it } from "vitest";
import { helpText, UsageError } from "./flags.ts";
import { parseSimulateFlags, simulateSpec } from "./simulate-command.ts";

const usage = (argv: string[]) => {
  try {
    parseSimulateFlags(argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error("parsed");
};

describe("parseSimulateFlags --prox-mu", () => {
  it("takes FedProx's mu as a number, and leaves it unset when absent", () => {
    // Execute
    const pulled = parseSimulateFlags(["--dataset", "wdbc", "--prox-mu", "0.01"]);
    const zero = parseSimulateFlags(["--dataset", "wdbc", "--prox-mu=0"]);
    const bare = parseSimulateFlags(["--dataset", "wdbc"]);

    // Assert
    expect(pulled["prox-mu"]).toBe(0.01);
    expect(zero["prox-mu"]).toBe(0);
    expect(bare["prox-mu"]).toBeUndefined();
  });

  it("names the flag and the value it refused", () => {
    expect(usage(["--dataset", "wdbc", "--prox-mu=-1"])).toBe('--prox-mu: Too small: expected number to be >=0 (got "-1")');
    expect(usage(["--dataset", "wdbc", "--prox-mu", "101"])).toBe('--prox-mu: Too big: expected number to be <=100 (got "101")');
    expect(usage(["--dataset", "wdbc", "--prox-mu"])).toBe("--prox-mu: needs a value");
  });

  it("lists the flag in --help", () => {
    expect(helpText(simulateSpec)).toMatch(/\n {2}--prox-mu MU +FedProx: proximal pull of local training towards the round's global body \(default 0, off\)\n/);
  });
});
