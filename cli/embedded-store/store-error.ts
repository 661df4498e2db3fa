/**
 * @module
 * A refusal of the embedded store, named as S3 and SQS name it (`NoSuchKey`,
 * `SignatureDoesNotMatch`, `QueueDoesNotExist`…), so that the AWS SDK maps it to the same
 * exception a client sees from AWS.
 */
export class StoreError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "StoreError";
  }
}

/** A client error the SDK does not retry. */
export const badRequest = (code: string, message: string): StoreError => new StoreError(400, code, message);
