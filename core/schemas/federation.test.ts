import { describe, expect, it } from "vitest";
import { FederationConfig, TrainingConfig } from "./federation.ts";
import { featureSpec, federationInput, issuesOf, training } from "../../test/support/schemas.ts";

const config = federationInput;

describe("FederationConfig", () => {
  it("parses a federation's agreement, keeping every field", () => {
    // Execute and Assert
    expect(FederationConfig.parse(config())).toMatchObject(config());
  });

  it.each([
    ["int8", "int8"],
    ["float32", "float32"],
    ["topk:0.1+int8", "topk:0.1+int8"],
    ["randk:.05+int8", "randk:0.05+int8"],
  ])("takes codec spec %s, spelled %s", (codec, spelled) => {
    // Execute
    const parsed = FederationConfig.parse({ ...config(), codec });

    // Assert
    expect(parsed.codec).toBe(spelled);
  });

  it("takes a bound on update values, and leaves it unset when absent (older agreements)", () => {
    // Execute
    const bounded = FederationConfig.parse({ ...config(), maxUpdateAbs: 100 });
    const older = FederationConfig.parse(config());

    // Assert
    expect(bounded.maxUpdateAbs).toBe(100);
    expect(older).not.toHaveProperty("maxUpdateAbs");
  });

  it("fills in training defaults: no weight decay, 50 head epochs, head L2 0.01", () => {
    // Prepare
    const { l2: _, headEpochs: __, headL2: ___, ...bare } = training();

    // Execute
    const parsed = TrainingConfig.parse(bare);

    // Assert
    expect(parsed).toMatchObject({ ...bare, l2: 0, headEpochs: 50, headL2: 0.01 });
  });

  it("takes FedProx's mu, and leaves it unset when absent (proximal term off)", () => {
    // Execute
    const pulled = TrainingConfig.parse({ ...training(), proximalMu: 0.01 });
    const off = TrainingConfig.parse({ ...training(), proximalMu: 0 });
    const older = TrainingConfig.parse(training());

    // Assert
    expect(pulled.proximalMu).toBe(0.01);
    expect(off.proximalMu).toBe(0);
    expect(older).not.toHaveProperty("proximalMu");
  });

  it.each([
    ["an id with capitals", { id: "Heart" }, [["id", "Invalid string: must match pattern /^[a-z0-9][a-z0-9-]{0,62}$/"]]],
    [
      "an unknown codec",
      { codec: "gzip" },
      [["codec", 'unknown codec "gzip": expected float32, float16, int8[:CHUNK], int4[:CHUNK], topk:FRACTION+int8, topk:FRACTION+float16 or randk:FRACTION+int8']],
    ],
    ["a sparse codec that keeps nothing", { codec: "topk:0+int8" }, [["codec", 'codec "topk:0+int8": the fraction must be a number in (0, 1], got "0"']]],
    ["zero rounds", { rounds: 0 }, [["rounds", "Too small: expected number to be >=1"]]],
    ["an empty strategy", { strategy: "" }, [["strategy", "Too small: expected string to have >=1 characters"]]],
    ["a fractional seed", { seed: 1.5 }, [["seed", "Invalid input: expected int, received number"]]],
    ["a zero learning rate", { training: { ...training(), learningRate: 0 } }, [["training.learningRate", "Too small: expected number to be >0"]]],
    ["an unknown model", { model: { kind: "rnn" } }, [["model.kind", "Invalid discriminator value. Expected 'logreg' | 'mlp' | 'cnn'"]]],
    ["a zero bound on update values", { maxUpdateAbs: 0 }, [["maxUpdateAbs", "Too small: expected number to be >0"]]],
    ["a negative proximal mu", { training: { ...training(), proximalMu: -0.1 } }, [["training.proximalMu", "Too small: expected number to be >=0"]]],
    ["a proximal mu above 100", { training: { ...training(), learningRate: 0.001, proximalMu: 101 } }, [["training.proximalMu", "Too big: expected number to be <=100"]]],
    [
      "a proximal mu whose step overshoots (mu × learning rate 1)",
      { training: { ...training(), learningRate: 0.1, proximalMu: 10 } },
      [["training.proximalMu", "proximalMu × learningRate must be below 1: a larger product overshoots the global body at every step"]],
    ],
    [
      "a random-k down-link",
      { downlinkCodec: "randk:0.1+int8" },
      [["downlinkCodec", "random-k cannot compress the down-link (its rescaled deltas overshoot the model); use int8, int4, float16 or topk"]],
    ],
    ["a down-link codec that is not one", { downlinkCodec: "zip" }, [["downlinkCodec", 'unknown codec "zip": expected float32, float16, int8[:CHUNK], int4[:CHUNK], topk:FRACTION+int8, topk:FRACTION+float16 or randk:FRACTION+int8']]],
  ])("rejects %s", (_, patch, expected) => {
    // Execute and Assert
    expect(issuesOf(FederationConfig, { ...config(), ...patch })).toEqual(expected);
  });

  it("names a missing field", () => {
    // Prepare
    const { roundDeadlineSeconds: _, ...rest } = config();

    // Execute and Assert
    expect(issuesOf(FederationConfig, rest)).toEqual([["roundDeadlineSeconds", "Invalid input: expected number, received undefined"]]);
  });
});
