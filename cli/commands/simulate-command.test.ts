import { describe, expect, it } from "vitest";
import { helpText } from "./flags.ts";
import { parseSimulateFlags, simulateSpec } from "./simulate-command.ts";
import { usageOf } from "../../test/support/cli.ts";

const usage = (argv: string[]) => usageOf(simulateSpec, argv);

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

describe("parseSimulateFlags --scoring and --validation", () => {
  it("turns scoring on and takes the validation share", () => {
    // Execute
    const on = parseSimulateFlags(["--dataset", "wdbc", "--scoring", "--validation", "0.1"]);
    const off = parseSimulateFlags(["--dataset", "wdbc"]);

    // Assert
    expect(on.scoring).toBe(true);
    expect(on.validation).toBe(0.1);
    expect(off.scoring).toBe(false);
    expect(off.validation).toBeUndefined();
  });

  it("refuses a validation set without scoring, and a share outside (0, 1)", () => {
    expect(usage(["--dataset", "wdbc", "--validation", "0.1"])).toMatch(/--validation needs --scoring/);
    expect(usage(["--dataset", "wdbc", "--scoring", "--validation", "1"])).toBe('--validation: Too big: expected number to be <1 (got "1")');
  });
});

describe("parseSimulateFlags --codec", () => {
  it("takes plain codec names and sparse codec specs, spelled canonically", () => {
    // Execute
    const parsed = ["float32", "int8", "int4:64", "topk:0.1+int8", "randk:.1+int8"].map((codec) => parseSimulateFlags(["--dataset", "wdbc", "--codec", codec]).codec);
    const bare = parseSimulateFlags(["--dataset", "wdbc"]).codec;

    // Assert
    expect(parsed).toEqual(["float32", "int8", "int4:64", "topk:0.1+int8", "randk:0.1+int8"]);
    expect(bare).toBe("float32");
  });

  it("names the flag and the spec it refused", () => {
    expect(usage(["--dataset", "wdbc", "--codec", "topk:2+int8"])).toBe('--codec: codec "topk:2+int8": the fraction must be a number in (0, 1], got "2"');
  });
});

describe("parseSimulateFlags --mode, --buffer, --max-staleness, --site-speed", () => {
  it("runs synchronous rounds by default and takes the asynchronous buffer and bound", () => {
    // Execute
    const sync = parseSimulateFlags(["--dataset", "wdbc"]);
    const async = parseSimulateFlags(["--dataset", "wdbc", "--mode", "async", "--buffer", "3", "--max-staleness", "5", "--site-speed", "2:10x"]);

    // Assert
    expect([sync.mode, sync.buffer, sync["site-speed"]]).toEqual(["sync", undefined, undefined]);
    expect([async.mode, async.buffer, async["max-staleness"], async["site-speed"]]).toEqual(["async", 3, 5, "2:10x"]);
  });

  it("refuses a buffer without asynchronous rounds, and an unknown mode", () => {
    expect(usage(["--dataset", "wdbc", "--buffer", "3"])).toBe("--buffer and --max-staleness need --mode async");
    expect(usage(["--dataset", "wdbc", "--mode", "eventual"])).toMatch(/^--mode: /);
  });
});
