/**
 * @module
 * Faults on a seeded schedule, for the fault suite: an object store whose operations fail before
 * they happen (a dropped request) or after (the write landed, the answer was lost: a process killed
 * right after a write), and that yields between operations so that concurrent requests interleave
 * differently; and a queue that delivers some jobs twice and in another order. The same seed
 * replays the same faults.
 */
import { MemoryJobQueue } from "../../functions/adapters/memory-job-queue.ts";
import { computeSiteStats } from "../../core/preprocess/site-stats.ts";
import { Task } from "../../core/schemas/task.ts";
import type { CoordinatorDeps } from "../../functions/deps.ts";
import type { Harness, TestSite } from "./coordinator.ts";
import { handleJobMessage } from "../../functions/jobs.ts";
import { MemoryObjectStore } from "../../functions/adapters/memory-object-store.ts";
import type { Clock, PutOptions } from "../../functions/ports.ts";
import { seededRandom } from "../../core/random.ts";

/** An injected fault: the coordinator's code must treat it as any transient failure. */
export class InjectedFault extends Error {
  override readonly name = "InjectedFault";
}

export interface ChaosRates {
  /** Share of operations that fail before they happen. */
  readonly before: number;
  /** Share of writes (put, delete) that happen and then fail, as if the process died right after. */
  readonly after: number;
}

export class ChaosStore extends MemoryObjectStore {
  readonly #rng: () => number;
  /** Faults injected so far, by kind. */
  readonly injected = { before: 0, after: 0 };
  /** While false, the store behaves (set up, and reads that check the outcome). */
  armed = false;

  constructor(
    seed: number,
    private readonly rates: ChaosRates,
    options: { clock?: Clock } = {},
  ) {
    super(options);
    this.#rng = seededRandom(seed);
  }

  async #enter(op: string, key: string): Promise<void> {
    if (!this.armed) return;
    // Yield a few turns: another request's operations may run in between.
    for (let i = Math.floor(this.#rng() * 3); i > 0; i--) await new Promise<void>((r) => setImmediate(r));
    if (this.#rng() < this.rates.before) {
      this.injected.before++;
      throw new InjectedFault(`injected failure before ${op} ${key}`);
    }
  }

  #leave(op: string, key: string): void {
    if (this.armed && this.#rng() < this.rates.after) {
      this.injected.after++;
      throw new InjectedFault(`injected failure after ${op} ${key}`);
    }
  }

  override async get(key: string): Promise<Uint8Array | null> {
    await this.#enter("get", key);
    return super.get(key);
  }

  override async getStream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    await this.#enter("getStream", key);
    return super.getStream(key);
  }

  override async head(key: string): Promise<number | null> {
    await this.#enter("head", key);
    return super.head(key);
  }

  override async list(prefix: string): Promise<string[]> {
    await this.#enter("list", prefix);
    return super.list(prefix);
  }

  override async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean> {
    await this.#enter("put", key);
    const written = await super.put(key, body, options);
    this.#leave("put", key);
    return written;
  }

  /** A site's own PUT through its presigned URL: the coordinator's faults do not reach it. */
  async siteWrite(key: string, body: Uint8Array): Promise<void> {
    await super.put(key, body);
  }

  override async delete(key: string): Promise<void> {
    await this.#enter("delete", key);
    await super.delete(key);
    this.#leave("delete", key);
  }
}

/** A queue whose receiver sees some jobs twice and in a shuffled order, as SQS may deliver them. */
export class ChaosQueue extends MemoryJobQueue {
  readonly #rng: () => number;
  duplicated = 0;

  constructor(
    seed: number,
    private readonly duplicateRate: number,
  ) {
    super();
    this.#rng = seededRandom(seed ^ 0x5eed);
  }

  override drain(): string[] {
    const jobs = super.drain().flatMap((job) => {
      if (this.#rng() >= this.duplicateRate) return [job];
      this.duplicated++;
      return [job, job];
    });
    for (let i = jobs.length - 1; i > 0; i--) {
      const j = Math.floor(this.#rng() * (i + 1));
      [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
    }
    return jobs;
  }
}

/** Attempts a caller makes before the run counts as stuck. */
export const PATIENCE = 300;

/** A request as a runner sends it: again on a 5xx or a failure to connect (an injected fault). */
export async function persist<R extends { readonly status: number }>(send: () => Promise<R>): Promise<R> {
  for (let attempt = 0; attempt < PATIENCE; attempt++) {
    const res = await send().catch((err: unknown) => {
      if (err instanceof InjectedFault) return null;
      throw err;
    });
    if (res && res.status < 500) return res;
  }
  throw new Error("a request never went through");
}

/** Runs queued jobs as SQS would: a job that fails stays queued for another delivery. */
export async function deliverJobs(deps: CoordinatorDeps, queue: ChaosQueue): Promise<void> {
  for (let pass = 0; pass < PATIENCE && queue.messages.length > 0; pass++) {
    for (const body of queue.drain()) {
      await handleJobMessage(deps, body).catch(async (err: unknown) => {
        if (!(err instanceof InjectedFault)) throw err;
        await queue.send(body);
      });
    }
  }
  if (queue.messages.length > 0) throw new Error("aggregate jobs never went through");
}

/** A site's statistics step as a runner takes it under faults: its task, then its statistics, each again on a 5xx. */
export function sendStats(h: Harness, site: TestSite): Promise<{ status: number }> {
  return persist(async () => {
    const res = await h.request("GET", "/v1/task", { token: site.token });
    if (res.status !== 200) return res;
    const task = Task.parse(res.body);
    if (task.kind !== "stats") return { status: 200 };
    return h.request("POST", "/v1/stats", { token: site.token, json: computeSiteStats(site.table, task.features) });
  });
}
