import type { SQSEvent, SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { delta, Harness } from "../../test/support/coordinator.ts";
import { processJobBatch } from "./aggregate.ts";

/** One SQS record as the Lambda trigger delivers it. */
function record(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: "1700000000000", SenderId: "AIDAEXAMPLE", ApproximateFirstReceiveTimestamp: "1700000000001" },
    messageAttributes: {},
    md5OfBody: "0".repeat(32),
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:consilium-jobs",
    awsRegion: "us-east-1",
  };
}

describe("processJobBatch", () => {
  it("reports exactly the malformed message as a batch item failure and still runs the valid job", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 2);
    const [job] = h.deps.queue.drain();
    const event: SQSEvent = { Records: [record("m-valid", job!), record("m-garbled", "{ not a job")] };
    // Execute
    const response = await processJobBatch(h.deps, event);
    // Assert
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "m-garbled" }] });
    expect((await h.round(1))?.status).toBe("closed");
    expect(h.deps.logger.entries.filter((e) => e.message.startsWith("job "))).toEqual([
      { level: "info", message: "job done", fields: { messageId: "m-valid", outcome: "aggregated" } },
      { level: "error", message: "job failed", fields: { messageId: "m-garbled", err: "job message is not JSON" } },
    ]);
  });

  it("fails a well-formed message that is not a job, and a job the store cannot serve, but not a redelivered one", async () => {
    // Prepare
    const h = new Harness();
    const sites = await h.startTraining();
    for (const [i, site] of sites.entries()) await h.submit(site, 1, delta(i + 1), 2);
    const [job] = h.deps.queue.drain();
    await processJobBatch(h.deps, { Records: [record("first", job!)] });
    const event: SQSEvent = {
      Records: [
        record("again", job!),
        record("not-a-job", JSON.stringify({ kind: "train", round: 1 })),
        record("no-round", JSON.stringify({ kind: "aggregate", federation: "test-fed", round: 42 })),
      ],
    };
    // Execute
    const response = await processJobBatch(h.deps, event);
    // Assert
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "not-a-job" }, { itemIdentifier: "no-round" }] });
  });

  it("answers an empty batch with no failures", async () => {
    const h = new Harness();
    expect(await processJobBatch(h.deps, { Records: [] })).toEqual({ batchItemFailures: [] });
  });
});
