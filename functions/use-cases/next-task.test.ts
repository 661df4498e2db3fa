import { describe, expect, it } from "vitest";
import { delta, federationConfig, Harness, T0 } from "../../test/support/coordinator.ts";

const DEADLINE = T0 + 600_000;

describe("nextTask: deadlines", () => {
  it("hands out a train task up to the round's deadline and asks the site to wait once it has passed", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    await h.submit(sites[0]!, 1, delta(1), 3);
    h.deps.clock.ms = DEADLINE;
    // Execute
    const atDeadline = await h.task(sites[1]!);
    h.deps.clock.ms = DEADLINE + 1;
    const afterDeadline = await h.task(sites[1]!);
    // Assert
    expect(atDeadline).toMatchObject({ kind: "train", round: 1, deadline: DEADLINE });
    expect(afterDeadline).toEqual({ kind: "wait", retryAfterMs: 1000, reason: "round 1 is past its deadline" });
  });
});

describe("nextTask: noisy statistics", () => {
  const bounded = {
    ...federationConfig().features,
    features: [
      { name: "age", column: "age", type: "numeric" as const, range: { min: 0, max: 120 } },
      { name: "sex", column: "sex", type: "categorical" as const, levels: ["F", "M"] },
    ],
  };
  const statsNoise = { epsilon: 1, delta: 1e-6 };

  it("refuses a noise policy whose spec lacks a range or levels, naming them", async () => {
    // Execute
    const res = await new Harness().admin("POST", "/v1/admin/federation", federationConfig({ statsNoise }));
    // Assert
    expect(res).toEqual({ status: 400, body: { error: { code: "INVALID_CONFIG", message: "noisy statistics need a range for numeric age and levels for categorical sex" } } });
  });

  it("asks for noisy statistics, then has each update weigh the row count the site reported", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.enrolSites({ features: bounded, statsNoise });
    const statsTask = await h.task(sites[0]!);
    for (const site of sites) await h.postStats(site);
    // Execute
    const train = await h.task(sites[2]!);
    // Assert
    expect(statsTask).toMatchObject({ kind: "stats", noise: statsNoise });
    expect(train).toMatchObject({ kind: "train", round: 1, weight: 4 });
  });
});
