/**
 * @module
 * The coordinator as a long-running process: the Hono app over HTTP, a loop that plays the SQS
 * trigger for aggregate jobs, and a timer that plays the deadline cron. Production runs the same
 * three pieces as Lambda functions (see infra/).
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { getRequestListener } from "@hono/node-server";
import { createApp } from "../functions/app.ts";
import type { CoordinatorDeps } from "../functions/deps.ts";
import { handleJobMessage } from "../functions/jobs.ts";
import { closeExpiredRounds } from "../functions/use-cases/close-expired-rounds.ts";
import { receiveJobs } from "./embedded-stack.ts";
import { listen, type HttpListener } from "./http-listener.ts";

export interface CoordinatorServerOptions {
  readonly deps: CoordinatorDeps;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly port?: number;
  readonly host?: string;
  /** How often the deadline check runs. */
  readonly cronMs?: number;
  /** Serve on this server (shared with the embedded store) instead of one of its own; `port` and `host` are then its. */
  readonly listener?: HttpListener;
}

export interface CoordinatorServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startCoordinator(o: CoordinatorServerOptions): Promise<CoordinatorServer> {
  const app = createApp(o.deps);
  const listener = o.listener ?? (await listen(o.host ?? "127.0.0.1", o.port ?? 0));
  listener.setApp(getRequestListener(app.fetch));
  const controller = new AbortController();
  const jobs = receiveJobs(o.sqs, o.queueUrl, async (body) => void (await handleJobMessage(o.deps, body)), {
    signal: controller.signal,
    waitTimeSeconds: 1,
    retryDelaySeconds: 1,
    logger: o.deps.logger,
  });
  // One tick at a time, and stop() waits for the one in flight, so that none outlives the store.
  let tick: Promise<void> | null = null;
  const cron = setInterval(() => {
    tick ??= closeExpiredRounds(o.deps)
      .then(() => undefined)
      .catch((err: unknown) => {
        if (!(err instanceof Error && "code" in err && err.code === "NO_FEDERATION")) o.deps.logger.error("deadline check failed", { err: String(err) });
      })
      .finally(() => {
        tick = null;
      });
  }, o.cronMs ?? 1000);
  return {
    url: listener.url,
    async stop() {
      clearInterval(cron);
      await tick;
      controller.abort();
      await jobs;
      listener.setApp(null);
      if (!o.listener) await listener.close();
    },
  };
}
