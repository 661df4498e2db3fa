import { describe, expect, it } from "vitest";
import { handleJobMessage } from "./jobs.ts";
import { Harness } from "../test/support/coordinator.ts";

describe("handleJobMessage", () => {
  it("refuses a body that is not JSON with INVALID_JOB", async () => {
    const h = new Harness();
    await expect(handleJobMessage(h.deps, "aggregate round 1")).rejects.toMatchObject({ code: "INVALID_JOB", message: "job message is not JSON" });
  });

  it("refuses JSON that is not a known job with INVALID_JOB, naming the problem", async () => {
    // Prepare
    const h = new Harness();
    // Execute
    const unknownKind = await handleJobMessage(h.deps, JSON.stringify({ kind: "evaluate", round: 1 })).catch((error: unknown) => error);
    const badRound = await handleJobMessage(h.deps, JSON.stringify({ kind: "aggregate", federation: "test-fed", round: 0 })).catch((error: unknown) => error);
    // Assert
    expect(unknownKind).toMatchObject({ code: "INVALID_JOB", message: "job message is not a job: Invalid discriminator value. Expected 'aggregate'" });
    expect(badRound).toMatchObject({ code: "INVALID_JOB", message: "job message is not a job: Too small: expected number to be >0" });
  });

  it("runs a valid job against the store, whose errors propagate", async () => {
    const h = new Harness();
    await expect(handleJobMessage(h.deps, JSON.stringify({ kind: "aggregate", federation: "test-fed", round: 1 }))).rejects.toMatchObject({
      code: "NO_FEDERATION",
      message: "federation not found",
    });
  });
});
