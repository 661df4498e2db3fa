import { describe, expect, it } from "vitest";
import { tickMetric } from "./cron.ts";

describe("the cron's metrics", () => {
  it("writes a re-queued or skipped round as an embedded-metric-format line CloudWatch turns into a count by stage, and nothing for other ticks", () => {
    const line = tickMetric("requeued", 7, "production", 1_800_000_000_000);
    expect(JSON.parse(line!)).toEqual({
      _aws: { Timestamp: 1_800_000_000_000, CloudWatchMetrics: [{ Namespace: "Consilium", Dimensions: [["Stage"]], Metrics: [{ Name: "RoundsRequeued", Unit: "Count" }] }] },
      Stage: "production",
      RoundsRequeued: 1,
      round: 7,
    });
    expect(JSON.parse(tickMetric("skipped", 3, "eu", 0)!)).toMatchObject({ RoundsSkipped: 1, Stage: "eu", _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: "RoundsSkipped" }] }] } });
    for (const action of ["none", "queued", "opened"]) expect(tickMetric(action, 1, "eu", 0)).toBeNull();
  });
});
