/**
 * @module
 * Lambda entry for the job queue: each message is one aggregate job. Failures are reported per
 * message (partial batch response), so one bad message never makes SQS redeliver the others.
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { CoordinatorDeps } from "../deps.ts";
import { handleJobMessage } from "../jobs.ts";
import { lambdaDeps } from "./resources.ts";

export async function processJobBatch(deps: CoordinatorDeps, event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    try {
      const outcome = await handleJobMessage(deps, record.body);
      deps.logger.info("job done", { messageId: record.messageId, outcome });
    } catch (err) {
      deps.logger.error("job failed", { messageId: record.messageId, err: err instanceof Error ? err.message : String(err) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

export const handler = (event: SQSEvent): Promise<SQSBatchResponse> => processJobBatch(lambdaDeps(), event);
