/**
 * @module
 * An in-memory `JobQueue` for unit tests of the coordinator.
 */
import type { JobQueue } from "../ports.ts";

/**
 * Collects sent jobs in `messages`, oldest first. With `fifo: true` it drops a send whose
 * `dedupeKey` was seen before, as an SQS FIFO queue does (without SQS's five-minute window).
 * @example
 * const jobs = new MemoryJobQueue();
 * await useCase({ jobs });
 * for (const body of jobs.drain()) await handleJob(body);
 */
export class MemoryJobQueue implements JobQueue {
  /** Bodies sent and not yet drained, oldest first. */
  readonly messages: string[] = [];
  readonly #fifo: boolean;
  readonly #seen = new Set<string>();

  constructor(options: { fifo?: boolean } = {}) {
    this.#fifo = options.fifo ?? false;
  }

  async send(body: string, dedupeKey?: string): Promise<void> {
    if (this.#fifo && dedupeKey !== undefined) {
      if (this.#seen.has(dedupeKey)) return;
      this.#seen.add(dedupeKey);
    }
    this.messages.push(body);
  }

  /** Removes and returns every queued body, oldest first. */
  drain(): string[] {
    return this.messages.splice(0);
  }
}
