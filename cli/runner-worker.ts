/**
 * @module
 * A worker thread hosting some of a simulation's site runners, so that sites train on every core
 * while the main thread serves the coordinator and the embedded store. It talks to the coordinator
 * over HTTP exactly as a hospital's runner does.
 */
import { parentPort, workerData } from "node:worker_threads";
import { z } from "zod";
import { BackendName, selectBackend } from "../gpu-runner/model/backend.ts";
import { CoordinatorClient } from "../client/coordinator-client.ts";
import { parseAttack } from "../gpu-runner/simulation/attack.ts";
import { SiteSpeed } from "../gpu-runner/simulation/site-speed.ts";
import { runSite } from "../gpu-runner/session/site-runner.ts";
import { SIMULATION_RETRY } from "./simulation-retry.ts";

const TableData = z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.string())) });

export const WorkerInput = z.object({
  coordinatorUrl: z.string().url(),
  backend: z.enum(BackendName),
  sites: z.array(
    z.object({
      index: z.number().int(),
      siteId: z.string(),
      token: z.string(),
      stateDir: z.string(),
      train: TableData,
      test: TableData,
      attack: z.string().optional(),
      privacyCap: z.number().positive().optional(),
      outOfRange: z.record(z.string(), z.object({ count: z.number().int().nonnegative(), mean: z.number() })).optional(),
      speed: SiteSpeed.optional(),
      dropRounds: z.array(z.number().int().positive()).optional(),
    }),
  ),
});
export type WorkerInput = z.infer<typeof WorkerInput>;

const port = parentPort;
if (port) {
  const input = WorkerInput.parse(workerData);
  const logger = {
    info() {},
    warn: (message: string, fields?: Record<string, unknown>) => port.postMessage({ kind: "log", level: "warn", message, fields }),
    error: (message: string, fields?: Record<string, unknown>) => port.postMessage({ kind: "log", level: "error", message, fields }),
  };
  try {
    await selectBackend(input.backend);
    await Promise.all(
      input.sites.map((s) =>
        runSite({
          siteId: s.siteId,
          client: new CoordinatorClient(input.coordinatorUrl, s.token, fetch, { policy: SIMULATION_RETRY }),
          data: { train: s.train, test: s.test, ...(s.outOfRange && { outOfRange: s.outOfRange }) },
          stateDir: s.stateDir,
          attack: s.attack === undefined ? undefined : parseAttack(s.attack),
          ...(s.privacyCap !== undefined && { privacyCap: s.privacyCap }),
          ...(s.speed && { speed: s.speed }),
          ...(s.dropRounds && { dropRounds: s.dropRounds }),
          logger,
          onEvent: (event) => port.postMessage({ kind: "event", index: s.index, event }),
        }),
      ),
    );
    port.postMessage({ kind: "done" });
  } catch (err) {
    port.postMessage({ kind: "error", message: err instanceof Error ? err.message : String(err) });
  }
}
