import { Worker } from "node:worker_threads";
import { z } from "zod";
import type { Logger } from "../core/logger.ts";
import type { BackendName } from "../gpu-runner/model/backend.ts";
import { RunnerEvent } from "../gpu-runner/session/site-runner.ts";
import type { WorkerInput } from "./runner-worker.ts";

const WorkerMessage = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("event"), index: z.number().int(), event: RunnerEvent }),
  z.object({ kind: z.literal("log"), level: z.enum(["warn", "error"]), message: z.string(), fields: z.record(z.string(), z.unknown()).optional() }),
  z.object({ kind: z.literal("done") }),
  z.object({ kind: z.literal("error"), message: z.string() }),
]);

export interface PoolOptions {
  readonly coordinatorUrl: string;
  readonly backend: BackendName;
  readonly workers: number;
  readonly logger: Logger;
  readonly onEvent?: (index: number, event: RunnerEvent) => void;
  readonly signal?: AbortSignal;
}

/**
 * Runs the sites' runners in `workers` worker threads (round-robin) and resolves when all are
 * done; the first failure terminates every worker and rejects.
 */
export async function runSitesInWorkers(sites: WorkerInput["sites"], o: PoolOptions): Promise<void> {
  const groups = Array.from({ length: Math.max(1, Math.min(o.workers, sites.length)) }, (_, w) => sites.filter((_, i) => i % o.workers === w));
  const workers: Worker[] = [];
  const stopAll = () => Promise.all(workers.map((w) => w.terminate()));
  const onAbort = () => void stopAll();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await Promise.all(
      groups.map(
        (group) =>
          new Promise<void>((resolve, reject) => {
            const input: WorkerInput = { coordinatorUrl: o.coordinatorUrl, backend: o.backend, sites: group };
            // The worker runs TypeScript sources through the same loader as the CLI.
            const worker = new Worker(new URL("./runner-worker.mjs", import.meta.url), { workerData: input });
            workers.push(worker);
            worker.on("message", (raw: unknown) => {
              const m = WorkerMessage.safeParse(raw);
              if (!m.success) return reject(new Error(`runner worker sent a malformed message: ${m.error.message}`));
              if (m.data.kind === "event") o.onEvent?.(m.data.index, m.data.event);
              else if (m.data.kind === "log") o.logger[m.data.level](m.data.message, m.data.fields);
              else if (m.data.kind === "done") resolve();
              else reject(new Error(m.data.message));
            });
            worker.on("error", reject);
            worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`runner worker exited with code ${code}`))));
          }),
      ),
    );
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    await stopAll();
  }
}
