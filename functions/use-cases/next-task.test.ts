import { describe, expect, it } from "vitest";
import { delta, Harness, T0 } from "../testing.ts";

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
