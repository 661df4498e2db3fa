import { describe, expect, it } from "vitest";
import { seededRandom } from "../../core/random.ts";
import { Task } from "../../core/schemas/task.ts";
import { layout, modelRef, preprocessing, training } from "../../test/support/schemas.ts";
import { siteOptions } from "./train-step.ts";
import { roundOptions } from "./train-rounds.ts";

function task(proximalMu?: number): Extract<Task, { kind: "train" }> {
  const t = Task.parse({
    kind: "train",
    round: 2,
    rounds: 5,
    deadline: 1_700_000_000_000,
    model: modelRef(),
    spec: { kind: "mlp", hidden: [4] },
    layout: layout(),
    preprocessing: preprocessing(),
    training: { ...training(), ...(proximalMu !== undefined && { proximalMu }) },
    codec: "float32",
    upload: { url: "https://store.example/rounds/2/a.bin", byteLength: 512 },
    seed: 11,
  });
  if (t.kind !== "train") throw new Error("not a train task");
  return t;
}

describe("siteOptions", () => {
  it("pulls a federated round towards the global body it started from", () => {
    // Prepare
    const base = Float32Array.from({ length: layout().bodySize }, (_, i) => i / 10);

    // Execute
    const opts = siteOptions(task(0.5), base, seededRandom(1));

    // Assert
    expect(opts.proximal).toEqual({ mu: 0.5, anchor: base });
    expect(opts.proximal?.anchor).toBe(base);
  });

  it("adds no proximal term when mu is absent or 0", () => {
    const base = new Float32Array(layout().bodySize);
    expect(siteOptions(task(), base, seededRandom(1))).not.toHaveProperty("proximal");
    expect(siteOptions(task(0), base, seededRandom(1))).not.toHaveProperty("proximal");
  });

  it("leaves the local-only and centralized baselines' options without it", () => {
    // Execute: trainRounds, which runs both baselines, takes its options from roundOptions.
    const opts = roundOptions(task(0.5).training, 2, 5, seededRandom(1));

    // Assert
    expect(opts).not.toHaveProperty("proximal");
  });
});
